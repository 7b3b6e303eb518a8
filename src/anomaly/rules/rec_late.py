"""REC-LATE: entries made long after the event they describe are back-dated (rules.md 5).

An entry recorded more than the tolerance (30 days, assumed) after the date
it carries was written after the fact (the PCPI report: paper files "can be easily
removed, changed or replaced"; NPM 2018 report: decisions written into the file after
the moves they were meant to justify). The finding is about the entry and the
staff member who made it.

Lawful explanation checked: a transfer is entered when the convict arrives,
so its delay counts from ``arrived_on`` (a long journey in transit is not a
late entry); from ``departed_on`` only while the convict is in transit. The
finding names the institution whose office made the entry: for a transfer,
the receiving one.
"""

from __future__ import annotations

import pandas as pd

from anomaly.registry.snapshot import Snapshot
from anomaly.rulebook import Param, RuleParameters
from anomaly.rules.rule import Findings, Rule, flags, none_insufficient

CODE = "REC-LATE"


class Parameters(RuleParameters):
    """REC-LATE's section of the rule book."""

    backdating_tolerance_days: Param[int] = Param(
        value=30, source="rules.md 5: an entry made this long after its event", assumed=True
    )


LATE_BASE = 0.5  # severity grows with the delay, to 1.0 for an entry made half a year late
DATED = {  # table: the date the entry describes
    "degree_assignments": "assigned_on",
    "condition_changes": "changed_on",
    "disciplinary_events": "occurred_on",
    "visit_logs": "ended_at",
    "transfers": "departed_on",
    "long_visit_registrations": "decided_on",
}


def check(s: Snapshot) -> Findings:
    tolerance = s.rulebook.rule(CODE, Parameters).backdating_tolerance_days.value
    found = []
    for table, date in DATED.items():
        frame = s[table]
        if table == "transfers":  # entered on arrival
            frame = frame.assign(departed_on=frame["arrived_on"].fillna(frame["departed_on"]))
        delay = (frame["recorded_at"] - frame[date]).dt.total_seconds() / 86400
        late = frame[delay > tolerance]
        days = delay[late.index].round().astype(int)
        explanation = (
            table.replace("_", " ")
            + " entry dated "
            + late[date].dt.strftime("%Y-%m-%d")
            + " recorded "
            + days.astype(str)
            + " days later, on "
            + late["recorded_at"].dt.strftime("%Y-%m-%d")
        )
        score = (LATE_BASE + days / 365).clip(upper=1.0)
        # a transfer is entered by the receiving institution's office
        office = "to_facility_id" if table == "transfers" else "facility_id"
        found.append(flags(CODE, table, late, explanation, score=score, facility=office))
    return Findings(pd.concat(found, ignore_index=True), none_insufficient())


RULE = Rule(
    code=CODE,
    parameters=Parameters,
    statement="Entries are recorded within the tolerance after the event they describe.",
    legal_basis="rules.md 5 (tolerance assumed); PCPI report, section 3; NPM 2018 report",
    tables=tuple(DATED),
    judges=tuple(DATED),
    check=check,
    needs_complete=(),
    reads=(
        *(f"{table}.{column}" for table, on in DATED.items() for column in (on, "recorded_at")),
        "transfers.arrived_on",
    ),
)
