"""Score a snapshot: rules, statistical detectors, cases (docs/scoring.md).

Pure: takes a snapshot, returns frames. Writing them is ``cases.outputs``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

from anomaly.cases.assembly import assemble_cases, case_id, findings_by_case, ranked_risk
from anomaly.outliers.detectors import DETECTORS, run_detectors
from anomaly.registry.snapshot import Snapshot
from anomaly.rules import RULES
from anomaly.rules.rule import FLAG_COLUMNS
from anomaly.scoring.finding_recency import weighed_by_age
from anomaly.scoring.rule_engine import RuleRun, run_rules
from anomaly.scoring.rule_health import damped, firing_by_institution, rule_health
from anomaly.scoring.verdict_learning import (
    VerdictLabels,
    borrowed_weights,
    habit_rules,
    learned_weights,
    relearned,
    what_moved,
)

SUBJECTS = {**{r.code: r.subject for r in RULES}, **{d.code: d.subject for d in DETECTORS}}


@dataclass(frozen=True)
class Scored:
    flags: pd.DataFrame  # every finding, FLAG_COLUMNS + flag_id
    cases: pd.DataFrame  # ranked cases at or above the case threshold
    watchlist: pd.DataFrame  # subjects with findings below the threshold
    rule_summary: pd.DataFrame
    insufficient: pd.DataFrame
    learned: pd.DataFrame  # what the verdicts taught (verdict_learning.WEIGHT_COLUMNS + moved)


def score(snapshot: Snapshot, verdicts: VerdictLabels | None = None) -> Scored:
    """Run every rule and detector; group the findings into ranked cases."""
    return score_rule_run(snapshot, run_rules(snapshot), verdicts)


def score_rule_run(
    snapshot: Snapshot, rules: RuleRun, verdicts: VerdictLabels | None = None
) -> Scored:
    """Detectors (they read the rule flags too) and cases, once the rules have run.

    ``rules`` may come from one process or be gathered from partitions
    (``scoring.partitions``): flags are put in one canonical order here, so
    both give the same output. Rule findings are weighed by their age
    (``scoring.finding_recency``), by their rule's health in this run
    (``scoring.rule_health``) and by what the analysts' ``verdicts`` taught
    (``scoring.verdict_learning``); the score before the verdicts is kept
    (``unlearned_score`` of a flag, ``unlearned_risk`` and ``unlearned_rank`` of a case).
    """
    verdicts = verdicts or VerdictLabels.none()
    statistical = run_detectors(snapshot, rules.flags, verdicts.subjects)
    ran = set(rules.summary.loc[rules.summary["status"].eq("ran"), "rule"])
    ran_rules = tuple(r for r in RULES if r.code in ran)
    health = rule_health(snapshot, rules.flags, ran_rules)
    weights = learned_weights(verdicts.findings, snapshot.rulebook)
    if habits := habit_rules(weights):
        habit_ran = tuple(r for r in ran_rules if r.code in habits)
        weights = borrowed_weights(weights, firing_by_institution(snapshot, rules.flags, habit_ran))
    found = relearned(damped(weighed_by_age(snapshot, rules.flags), health), weights)
    parts = [f for f in (found, statistical) if len(f)]
    columns = [*FLAG_COLUMNS, "unlearned_score"]
    flags = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    flags = flags.sort_values(["rule", "table", "record_id"], kind="stable").reset_index(drop=True)
    flags.insert(0, "flag_id", _flag_ids(flags))
    everyone = _with_unlearned_rank(assemble_cases(flags, SUBJECTS), flags, verdicts.empty)
    threshold = snapshot.rulebook.scoring.case_threshold.value
    raised = everyone["risk_score"] >= threshold
    cases = everyone[raised].reset_index(drop=True)
    watch = everyone[~raised].reset_index(drop=True)
    cases["rank"] = range(1, len(cases) + 1)
    watch["rank"] = range(1, len(watch) + 1)
    summary = rules.summary.merge(health, on="rule", how="left")
    reviewed = set(verdicts.findings["case_id"]) | set(_judged_cases(verdicts))
    learned = what_moved(
        weights, _with_case_ids(flags) if len(weights) else flags, everyone, reviewed
    )
    return Scored(flags, cases, watch, summary, rules.insufficient, learned)


def _with_unlearned_rank(everyone: pd.DataFrame, flags: pd.DataFrame, same: bool) -> pd.DataFrame:
    """Each subject's risk and place among every subject before the verdicts were counted."""
    if same:
        return everyone.assign(
            unlearned_risk=everyone["risk_score"], unlearned_rank=everyone["rank"]
        )
    before = ranked_risk(flags, SUBJECTS, "unlearned_score").rename(
        columns={"risk_score": "unlearned_risk", "rank": "unlearned_rank"}
    )
    out = everyone.merge(before, on=["subject_type", "subject_id"], how="left")
    out["unlearned_risk"] = out["unlearned_risk"].fillna(0.0)
    return out.astype({"unlearned_rank": "Int64"})


def _judged_cases(verdicts: VerdictLabels) -> list[str]:
    s = verdicts.subjects
    return [case_id(t, str(i)) for t, i in zip(s["subject_type"], s["subject_id"], strict=True)]


def _with_case_ids(flags: pd.DataFrame) -> pd.DataFrame:
    by_case = findings_by_case(flags, SUBJECTS)[["flag_id", "case_id"]]
    return flags.merge(by_case, on="flag_id", how="inner")


def _flag_ids(flags: pd.DataFrame) -> pd.Series:
    """Stable ids: the same rule on the same record gets the same id on every run."""
    key = flags["rule"] + "|" + flags["table"] + "|" + flags["record_id"].astype(str)
    return "F-" + key.map(lambda k: hashlib.sha256(k.encode()).hexdigest()[:12])
