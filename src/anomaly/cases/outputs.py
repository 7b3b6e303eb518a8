"""Write what scoring found, in the format of records.md ("What the pipeline hands back").

cases.csv, cases.parquet   ranked cases (case_id, subject_type, subject_id,
                           risk_score, rank, rules, evidence, summary, findings), ranked
                           with what the verdicts taught; unlearned_risk, unlearned_rank:
                           the score and place among every subject before
flags.csv                  one row per finding on one record (the spec's columns, and
                           unlearned_score)
watchlist.csv              subjects with findings below the case threshold
rule_outcomes.csv          per rule: ran or not (and why), flags, subjects, health, and
                           what its verdicts taught everywhere (not its running time: the
                           same run gives the same bytes)
insufficient_data.csv      subjects a rule could not judge, with the reason
learned_weights.csv        per rule, everywhere and per institution: verdicts confirmed and
                           dismissed, weight before and learned, unreviewed cases moved;
                           like: the institution whose habit an unreviewed one borrowed,
                           per_1000: the rule's firing rate at the institution
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from anomaly.office.files import private_folder, write_csv, write_parquet
from anomaly.rules.rule import FLAG_COLUMNS
from anomaly.runs.catalogue import RunFiles
from anomaly.scoring.case_scoring import Scored
from anomaly.scoring.verdict_learning import EVERYWHERE

SPEC_FLAG_COLUMNS = ["flag_id", *(c for c in FLAG_COLUMNS if c != "evidence"), "unlearned_score"]
"""flags.csv as records.md fixes it (the evidence of a finding goes into its case), and the
score before the verdicts were counted."""
LEARNED_IN_OUTCOMES = {"confirmed": "verdicts_confirmed", "dismissed": "verdicts_dismissed",
                       "prior": "weight_before", "weight": "weight_learned",
                       "moved_up": "cases_moved_up", "moved_down": "cases_moved_down"}  # fmt: skip


def write_scored(scored: Scored, out: Path | str) -> None:
    files = RunFiles.of(private_folder(out))
    write_csv(scored.cases, files.cases)
    write_parquet(scored.cases, files.cases_parquet)
    write_csv(scored.flags[SPEC_FLAG_COLUMNS], files.flags)
    write_csv(scored.watchlist, files.watchlist)
    write_csv(_outcomes(scored), files.rule_outcomes)
    write_csv(scored.insufficient, files.insufficient)
    write_csv(scored.learned, files.learned_weights)


def _outcomes(scored: Scored) -> pd.DataFrame:
    """rule_outcomes.csv: each rule's run and health, and what its verdicts taught everywhere."""
    learned = scored.learned[scored.learned["facility_id"].eq(EVERYWHERE)]
    learned = learned.drop(columns="facility_id").rename(columns=LEARNED_IN_OUTCOMES)
    out = scored.rule_summary.drop(columns=["seconds"]).merge(learned, on="rule", how="left")
    counts = ["verdicts_confirmed", "verdicts_dismissed", "cases_moved_up", "cases_moved_down"]
    return out.fillna({c: 0 for c in counts}).astype({c: int for c in counts})
