"""The model of custody the career simulation runs on.

Its rates (incentives, penalties, moves), the measures it draws from, the
events it records (``Events``), what it is given (``Setting``), and where it
places a convict (``Placer``: the home region when an institution of the
ordered type has room there, otherwise the nearest one with room).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from anomaly.rulebook import Rulebook

REVIEW_DAYS = 91
PUNCTUAL_COMMISSION = 0.3  # share of reviews held on the day a light-conditions term is served
RATES = {  # incentives, penalties per year, share of penalties that are malicious
    "good": (1.1, 0.06, 0.0),
    "average": (0.55, 0.45, 0.03),
    "poor": (0.15, 2.0, 0.12),
}
PENALTY_MEASURES = (
    ["warning", "reprimand", "isolation", "cell_type_premises"],
    [0.4, 0.3, 0.26, 0.04],
)
INCENTIVE_MEASURES = (
    ["gratitude", "extra_parcel", "extra_short_visit", "extra_long_visit", "other"],
    [0.5, 0.2, 0.12, 0.12, 0.06],
)
MILDER_TYPE_PER_REVIEW = 0.05  # a court grants a milder type to an entitled convict
COURT_TRIP_PER_REVIEW = 0.01  # a hearing in the home region (appeal, another case, witness)
TRANSFER_GROUNDS = (
    ["medical", "own_safety", "operational_need", "order_maintenance"],
    [0.3, 0.2, 0.25, 0.25],
)


@dataclass
class Events:
    """Rows of every event table, as lists of tuples (facility as index)."""

    stays: list[tuple] = field(default_factory=list)  # convict, facility, arrive, leave
    transfers: list[tuple] = field(default_factory=list)
    conditions: list[tuple] = field(default_factory=list)
    degrees: list[tuple] = field(default_factory=list)
    discipline: list[tuple] = field(default_factory=list)
    memberships: list[tuple] = field(default_factory=list)
    work: list[tuple] = field(default_factory=list)
    condition_spans: list[tuple] = field(
        default_factory=list
    )  # convict, facility, start, end, condition
    isolation: list[tuple] = field(default_factory=list)  # convict, start, end
    releases: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Setting:
    """What the career loop needs to know about the world."""

    level: np.ndarray  # security level per facility index
    women: np.ndarray
    capacity: np.ndarray
    region: np.ndarray  # region index per facility
    closed: np.ndarray  # closing day, -1 when open
    hospital: np.ndarray  # a prison hospital (medical stays come and go back)
    court_trips: bool  # convicts are taken to the pre-trial centre for hearings
    region_index: dict[str, int]
    distance_km: np.ndarray
    rulebook: Rulebook
    extraction_day: int
    leniency: dict[int, float]  # facility index -> multiplier (statistical schemes)


def placement_group(level: str, sex: str, housekeeping: bool) -> tuple[str, bool]:
    """(level of institution, women's institution) a convict belongs in."""
    if housekeeping:
        return ("mixed", False)
    if level == "juvenile":
        return ("juvenile", False)
    return (level, sex == "F")


class Placer:
    """Chooses institutions with room, in the home region first, and tracks occupancy."""

    def __init__(self, setting: Setting) -> None:
        self.s = setting
        self.occupancy = np.zeros(len(setting.level), dtype=int)
        self.leaving: list[tuple[int, int]] = []
        self.groups: dict[tuple[str, bool], np.ndarray] = {}
        keys = pd.Series(list(zip(setting.level, setting.women, strict=True)))
        keys = keys[~setting.hospital]  # no one is placed in a hospital to serve a sentence
        for key, index in keys.groupby(keys).groups.items():
            self.groups[(str(key[0]), bool(key[1]))] = np.asarray(index)
        self.hospitals = np.flatnonzero(setting.hospital)
        self.trip_stays = {"medical": (7, 60), "court_order": (3, 25)}  # days away

    def advance(self, today: int) -> None:
        while self.leaving and self.leaving[0][0] <= today:
            _, facility = heapq.heappop(self.leaving)
            self.occupancy[facility] -= 1

    def open_in(self, group: tuple[str, bool], today: int, exclude: int = -1) -> np.ndarray:
        pool = self.groups.get(group)
        if pool is None:
            pool = self.groups[(group[0], False)]
        closed = self.s.closed[pool]
        return pool[((closed < 0) | (closed > today + 30)) & (pool != exclude)]

    def place(self, group: tuple[str, bool], home: str, today: int, exclude: int = -1) -> int:
        """Home region if it has room, else the nearest with room, else the least full."""
        pool = self.open_in(group, today, exclude)
        free = self.occupancy[pool] < self.s.capacity[pool]
        if not free.any():
            return int(pool[np.argmin(self.occupancy[pool] / np.maximum(self.s.capacity[pool], 1))])
        pool = pool[free]
        home_r = self.s.region_index[home]
        at_home = pool[self.s.region[pool] == home_r]
        if len(at_home):
            return int(at_home[np.argmax(self.s.capacity[at_home] - self.occupancy[at_home])])
        return int(pool[np.argmin(self.s.distance_km[home_r, self.s.region[pool]])])

    def occupy(self, facility: int, until: int) -> None:
        self.occupancy[facility] += 1
        heapq.heappush(self.leaving, (until, facility))
