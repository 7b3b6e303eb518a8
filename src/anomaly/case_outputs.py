"""Write what scoring found, in the format of records.md ("What the pipeline hands back").

cases.csv, cases.parquet   ranked cases (case_id, subject_type, subject_id,
                           risk_score, rank, rules, evidence, summary, findings)
flags.csv                  one row per finding on one record (the spec's columns)
watchlist.csv              subjects with findings below the case threshold
rule_outcomes.csv          per rule: ran or not (and why), flags, subjects
insufficient_data.csv      subjects a rule could not judge, with the reason
"""

from __future__ import annotations

from pathlib import Path

from anomaly.rules.rule import FLAG_COLUMNS
from anomaly.scoring import Scored

SPEC_FLAG_COLUMNS = ["flag_id", *(c for c in FLAG_COLUMNS if c != "evidence")]
"""flags.csv as records.md fixes it (the evidence of a finding goes into its case)."""


def write_scored(scored: Scored, out: Path | str) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    scored.cases.to_csv(out / "cases.csv", index=False)
    scored.cases.to_parquet(out / "cases.parquet", index=False)
    scored.flags[SPEC_FLAG_COLUMNS].to_csv(out / "flags.csv", index=False)
    scored.watchlist.to_csv(out / "watchlist.csv", index=False)
    scored.rule_summary.to_csv(out / "rule_outcomes.csv", index=False)
    scored.insufficient.to_csv(out / "insufficient_data.csv", index=False)
