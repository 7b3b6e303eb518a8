"""The visitor network: time building it and its rules, and measure what they catch; print it.

    python benchmarks/visitor_network.py --scale national --seeds 2027 2028 \\
        --dialects standard hospitals mixed_conventions other_ids

For each dialect and seed: the synthetic world (generated into OUT if not
there) is loaded, validated and scored once. Printed per world:

- seconds to build the network (ties, families) and its graph, and per NET rule;
- per outsider scheme (one person as the kin of many, visits under another
  convict's name): the planted persons whose own case (``subject_type``
  ``person``) is in the top K, and the instances caught in the top K by any case;
- per lawful pattern (parents of convicted brothers, released brothers'
  visits): the labelled persons with a finding of a NET rule;
- NET findings on persons no planted scheme involves (neither its subject nor the
  visitor of a visit it cites).

Targets (issue 16): the outsider schemes caught in the top K at >= 0.95 on
every dialect, no lawful pattern flagged, the network built in under 5 s at
national scale and 60 s at large scale.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd
from score_drop import append_figures, snapshot_of, world_drop

OUTSIDERS = ("kin_of_many", "visits_under_other_name")
LAWFUL = ("parent_of_convicted_brothers", "released_brother_visits")
DIALECTS = ["standard", "hospitals", "mixed_conventions", "other_ids"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="national")
    parser.add_argument("--seeds", type=int, nargs="+", default=[2027])
    parser.add_argument("--dialects", nargs="+", default=DIALECTS)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    rows = [measure(args.scale, seed, d, args.out) for d in args.dialects for seed in args.seeds]
    print(table(rows))


def measure(scale: str, seed: int, dialect: str, out: Path) -> dict:
    from anomaly.contracts.suites import load_contracts
    from anomaly.contracts.validation import validate_drop
    from anomaly.evaluation import catching
    from anomaly.ingest.drop_loading import load_drop
    from anomaly.network.visitor_network import visitor_network
    from anomaly.rules import RULES
    from anomaly.scoring.case_scoring import score

    drop, labels_file = world_drop(scale, seed, dialect, out)
    labels = pd.read_csv(labels_file, dtype=str, keep_default_na=False)
    loaded = load_drop(drop)
    snapshot = snapshot_of(loaded, validate_drop(loaded, load_contracts()))
    figures: dict = {"scale": scale, "dialect": dialect, "seed": seed}
    began = time.perf_counter()
    network = visitor_network(snapshot)
    figures["network_s"] = round(time.perf_counter() - began, 2)
    began = time.perf_counter()
    graph = network.graph
    figures |= {"graph_s": round(time.perf_counter() - began, 2),
                "nodes": graph.number_of_nodes(), "edges": graph.number_of_edges()}  # fmt: skip
    net_flags = []
    for rule in (r for r in RULES if r.code.startswith("NET-")):
        began = time.perf_counter()
        net_flags.append(rule.check(snapshot).flags)
        figures[f"{rule.code}_s"] = round(time.perf_counter() - began, 2)
    flagged = set(pd.concat(net_flags)["record_id"])
    scored = score(snapshot)
    k = 2 * int(labels["kind"].eq("scheme").sum())
    top = scored.cases.sort_values("rank").head(k)
    caught = set(catching(top, labels)["instance_id"])
    person_cases = set(top.loc[top["subject_type"].eq("person"), "subject_id"])
    planted_persons: set[str] = set()
    for code in OUTSIDERS:
        mine = labels[labels["code"].eq(code)]
        planted_persons |= set(mine["subject_id"])
        figures[f"{code}"] = len(mine)
        figures[f"{code}_person_case_top_k"] = int(mine["subject_id"].isin(person_cases).sum())
        figures[f"{code}_caught_top_k"] = int(mine["instance_id"].isin(caught).sum())
    for code in LAWFUL:
        persons = set(_persons(labels[labels["code"].eq(code)]))
        figures[code] = len(persons)
        figures[f"{code}_flagged"] = len(persons & flagged)
    figures["net_findings_unplanted"] = len(flagged - planted_persons - _visitors(snapshot, labels))
    print(f"== {scale} / {dialect} / seed {seed}: "
          + ", ".join(f"{a} {b}" for a, b in figures.items()))  # fmt: skip
    append_figures(out / "visitor_network.csv", figures)
    return figures


def _visitors(snapshot, labels: pd.DataFrame) -> set[str]:
    """The visitors of the visits any planted scheme cites (one outsider visiting many)."""
    refs = labels.loc[labels["kind"].eq("scheme"), "records"].str.split(";").explode()
    visits = set(refs[refs.str.startswith("visit_logs:")].str.removeprefix("visit_logs:"))
    logs = snapshot["visit_logs"]
    return set(logs.loc[logs["visit_id"].astype(str).isin(visits), "visitor_person_id"].dropna())


def _persons(labels: pd.DataFrame) -> list[str]:
    refs = labels["records"].str.split(";").explode()
    return list(refs[refs.str.startswith("persons:")].str.removeprefix("persons:"))


def table(rows: list[dict]) -> str:
    lines = [
        "| dialect | seed | network s | NET rules s | kin of many: person case in top K"
        " | visits under another name: person case in top K | lawful patterns flagged"
        " | NET findings on persons no scheme involves | targets |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        rules = sum(v for key, v in r.items() if key.startswith("NET-") and key.endswith("_s"))
        lawful = sum(r[f"{c}_flagged"] for c in LAWFUL)
        lawful_n = sum(r[c] for c in LAWFUL)
        share = [r[f"{c}_person_case_top_k"] / max(r[c], 1) for c in OUTSIDERS]
        met = min(share) >= 0.95 and lawful == 0
        lines.append(
            f"| {r['dialect']} | {r['seed']} | {r['network_s'] + r['graph_s']:.2f} | {rules:.2f}"
            f" | {r['kin_of_many_person_case_top_k']}/{r['kin_of_many']}"
            f" | {r['visits_under_other_name_person_case_top_k']}/{r['visits_under_other_name']}"
            f" | {lawful}/{lawful_n} | {r['net_findings_unplanted']}"
            f" | {'met' if met else 'MISSED'} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
