"""Turn simulated events into tables of the record exchange spec.

Who decided each event (the staff member on duty in the right role that day),
opaque identifiers, and the delay between an event and its entry in the
register are settled here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.synthetic.calendar_days import as_dates, as_timestamps

ROLE_CODES = {
    "head": 0,
    "deputy_head": 1,
    "commission_member": 2,
    "duty_officer": 3,
    "visits_officer": 4,
    "records_officer": 5,
    "committee": 6,
}


class StaffRoster:
    """Picks the staff member in a role at an institution on a day."""

    def __init__(self, staff: pd.DataFrame, facility_index: dict[str, int]) -> None:
        fac = staff["facility_id"].map(facility_index).to_numpy()
        key = fac * 8 + staff["role"].map(ROLE_CODES).to_numpy()
        order = np.argsort(key, kind="stable")
        self.sorted_key = key[order]
        self.frm = staff["from_day"].to_numpy()[order]
        self.to = staff["to_day"].to_numpy()[order]
        self.ids = staff["staff_id"].to_numpy()[order]

    def pick(
        self, facility: np.ndarray, day: np.ndarray, role: str, rng: np.random.Generator
    ) -> np.ndarray:
        """Staff ids, one per event, of someone in ``role`` active at the institution that day."""
        key = np.asarray(facility, dtype=int) * 8 + ROLE_CODES[role]
        lo = np.searchsorted(self.sorted_key, key, side="left")
        hi = np.searchsorted(self.sorted_key, key, side="right")
        if (hi == lo).any():
            raise ValueError(f"no {role} at some institution")
        frm, to, ids = self.frm, self.to, self.ids
        size = hi - lo
        first = (rng.random(len(key)) * size).astype(int)  # a random holder first
        out = np.full(len(key), None, dtype=object)
        for step in range(int(size.max()) if len(size) else 0):  # then the others in turn
            pick = lo + (first + step) % size
            ok = (out == None) & (frm[pick] <= day) & ((to[pick] < 0) | (to[pick] >= day))  # noqa: E711
            out[ok] = ids[pick[ok]]
        missing = out == None  # noqa: E711
        out[missing] = ids[lo[missing]]
        return out


def opaque_ids(prefix: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Identifiers that say nothing about order or origin."""
    numbers = rng.choice(max(10 * n, 1000), size=n, replace=False)
    width = len(str(max(10 * n, 1000)))
    return np.array([f"{prefix}{k:0{width}d}" for k in numbers], dtype=object)


def entry_delay_days(n: int, rng: np.random.Generator) -> np.ndarray:
    """Days between an event and its entry: mostly the same day or the next, a tail to ~25."""
    same_day = rng.uniform(0.35, 0.75, n)
    late = np.floor(rng.lognormal(-0.7, 1.3, n))
    return same_day + np.minimum(late, 25)


def recorded_after(days: np.ndarray, rng: np.random.Generator) -> pd.Series:
    """``recorded_at`` for events dated on whole days."""
    return as_timestamps(np.asarray(days, dtype=float) + entry_delay_days(len(days), rng))


def optional_dates(days: np.ndarray) -> pd.Series:
    """Day numbers with -1 meaning null, as dates."""
    days = np.asarray(days, dtype="int64")
    out = as_dates(np.where(days < 0, 0, days))
    return out.where(days >= 0)
