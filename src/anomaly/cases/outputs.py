"""Write what scoring found, in the format of records.md ("What the pipeline hands back").

cases.csv, cases.parquet   ranked cases (case_id, subject_type, subject_id,
                           risk_score, rank, rules, evidence, summary, findings)
flags.csv                  one row per finding on one record (the spec's columns)
watchlist.csv              subjects with findings below the case threshold
rule_outcomes.csv          per rule: ran or not (and why), flags, subjects, health
                           (not its running time: the same run gives the same bytes)
insufficient_data.csv      subjects a rule could not judge, with the reason
"""

from __future__ import annotations

from pathlib import Path

from anomaly.office.files import private_folder, write_csv, write_parquet
from anomaly.rules.rule import FLAG_COLUMNS
from anomaly.runs.catalogue import RunFiles
from anomaly.scoring.case_scoring import Scored

SPEC_FLAG_COLUMNS = ["flag_id", *(c for c in FLAG_COLUMNS if c != "evidence")]
"""flags.csv as records.md fixes it (the evidence of a finding goes into its case)."""


def write_scored(scored: Scored, out: Path | str) -> None:
    files = RunFiles.of(private_folder(out))
    write_csv(scored.cases, files.cases)
    write_parquet(scored.cases, files.cases_parquet)
    write_csv(scored.flags[SPEC_FLAG_COLUMNS], files.flags)
    write_csv(scored.watchlist, files.watchlist)
    write_csv(scored.rule_summary.drop(columns=["seconds"]), files.rule_outcomes)
    write_csv(scored.insufficient, files.insufficient)
