"""VIS-LENGTH: visits last no longer than the law allows (PEC art. 106; rules.md 3).

A short visit lasts up to 2 hours; a log of up to 4 hours (assumed tolerance)
is not flagged on duration alone. A long visit lasts up to 2 days (3 days
before 1 January 2015). A longer stay in the visiting rooms is an
undocumented extension, one of the favours the PCPI report describes.
"""

from __future__ import annotations

import pandas as pd

from anomaly.registry.snapshot import Snapshot
from anomaly.rulebook import Param, RuleParameters
from anomaly.rules.rule import Findings, Rule, flags, none_insufficient

CODE = "VIS-LENGTH"


class Parameters(RuleParameters):
    """VIS-LENGTH's section of the rule book."""

    evidence: Param[str] = Param(
        value="record_keeping",
        source="docs/scoring.md: a check-out time past the limit is a breach of how records "
        "are kept",
    )
    short_visit_tolerance_hours: Param[int] = Param(
        value=4, source="rules.md 3: a short visit logged up to this long", assumed=True
    )


# A visit logged too long may be a careless check-out time: weaker than a visit with no right.
SEVERITY = 0.7
NEW_LONG_VISIT_LAW = pd.Timestamp("2015-01-01")


def check(s: Snapshot) -> Findings:
    rules = s.rulebook.visits
    visits = s["visit_logs"]
    hours = (visits["ended_at"] - visits["started_at"]).dt.total_seconds() / 3600
    short = visits["visit_type"].eq("short")
    days = pd.Series(rules.long_visit_days.value, index=visits.index).where(
        visits["started_at"] >= NEW_LONG_VISIT_LAW, rules.long_visit_days_before_2015.value
    )
    tolerance = s.rulebook.rule(CODE, Parameters).short_visit_tolerance_hours.value
    limit = (days * 24).where(~short, tolerance)
    known = visits["visit_type"].isin(["short", "long"])  # a type validation nulled is unknown
    hit = visits[known & (hours > limit)]
    allowed = (days[hit.index].astype(int).astype(str) + " days").where(
        ~short[hit.index], str(rules.short_visit_hours.value) + " hours"
    )
    explanation = (
        hit["visit_type"]
        + " visit on "
        + hit["started_at"].dt.strftime("%Y-%m-%d")
        + " lasted "
        + hours[hit.index].round(1).astype(str)
        + " hours; allowed "
        + allowed
    )
    return Findings(
        flags(CODE, "visit_logs", hit, explanation, score=SEVERITY),
        none_insufficient(),
    )


RULE = Rule(
    code=CODE,
    parameters=Parameters,
    statement="Short visits last up to 2 hours (4 tolerated), long visits up to 2 days.",
    legal_basis="PEC art. 106; rules.md 3",
    tables=("visit_logs",),
    check=check,
    needs_complete=(),
    reads=("visit_logs.visit_type", "visit_logs.started_at", "visit_logs.ended_at"),
)
