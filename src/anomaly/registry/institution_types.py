"""Types of institution: how strict each is, and which type is in force for a convict.

The court fixes the type (``convicts.court_security_level``); only a court's
decision changes it (PEC art. 96), recorded as a transfer on the ground
``security_level_change`` or ``court_order``. The type in force at a transfer
is the court's, or the destination of the latest such transfer before it.

A registry may instead keep in ``court_security_level`` the court's latest
decision, the type after the last change. Where a convict's last change of
type leads to the court's type, the records read either way; before that
change, the type in force is then the one the first change left (the type of
the institution it departed from), not the court's.
"""

from __future__ import annotations

import pandas as pd

LEVEL_CHANGES = ("security_level_change", "court_order")
STRICTNESS = {"minimum": 1, "medium": 2, "maximum": 3, "extreme": 4, "complete": 5}
"""The general regimes from the mildest; ``mixed`` (pre-trial centre) and ``juvenile``
stand outside this order."""


def with_types_in_force(
    transfers: pd.DataFrame, court: pd.Series, level: pd.Series
) -> pd.DataFrame:
    """Transfers sorted by convict and departure, with ``to_level`` (the destination's type)
    and ``in_force`` (the type in force before the transfer; null where unknown).

    ``court``: the court's type by convict_id; ``level``: the type by facility_id.
    """
    t = transfers.sort_values(["convict_id", "departed_on"], kind="stable").copy()
    t["to_level"] = t["to_facility_id"].map(level)
    changed = t["ground"].isin(LEVEL_CHANGES)
    decided = t["to_level"].where(changed)
    t["in_force"] = decided.groupby(t["convict_id"]).shift().groupby(t["convict_id"]).ffill()
    t["in_force"] = t["in_force"].fillna(t["convict_id"].map(court))
    return _court_level_may_be_the_latest(t, court, level)


def _court_level_may_be_the_latest(
    t: pd.DataFrame, court: pd.Series, level: pd.Series
) -> pd.DataFrame:
    changes = t[t["ground"].isin(LEVEL_CHANGES) & t["to_level"].isin(list(STRICTNESS))]
    last = changes.groupby("convict_id", sort=False).tail(1)
    latest = last[last["to_level"].eq(last["convict_id"].map(court))]
    first = changes.groupby("convict_id", sort=False).head(1).set_index("convict_id")
    first = first[first.index.isin(latest["convict_id"])]
    left = first["from_facility_id"].map(level)  # the type served before the first change
    left = left[left.isin(list(STRICTNESS))]
    if left.empty:
        return t
    before = t["convict_id"].map(first["departed_on"])
    first_change = t["ground"].isin(LEVEL_CHANGES).groupby(t["convict_id"]).cumsum().eq(0)
    earlier = t["departed_on"].lt(before) & first_change & t["convict_id"].isin(left.index)
    earlier &= t["to_level"].ne(
        t["convict_id"].map(court)
    )  # only what the court's type contradicts
    out = t.copy()
    out.loc[earlier, "in_force"] = t.loc[earlier, "convict_id"].map(left)
    return out
