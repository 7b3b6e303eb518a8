"""VIS-ROOMS: no more long visits on a night than the institution has rooms (rules.md 3).

Each long visit holds a room from the day it starts to the day it ends (at
least one night). A night with more visits than ``long_visit_rooms`` means
some of those visits never happened as logged. The visits flagged are those
beyond the rooms: on each crowded night, the ones entered in the register
last (``recorded_at``), which found every room already taken. The visits
entered first had a room and are not flagged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.registry.snapshot import Snapshot
from anomaly.rules.rule import Findings, Rule, flags, none_insufficient

CODE = "VIS-ROOMS"


def check(s: Snapshot) -> Findings:
    visits = s["visit_logs"]
    long = visits[visits["visit_type"].eq("long")]
    first = long["started_at"].dt.normalize()
    nights = ((long["ended_at"].dt.normalize() - first).dt.days).clip(lower=1).fillna(1)
    repeat = np.repeat(np.arange(len(long)), nights.astype(int).to_numpy())
    offset = pd.Series(np.arange(len(repeat))).groupby(repeat).cumcount().to_numpy()
    held = pd.DataFrame(
        {
            "row": long.index.to_numpy()[repeat],
            "facility_id": long["facility_id"].astype(str).to_numpy()[repeat],
            "night": first.to_numpy()[repeat] + pd.to_timedelta(offset, unit="D"),
            "entered": long["recorded_at"].to_numpy()[repeat],
        }
    )
    held = held.sort_values(["facility_id", "night", "entered", "row"], kind="stable")
    night = held.groupby(["facility_id", "night"])
    used = night["row"].transform("size")
    order = night.cumcount() + 1
    rooms = held["facility_id"].map(s["facilities"].set_index("facility_id")["long_visit_rooms"])
    crowded = held[(used > rooms) & (order > rooms)]
    if crowded.empty:
        return Findings(flags(CODE, "visit_logs", long.iloc[:0], ""), none_insufficient())
    worst = crowded.assign(used=used[crowded.index], rooms=rooms[crowded.index])
    worst = worst.sort_values("used").groupby("row").last()
    hit = long.loc[worst.index]
    explanation = (
        worst["used"].astype(str)
        + " long visits on the night of "
        + worst["night"].dt.strftime("%Y-%m-%d")
        + " for "
        + worst["rooms"].astype(int).astype(str)
        + " rooms"
    )
    return Findings(
        flags(CODE, "visit_logs", hit, explanation),
        none_insufficient(),
    )


RULE = Rule(
    code=CODE,
    statement="No more long visits on one night than the institution has visiting rooms.",
    legal_basis="PEC art. 106 (a stay in the institution's rooms); rules.md 3",
    tables=("visit_logs", "facilities"),
    check=check,
    needs_complete=(),
    reads=(
        "visit_logs.visit_type",
        "visit_logs.started_at",
        "visit_logs.ended_at",
        "visit_logs.recorded_at",
        "facilities.long_visit_rooms",
    ),
    subject="facility",
    per_convict=False,  # a night counts the visits of every convict at the institution
)
