"""The agency report: one self-contained HTML file per run (Jinja2, figures embedded).

Sections: the overview (records read and quarantined, checks that could not
run and why, assumed rule values in force), the ranked cases with their
evidence tables, rule citations linking to the rule pages (embedded as an
appendix so the file stands alone) and a timeline per top case, then
the per-institution and per-region views.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from anomaly.ingest.record_schema import TABLES_BY_NAME, evidence_refs
from anomaly.network.visitor_network import build as build_network
from anomaly.report import figures as figures
from anomaly.report import network_figures
from anomaly.rulebook import Rulebook
from anomaly.rules import RULES_BY_CODE
from anomaly.shipped_files import shipped_folder

RULE_PAGES = shipped_folder("rule_pages")
RULE_PAGE_LINK = re.compile(r"([A-Z]+(?:-[A-Z]+)*)\.md")  # a link from one rule page to another
TOP_CASES = 20
TIMELINES = 10
NETWORK_PICTURES = 20  # person cases drawn in the section on the visitor network
EVIDENCE_COLUMNS = {
    "visit_logs": ["convict_id", "facility_id", "visitor_person_id", "visit_type", "started_at",
                   "ended_at", "registration_id", "logged_by", "recorded_at"],
    "long_visit_registrations": ["convict_id", "visitor_person_id", "decision", "planned_start",
                                 "planned_days", "basis", "decided_by"],
    "transfers": ["convict_id", "from_facility_id", "to_facility_id", "departed_on", "ground",
                  "consent", "order_no", "decided_by"],
    "condition_changes": ["convict_id", "facility_id", "changed_on", "from_condition",
                          "to_condition", "decided_by", "recorded_at"],
    "degree_assignments": ["convict_id", "facility_id", "assigned_on", "degree", "decided_by",
                           "recorded_at"],
    "disciplinary_events": ["convict_id", "facility_id", "occurred_on", "kind", "measure",
                            "decided_by", "recorded_at"],
    "persons": ["birth_date", "death_date", "convict_id"],
    "convicts": ["home_region_id", "court_security_level", "sentence_start", "released_on"],
    "staff": ["facility_id", "role", "from_date", "to_date"],
    "facilities": ["region_id", "security_level", "capacity", "long_visit_rooms", "closed_on"],
}  # fmt: skip


@dataclass(frozen=True)
class ReportInputs:
    run_id: str
    summary: dict[str, Any]  # validation summary
    cases: pd.DataFrame  # raised cases with status (and verdict) from the store
    quiet: pd.DataFrame  # dismissed cases found again without new evidence
    flags: pd.DataFrame
    rule_outcomes: pd.DataFrame
    insufficient: pd.DataFrame
    learned: pd.DataFrame  # what the verdicts taught (learned_weights.csv)
    queue: pd.DataFrame  # what to review next (review_queue.csv)
    tables: dict[str, pd.DataFrame]  # accepted tables
    rulebook: Rulebook


def render_report(inputs: ReportInputs) -> str:
    """The report as one HTML string."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    return env.get_template("agency_report.html.j2").render(**_context(inputs))


def _context(inputs: ReportInputs) -> dict[str, Any]:
    top = inputs.cases.head(TOP_CASES)
    flagged_refs = set(inputs.flags["table"] + ":" + inputs.flags["record_id"].astype(str))
    cases = []
    for position, case in enumerate(top.itertuples(index=False)):
        refs = evidence_refs(case.evidence)
        timeline = None
        if position < TIMELINES:
            timeline = figures.case_timeline(
                inputs.tables, case.subject_type, case.subject_id, set(refs) & flagged_refs
            )
        cases.append({
            "case": case._asdict(),
            "rules": str(case.rules).split(";"),
            "evidence": _evidence_tables(refs, inputs.tables, inputs.flags),
            "timeline": timeline,
        })  # fmt: skip
    by_facility, by_region, heat = _institution_views(inputs)
    outcomes = inputs.rule_outcomes
    lacking = inputs.insufficient.groupby(["rule", "reason"]).size().rename("subjects")
    return {
        "run_id": inputs.run_id,
        "summary": inputs.summary,
        "cases": cases,
        "all_cases": _records(inputs.cases),
        "quiet": _records(inputs.quiet),
        "not_run": outcomes[outcomes["status"].ne("ran")].to_dict("records"),
        "insufficient": lacking.reset_index().to_dict("records"),
        "assumed": inputs.rulebook.assumed_values(),
        "overridden": inputs.rulebook.overridden_values(),
        "rule_outcomes": _records(outcomes),
        "loud": _records(outcomes[outcomes["damping"].lt(1)]),
        "concentrated": _records(
            outcomes[outcomes["health"].fillna("").str.contains("concentrated")]
        ),
        "facility_figure": figures.flags_per_thousand(by_facility, "Findings per 1,000 convicts"),
        "region_figure": figures.flags_per_thousand(by_region, "Findings per 1,000 convicts"),
        "heat_figure": figures.rule_heat_map(heat, "Findings by institution and rule"),
        "region_table": by_region.round(1).sort_values(ascending=False).to_dict(),
        **_network_views(inputs),
        "learned": _lessons(inputs.learned),
        "queue": _records(inputs.queue),
        "rule_pages": _rule_pages(),
        "rules": RULES_BY_CODE,  # statement and legal basis beside each rule's outcome
    }  # fmt: skip


def _network_views(inputs: ReportInputs) -> dict[str, Any]:
    """The national picture of shared visitors, and the ties of each person case."""
    tables = inputs.tables
    if not all(t in tables for t in ("kinship", "persons", "convicts", "transfers")):
        return {"network_figure": None, "network_cases": [], "network_more": 0}
    network = build_network(tables)
    national = None
    if "facilities" in tables and "regions" in tables:
        national = network_figures.institutions_by_shared_visitors(
            network, tables["facilities"], tables["regions"]
        )
    people = inputs.cases[inputs.cases["subject_type"].eq("person")]
    held = network_figures.held_at(tables)
    drawn = [
        {**case, "figure": network_figures.neighbourhood(network, str(case["subject_id"]), held)}
        for case in _records(people.head(NETWORK_PICTURES))
    ]
    return {"network_figure": national, "network_cases": drawn,
            "network_more": max(0, len(people) - NETWORK_PICTURES)}  # fmt: skip


def _lessons(learned: pd.DataFrame) -> list[str]:
    """What the verdicts taught, one sentence per rule (everywhere) and rule at an institution,
    the largest change first: "REC-LATE at institution X: 0 of 7 confirmed; weight 0.90 ->
    0.23; 214 unreviewed cases moved down, 3 up"."""
    if learned.empty:
        return []
    rows = learned.assign(change=(learned["weight"] - learned["prior"]).abs())
    lines = []
    for r in rows.sort_values(["change", "rule"], ascending=[False, True]).itertuples():
        place = (
            f" at institution {r.facility_id}"
            if isinstance(r.facility_id, str) and r.facility_id
            else " everywhere"
        )
        judged = int(r.confirmed) + int(r.dismissed)
        like = getattr(r, "like", "")  # learned_weights.csv of an older run has no lender
        taught = (
            f"no verdict; fires at {r.per_1000:g} per 1,000 records, like institution {like}"
            if isinstance(like, str) and like
            else f"{int(r.confirmed)} of {judged} confirmed"
        )
        lines.append(
            f"{r.rule}{place}: {taught}; weight {r.prior:.2f} -> "
            f"{r.weight:.2f}; {int(r.moved_down)} unreviewed cases moved down, {int(r.moved_up)} up"
        )
    return lines


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts with None (not NaN) for missing cells, for the template."""
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def _evidence_tables(refs, tables, flags) -> list[dict[str, Any]]:
    """Per table: the cited rows (key columns) and the findings on each."""
    wanted: dict[str, list[str]] = {}
    for ref in refs:
        table, _, record = ref.partition(":")
        wanted.setdefault(table, []).append(record)
    out = []
    for table, records in wanted.items():
        if table not in tables or table == "kinship":
            continue
        key = TABLES_BY_NAME[table].key[0]
        frame = tables[table]
        rows = frame[frame[key].astype(str).isin(records)]
        columns = [c for c in EVIDENCE_COLUMNS.get(table, []) if c in rows.columns]
        mine = flags[flags["table"].eq(table) & flags["record_id"].isin(records)]
        notes = mine.groupby("record_id")["explanation"].agg(" / ".join)
        body = [
            [str(r[key]), *[_cell(r[c]) for c in columns], notes.get(str(r[key]), "")]
            for _, r in rows.iterrows()
        ]
        out.append({"table": table, "columns": [key, *columns, "finding"], "rows": body})
    return out


def _cell(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return (
            value.strftime("%Y-%m-%d %H:%M")
            if value.hour or value.minute
            else value.strftime("%Y-%m-%d")
        )
    return str(value)


def _institution_views(inputs: ReportInputs) -> tuple[pd.Series, pd.Series, pd.DataFrame]:
    """Findings per 1,000 convicts by institution and region; findings by institution and rule."""
    present = inputs.tables["condition_changes"].groupby("facility_id")["convict_id"].nunique()
    flags = inputs.flags.dropna(subset=["facility_id"])
    per_facility = flags.groupby("facility_id").size().reindex(present.index, fill_value=0)
    by_facility = (1000 * per_facility / present.clip(lower=1)).fillna(0)
    region = inputs.tables["facilities"].set_index("facility_id")["region_id"]
    by_region = (
        1000 * per_facility.groupby(region).sum() / present.groupby(region).sum().clip(lower=1)
    ).fillna(0)
    heat = flags.groupby(["facility_id", "rule"]).size().unstack(fill_value=0)
    if heat.empty:
        heat = pd.DataFrame(0, index=["none"], columns=["none"])
    return by_facility, by_region, heat


def _rule_pages() -> list[dict[str, str]]:
    pages = []
    for path in sorted(RULE_PAGES.glob("*.md")):
        if path.stem != "README":
            pages.append({"code": path.stem, "html": _markdown(path.read_text(encoding="utf-8"))})
    return pages


def _markdown(text: str) -> str:
    """A rule page as HTML (CommonMark and tables; raw HTML in a page is escaped).

    Headings move down two levels: a page's title sits under the report's own
    headings. A link to another rule's page points to that page in the report;
    a link to a file beside the pages (an example, the docs) keeps its text
    only, since the report travels alone."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = parser.parse(text)
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(6, int(token.tag[1]) + 2)}"
        if token.children:
            token.children = _report_links(token.children)
    return parser.renderer.render(tokens, parser.options, {})


def _report_links(children: list) -> list:
    kept, dropped = [], 0
    for child in children:
        if child.type == "link_open":
            href = str(child.attrGet("href") or "")
            page = RULE_PAGE_LINK.fullmatch(href)
            if page:
                child.attrSet("href", f"#rule-{page.group(1)}")
            elif "://" not in href and not href.startswith("#"):
                dropped += 1
                continue
        elif child.type == "link_close" and dropped:
            dropped -= 1
            continue
        kept.append(child)
    return kept
