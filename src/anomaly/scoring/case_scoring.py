"""Score a snapshot: rules, statistical detectors, cases (docs/scoring.md).

Pure: takes a snapshot, returns frames. Writing them is ``cases.outputs``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd

from anomaly.cases.assembly import assemble_cases
from anomaly.outliers.detectors import DETECTORS, run_detectors
from anomaly.registry.snapshot import Snapshot
from anomaly.rules import RULES
from anomaly.rules.rule import FLAG_COLUMNS
from anomaly.scoring.finding_recency import weighed_by_age
from anomaly.scoring.rule_engine import RuleRun, run_rules
from anomaly.scoring.rule_health import damped, rule_health

SUBJECTS = {**{r.code: r.subject for r in RULES}, **{d.code: d.subject for d in DETECTORS}}


@dataclass(frozen=True)
class Scored:
    flags: pd.DataFrame  # every finding, FLAG_COLUMNS + flag_id
    cases: pd.DataFrame  # ranked cases at or above the case threshold
    watchlist: pd.DataFrame  # subjects with findings below the threshold
    rule_summary: pd.DataFrame
    insufficient: pd.DataFrame


def score(snapshot: Snapshot) -> Scored:
    """Run every rule and detector; group the findings into ranked cases."""
    return score_rule_run(snapshot, run_rules(snapshot))


def score_rule_run(snapshot: Snapshot, rules: RuleRun) -> Scored:
    """Detectors (they read the rule flags too) and cases, once the rules have run.

    ``rules`` may come from one process or be gathered from partitions
    (``scoring.partitions``): flags are put in one canonical order here, so
    both give the same output. Rule findings are weighed by their age
    (``scoring.finding_recency``) and by their rule's health in this run (``scoring.rule_health``).
    """
    statistical = run_detectors(snapshot, rules.flags)
    ran = set(rules.summary.loc[rules.summary["status"].eq("ran"), "rule"])
    ran_rules = tuple(r for r in RULES if r.code in ran)
    health = rule_health(snapshot, rules.flags, ran_rules)
    found = damped(weighed_by_age(snapshot, rules.flags), health)
    parts = [f for f in (found, statistical) if len(f)]
    flags = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=FLAG_COLUMNS)
    flags = flags.sort_values(["rule", "table", "record_id"], kind="stable").reset_index(drop=True)
    flags.insert(0, "flag_id", _flag_ids(flags))
    everyone = assemble_cases(flags, SUBJECTS)
    threshold = snapshot.rulebook.scoring.case_threshold.value
    raised = everyone["risk_score"] >= threshold
    cases = everyone[raised].reset_index(drop=True)
    watch = everyone[~raised].reset_index(drop=True)
    cases["rank"] = range(1, len(cases) + 1)
    watch["rank"] = range(1, len(watch) + 1)
    summary = rules.summary.merge(health, on="rule", how="left")
    return Scored(flags, cases, watch, summary, rules.insufficient)


def _flag_ids(flags: pd.DataFrame) -> pd.Series:
    """Stable ids: the same rule on the same record gets the same id on every run."""
    key = flags["rule"] + "|" + flags["table"] + "|" + flags["record_id"].astype(str)
    return "F-" + key.map(lambda k: hashlib.sha256(k.encode()).hexdigest()[:12])
