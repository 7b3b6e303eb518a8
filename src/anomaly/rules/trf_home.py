"""TRF-HOME: a later move into the home region that breaks the placement rules (PCPI report 4).

The bought move back home (PCPI report): a convict placed elsewhere is brought to
an institution of the home region, if need be into the pre-trial centre as a
housekeeping worker, into an institution of another type than the court
ordered, or into a full one "because overcrowding is considered temporary".
Honest requests to move closer to home are mostly refused, so a
discretionary move (operational need, own safety, order maintenance, other)
that lands the convict at home is itself a weaker signal.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.registry.snapshot import Snapshot
from anomaly.rules.rule import Findings, Reasons, Rule, flags, none_insufficient

CODE = "TRF-HOME"
DISCRETIONARY = {"operational_need", "own_safety", "order_maintenance", "other"}
DISCRETIONARY_ONLY = 0.6  # a discretionary move home with no other breach: raised, ranked low


def check(s: Snapshot) -> Findings:
    t = s["transfers"]
    f = s["facilities"].set_index("facility_id")
    convicts = s["convicts"].set_index("convict_id")
    later = t[t["from_facility_id"].notna()].copy()
    home = later["convict_id"].map(convicts["home_region_id"])
    later["to_region"] = later["to_facility_id"].map(f["region_id"])
    later["from_region"] = later["from_facility_id"].map(f["region_id"])
    homeward = later[(later["to_region"] == home) & (later["from_region"] != home)]
    # reorganisation moves are the administration's placement (false ones: TRF-REORG);
    # medical and level changes follow their own grounds
    homeward = homeward[homeward["ground"].isin(DISCRETIONARY) | homeward["ground"].isna()].copy()
    to_level = homeward["to_facility_id"].map(f["security_level"])
    court = homeward["convict_id"].map(convicts["court_security_level"])
    from_level = homeward["from_facility_id"].map(f["security_level"])
    ground = homeward["ground"]
    reasons = Reasons(homeward)
    into_mixed = to_level.eq("mixed") & court.ne("mixed")
    reasons.add(into_mixed, "into the pre-trial centre of the home region")
    other_level = ~to_level.eq("mixed") & (to_level != court) & (to_level != from_level)
    reasons.add(
        other_level,
        "into a " + to_level.astype(str) + " institution; the court ordered " + court.astype(str),
    )
    occupancy = _occupancy(s.stays, homeward, "to_facility_id", "arrived_on")
    capacity = homeward["to_facility_id"].map(f["capacity"])
    full = occupancy > capacity
    reasons.add(
        full,
        "into a full institution ("
        + occupancy.astype(str)
        + " convicts for "
        + capacity.astype(str)
        + " places)",
    )
    strong = reasons.found
    reasons.add(
        pd.Series(True, index=homeward.index),
        "a discretionary move (" + ground.astype(str) + ") back to the home region",
    )
    hit = homeward[reasons.found]
    score = pd.Series(np.where(strong, 1.0, DISCRETIONARY_ONLY), index=homeward.index)
    what = (
        "transfer on "
        + hit["departed_on"].dt.strftime("%Y-%m-%d")
        + " to "
        + hit["to_facility_id"].astype(str)
    )
    found = flags(
        CODE,
        "transfers",
        hit,
        reasons.explain(what),
        score=score,
        facility="to_facility_id",
    )
    return Findings(found, none_insufficient())


def _occupancy(stays: pd.DataFrame, rows: pd.DataFrame, facility: str, on: str) -> pd.Series:
    """Convicts at the facility on the date (stays covering it), per row."""
    out = pd.Series(0, index=rows.index)
    day = rows[on].fillna(rows["departed_on"])
    for fid, group in rows.groupby(facility):
        here = stays[stays["facility_id"].eq(str(fid))]
        starts = np.sort(here["start"].to_numpy())
        ends = np.sort(here["end"].to_numpy())
        d = day[group.index].to_numpy()
        out[group.index] = np.searchsorted(starts, d, "right") - np.searchsorted(ends, d, "left")
    return out


RULE = Rule(
    code=CODE,
    statement="A later move into the home region respects the placement rules.",
    legal_basis="PEC art. 88, 90, 96; rules.md 4; PCPI report, section 4",
    tables=("transfers", "facilities", "convicts"),
    check=check,
    needs_complete=("transfers",),
    reads=(
        "transfers.departed_on",
        "transfers.arrived_on",
        "transfers.ground",
        "transfers.from_facility_id",
        "transfers.to_facility_id",
        "convicts.home_region_id",
        "convicts.court_security_level",
        "facilities.region_id",
        "facilities.security_level",
        "facilities.capacity",
    ),
)
