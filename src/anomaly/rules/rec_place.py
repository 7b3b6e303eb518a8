"""REC-PLACE: events happen where the convict was (rules.md 5).

The transfer history says where a convict was on each day. A visit, degree,
condition change or disciplinary event recorded for an institution where the
convict was not on that date (in transit, already transferred, before
arrival) is an inconsistency: a visit logged at a place the convict had left
did not happen there. Convicts with no transfer history at all cannot be
placed: insufficient data.
"""

from __future__ import annotations

import pandas as pd

from anomaly.registry.placement_history import place_on
from anomaly.registry.snapshot import Snapshot
from anomaly.rules.rule import Findings, Rule, flags, insufficient

CODE = "REC-PLACE"
SEVERITY = 0.9  # a transfer entered late can also put an event "elsewhere": short of certain
PLACED = {  # table: the date of the event
    "visit_logs": "started_at",
    "degree_assignments": "assigned_on",
    "condition_changes": "changed_on",
    "disciplinary_events": "occurred_on",
}


def check(s: Snapshot) -> Findings:
    found, unknown = [], []
    for table, date in PLACED.items():
        frame = s[table]
        place = place_on(frame, s.stays, date)
        away = frame[
            place["known"]
            & (place["placed_at"].astype(object) != frame["facility_id"].astype(object))
        ]
        where = place.loc[away.index, "placed_at"]
        elsewhere = ("the convict was at " + where.astype(str)).where(
            where.notna(), "the convict was at no institution"
        )
        explanation = (
            table.replace("_", " ")
            + " entry of "
            + away[date].dt.strftime("%Y-%m-%d")
            + " at "
            + away["facility_id"].astype(str)
            + ": "
            + elsewhere
        )
        found.append(flags(CODE, table, away, explanation, score=SEVERITY))
        unknown.append(frame.loc[~place["known"], "convict_id"])
    return Findings(
        pd.concat(found, ignore_index=True),
        insufficient(pd.concat(unknown), "no transfer history: where the convict was is unknown"),
    )


RULE = Rule(
    code=CODE,
    statement=(
        "Visits and decisions are recorded at the institution where the convict was that day."
    ),
    legal_basis="rules.md 5; PCPI report, section 3 (visits logged under another name)",
    tables=("transfers", *PLACED),
    judges=tuple(PLACED),
    check=check,
    needs_complete=("transfers",),
    reads=(
        "transfers.departed_on",
        "transfers.arrived_on",
        "convicts.released_on",
        *(f"{table}.{on}" for table, on in PLACED.items()),
    ),
)
