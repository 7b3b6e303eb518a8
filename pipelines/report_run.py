"""Flow: record the run's cases in the case store, write the agency report and the export.

The store applies the analysts' verdicts (a feedback file, if given, first),
keeps dismissed cases quiet unless new evidence appears, and the report
shows every raised case with its status. Artifacts carry pseudonyms only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from anomaly.agency_report import ReportInputs, render_report
from anomaly.case_store import CaseStore
from anomaly.pseudonymisation import Pseudonymiser, load_or_create_key, people_ids
from anomaly.rulebook import load_rulebook
from anomaly.run_folder import read_accepted, read_scored, read_summary
from pipelines.run_settings import RunSettings

EXPORT_COLUMNS = ["case_id", "subject_type", "subject_id", "risk_score", "rank", "rules",
                  "evidence", "summary", "status", "first_seen"]  # fmt: skip


@task(retries=2, retry_delay_seconds=5)
def update_store(settings: RunSettings, run_id: str) -> dict[str, int]:
    """Apply feedback, record the run; write raised_cases.csv and quiet_cases.csv."""
    scored = read_scored(settings.out)
    with CaseStore(settings.store_path) as store:
        applied = store.apply_feedback_file(settings.feedback) if settings.feedback else 0
        stored = store.record_run(scored["cases"], run_id, pd.Timestamp(settings.day))
    stored.raised.to_csv(settings.out / "raised_cases.csv", index=False)
    stored.quiet.to_csv(settings.out / "quiet_cases.csv", index=False)
    return {"verdicts_applied": applied, "raised": len(stored.raised), "quiet": len(stored.quiet)}


@task
def write_report(settings: RunSettings, run_id: str) -> Path:
    scored = read_scored(settings.out)
    raised = pd.read_csv(settings.out / "raised_cases.csv", dtype={"subject_id": str})
    quiet = pd.read_csv(settings.out / "quiet_cases.csv", dtype={"subject_id": str})
    inputs = ReportInputs(
        run_id=run_id,
        summary=read_summary(settings.out),
        cases=raised,
        quiet=quiet,
        flags=scored["flags"],
        rule_outcomes=scored["rule_outcomes"],
        insufficient=scored["insufficient"],
        tables=read_accepted(settings.out),
        rulebook=load_rulebook(settings.rules),
    )
    path = settings.out / "report.html"
    path.write_text(render_report(inputs), encoding="utf-8")
    return path


@task
def write_export(settings: RunSettings) -> Path:
    """Pseudonymised cases and flags in out/export (and the top ones as an artifact).

    The mapping back stays in out/, with the office."""
    pseudonymise = Pseudonymiser(load_or_create_key(settings.key_path))
    raised = pd.read_csv(settings.out / "raised_cases.csv", dtype=str)[EXPORT_COLUMNS]
    flags = pd.read_csv(settings.out / "flags.csv", dtype=str)
    people = people_ids(read_accepted(settings.out, only=("convicts", "persons", "staff")))
    export = settings.out / "export"
    export.mkdir(parents=True, exist_ok=True)
    public = pseudonymise.frame(raised, people)
    public.to_csv(export / "cases.csv", index=False)
    pseudonymise.frame(flags, people).to_csv(export / "flags.csv", index=False)
    pseudonymise.mapping_frame().to_csv(settings.out / "pseudonym_map.csv", index=False)
    top = public.head(10)[["rank", "case_id", "subject_type", "subject_id", "risk_score",
                           "rules", "status"]]  # fmt: skip
    create_table_artifact(
        key="top-cases", table=top.to_dict("records"),
        description="Top cases of the run (pseudonymous subject ids)",
    )  # fmt: skip
    return export


@flow(name="report")
def report_flow(settings: RunSettings, run_id: str) -> dict[str, Any]:
    counts = update_store(settings, run_id)
    report = write_report(settings, run_id)
    write_export(settings)
    get_run_logger().info(
        "%s cases raised, %s kept quiet, %s verdicts applied; report at %s",
        counts["raised"], counts["quiet"], counts["verdicts_applied"], report.name,
    )  # fmt: skip
    return {**counts, "report": str(report)}


def run_summary_markdown(run_id: str, summary: dict, scoring: dict, report: dict) -> str:
    """The run summary artifact: counts only, no identifiers."""
    totals = summary["totals"]
    return "\n".join([
        f"# Oversight run {run_id}",
        "",
        f"- rows read {totals['rows_read']}, accepted {totals['accepted']}, "
        f"quarantined {totals['quarantined']}",
        f"- findings {scoring['findings']}, cases {scoring['cases']}, "
        f"watch list {scoring['watchlist']}, rules not run {scoring['rules_not_run']}",
        f"- raised {report['raised']}, kept quiet (dismissed) {report['quiet']}, "
        f"verdicts applied {report['verdicts_applied']}",
        f"- optional tables missing: {', '.join(summary['optional_tables_missing']) or 'none'}",
    ])  # fmt: skip


def publish_summary(markdown: str) -> None:
    create_markdown_artifact(key="run-summary", markdown=markdown, description="Run summary")
