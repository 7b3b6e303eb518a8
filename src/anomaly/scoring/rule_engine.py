"""Run every registered rule over a snapshot; collect flags and what could not be judged.

Each rule gives, per subject, one of three outcomes: flagged, clear, or
insufficient data. A rule whose tables were not delivered does not run: all
its subjects are "insufficient data", and the report says why. Insufficient
data is never counted as clear. Nor is a subject judged on incomplete
records (``scoring.incomplete_evidence``): its findings are weighed down and it is
listed as insufficient data, with the reason.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd

from anomaly.cases.assembly import SUBJECT_COLUMN
from anomaly.registry.snapshot import Snapshot
from anomaly.rules import RULES
from anomaly.rules.rule import FLAG_COLUMNS, INSUFFICIENT_COLUMNS, Rule
from anomaly.scoring.incomplete_evidence import weighed_for_gaps

SUMMARY_COLUMNS = [
    "rule",
    "status",
    "flags",
    "subjects_flagged",
    "subjects_insufficient",
    "seconds",
    "inferences",
]


@dataclass(frozen=True)
class RuleRun:
    flags: pd.DataFrame  # FLAG_COLUMNS, weighted scores
    insufficient: pd.DataFrame  # rule + INSUFFICIENT_COLUMNS
    summary: pd.DataFrame  # SUMMARY_COLUMNS

    def outcome(self, rule: str, subject_type: str, subject_id: str) -> str:
        """``flagged``, ``insufficient data`` or ``clear`` for one subject under one rule."""
        mine = self.flags[self.flags["rule"].eq(rule)]
        if mine[SUBJECT_COLUMN[subject_type]].eq(subject_id).any():
            return "flagged"
        lacking = self.insufficient[
            self.insufficient["rule"].eq(rule)
            & self.insufficient["subject_type"].eq(subject_type)
            & (
                self.insufficient["subject_id"].eq(subject_id)
                | self.insufficient["subject_id"].eq("*")
            )
        ]
        return "insufficient data" if len(lacking) else "clear"


def run_rules(snapshot: Snapshot, rules: tuple[Rule, ...] = RULES) -> RuleRun:
    """Every rule over the snapshot; a finding's score is its severity times the strength
    of its rule's evidence class (recency and rule health come in ``scoring.case_scoring``)."""
    found, lacking, summary = [], [], []
    for rule in rules:
        began = time.perf_counter()
        absent = [t for t in rule.tables if not snapshot.has(t)]
        if absent:
            why = f"not run: {', '.join(absent)} not delivered"
            lacking.append(
                pd.DataFrame(
                    [
                        {
                            "rule": rule.code,
                            "subject_type": rule.subject,
                            "subject_id": "*",
                            "reason": why,
                        }
                    ]
                )
            )
            summary.append((rule.code, why, 0, 0, "all", 0.0, ""))
            continue
        strength = snapshot.rulebook.strength(rule.code)
        findings = rule.check(snapshot)
        flags = findings.flags.assign(score=findings.flags["score"] * strength)
        flags, gaps = weighed_for_gaps(rule, snapshot, flags)
        found.append(flags)
        lacking.append(
            pd.concat([findings.insufficient, gaps], ignore_index=True)
            .assign(rule=rule.code)[["rule", *INSUFFICIENT_COLUMNS]]
        )  # fmt: skip
        subject = SUBJECT_COLUMN[rule.subject]
        summary.append(
            (
                rule.code,
                "ran",
                len(flags),
                flags[subject].nunique(),
                lacking[-1]["subject_id"].nunique(),
                round(time.perf_counter() - began, 3),
                findings.notes,
            )
        )
    found = [f for f in found if len(f)]
    flags = pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=FLAG_COLUMNS)
    insufficient = (
        pd.concat(lacking, ignore_index=True)
        if lacking
        else pd.DataFrame(columns=["rule", *INSUFFICIENT_COLUMNS])
    )
    return RuleRun(flags, insufficient, pd.DataFrame(summary, columns=SUMMARY_COLUMNS))
