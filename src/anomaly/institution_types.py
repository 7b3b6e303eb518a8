"""Types of institution: how strict each is, and which type is in force for a convict.

The court fixes the type (``convicts.court_security_level``); only a court's
decision changes it (PEC art. 96), recorded as a transfer on the ground
``security_level_change`` or ``court_order``. The type in force at a transfer
is the court's, or the destination of the latest such transfer before it.
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
    return t
