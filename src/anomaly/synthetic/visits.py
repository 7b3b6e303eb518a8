"""Short and long visits, and the registrations long visits rest on.

A normal visit respects every visit rule of the rule book: within the yearly
quota of the condition in force (plus incentive visits granted earlier that
year), only while the convict is at the institution and not in isolation, by a
living visitor who is not in custody; long visits only by relatives entitled
to them, registered at least a month before, with an approved registration
for the same dates and a free room.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from anomaly.rulebook import Rulebook
from anomaly.synthetic.calendar_days import year_of, year_start
from anomaly.synthetic.custody_model import Events

REGISTRATION_LEAD_DAYS = 30  # a relative registered at least this long before a long visit


@dataclass
class VisitRecords:
    visits: list[tuple] = field(default_factory=list)
    # convict, facility, person, type, start (fractional day), end, room, registration index
    registrations: list[tuple] = field(default_factory=list)
    # convict, facility, person, requested, decided, decision, planned_start, days, basis, incentive


@dataclass(frozen=True)
class VisitWorld:
    """Everything the visit scheduler looks up."""

    levels: np.ndarray  # facility level by index
    rooms: np.ndarray  # long-visit rooms by facility index
    facility_region: np.ndarray
    home_region: np.ndarray  # by convict index (region index)
    distance_km: np.ndarray
    window: tuple[int, int]
    rulebook: Rulebook


def schedule_visits(
    events: Events,
    discipline: pd.DataFrame,
    visitors: dict[int, list[tuple]],
    world: VisitWorld,
    rng: np.random.Generator,
) -> VisitRecords:
    """Visits of every convict over the window.

    ``visitors`` maps a convict index to (person index, entitled, registered
    day, death day, custody start, custody end) tuples.
    """
    records = VisitRecords()
    rooms_used: dict[tuple[int, int], int] = defaultdict(int)
    spans = _by_convict(events.condition_spans, by_start=True)
    stays = _by_convict(events.stays, by_start=True)
    isolation = _by_convict(events.isolation)
    extras = _extra_visits(discipline)
    for convict, people in visitors.items():
        if convict not in stays or not people:
            continue
        _Visitor(
            convict,
            stays[convict],
            spans[convict],
            isolation.get(convict, []),
            extras.get(convict, []),
            people,
            world,
            rooms_used,
            records,
            rng,
        ).run()
    return records


def _by_convict(rows: list[tuple], by_start: bool = False) -> dict[int, list[tuple]]:
    """Rows grouped by convict (the first field), in time order.

    With ``by_start`` the rows are (facility, start, ...) and are ordered by
    start: ordering them by facility would make the condition lookup read the
    wrong span (a convict moved from facility 9 to facility 3 kept the
    conditions of 9).
    """
    out: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        out[row[0]].append(row[1:])
    for value in out.values():
        value.sort(key=(lambda r: (r[1], r[0])) if by_start else None)
    return out


def _extra_visits(discipline: pd.DataFrame) -> dict[int, list[tuple]]:
    """Per convict: (day, visit type, event index) of extra visits granted as incentives."""
    extra = discipline[discipline["measure"].isin(["extra_short_visit", "extra_long_visit"])]
    out: dict[int, list[tuple]] = defaultdict(list)
    for index, convict, d, measure in zip(
        extra.index, extra["convict"], extra["day"], extra["measure"], strict=True
    ):
        out[int(convict)].append(
            (int(d), "short" if measure == "extra_short_visit" else "long", index)
        )
    return out


class _Visitor:
    def __init__(
        self, convict, stays, spans, isolation, extras, people, world, rooms_used, records, rng
    ) -> None:
        self.c, self.stays, self.spans = convict, stays, spans
        self.span_starts = [s[1] for s in spans]
        self.isolation, self.extras, self.people = isolation, sorted(extras), people
        self.w, self.rooms_used, self.rec, self.rng = world, rooms_used, records, rng
        self.count: dict[tuple[int, str], int] = defaultdict(int)
        self.days = world.rulebook.visits.long_visit_days.value

    def run(self) -> None:
        w0, w1 = self.w.window
        use = self.rng.beta(2.5, 2.0)
        for facility, arrive, leave in self.stays:
            same_region = self.w.facility_region[facility] == self.w.home_region[self.c]
            km = self.w.distance_km[self.w.home_region[self.c], self.w.facility_region[facility]]
            reach = 1.0 if same_region else (0.7 if km < 600 else 0.4)
            for year in range(year_of(max(arrive, w0)), year_of(min(leave, w1)) + 1):
                low = max(arrive, w0, year_start(year))
                high = min(leave, w1 + 1, year_start(year + 1))
                if high - low < 7:
                    continue
                share = (high - low) / 365.0
                for kind in ("short", "long"):
                    quota = self._quota(facility, self._condition(low), kind)
                    n = self.rng.binomial(quota, min(1.0, use * reach * share)) if quota else 0
                    extra = [e for e in self.extras if e[1] == kind and low <= e[0] < high]
                    planned = [(int(d), None) for d in self.rng.integers(low, high, n)]
                    planned += [(e[0] + int(self.rng.integers(7, 60)), e[2]) for e in extra]
                    for d, incentive in sorted(planned, key=lambda p: p[0]):
                        if low <= d < high and year_of(d) == year:
                            self._try(facility, arrive, leave, kind, d, incentive)

    def _condition(self, d: int) -> str:
        k = bisect_right(self.span_starts, d) - 1
        return self.spans[max(k, 0)][3]

    def _quota(self, facility: int, condition: str, kind: str) -> int:
        pair = self.w.rulebook.quota(str(self.w.levels[facility]), condition)
        return 0 if pair is None else pair[0 if kind == "short" else 1]

    def _cap(self, facility: int, d: int, kind: str) -> int:
        granted = sum(
            1 for e in self.extras if e[1] == kind and year_of(e[0]) == year_of(d) and e[0] < d
        )
        return self._quota(facility, self._condition(d), kind) + granted

    def _isolated(self, first: int, last: int) -> bool:
        return any(s <= last and first < e for s, e in self.isolation)

    def _try(self, facility, arrive, leave, kind, d, incentive) -> None:
        last = d + (self.days if kind == "long" else 0)
        if d < arrive or last >= leave or self._isolated(d - 1, last):
            return
        if self._condition(last) != self._condition(d):
            return
        year = year_of(d)
        if self.count[(year, kind)] + 1 > self._cap(facility, d, kind):
            return
        if kind == "long" and self._quota(facility, self._condition(d), "long") == 0:
            return
        person = self._visitor(kind, d, last)
        if person is None:
            return
        room = None
        if kind == "long":
            room = self._room(facility, d)
            if room is None:
                return
            registration = self._register(facility, arrive, person, d, incentive)
            start = d + self.rng.uniform(11, 13) / 24
            end = d + self.days + self.rng.uniform(7, 10) / 24
        else:
            registration = None
            start = d + self.rng.uniform(9, 16) / 24
            hours = (
                self.rng.uniform(0.5, 2.0) if self.rng.random() > 0.03 else self.rng.uniform(2, 3.8)
            )
            end = start + hours / 24
        self.count[(year, kind)] += 1
        self.rec.visits.append((self.c, facility, person, kind, start, end, room, registration))

    def _visitor(self, kind: str, first: int, last: int) -> int | None:
        able = [
            p
            for p, entitled, registered, death, c0, c1 in self.people
            if (death < 0 or death > last + 1)
            and not (c0 <= last and first <= c1)
            and (kind == "short" or (entitled and registered + REGISTRATION_LEAD_DAYS <= first))
        ]
        if not able:
            return None
        return int(able[0] if kind == "long" and self.rng.random() < 0.6 else self.rng.choice(able))

    def _room(self, facility: int, d: int) -> int | None:
        rooms = int(self.w.rooms[facility])
        used = 0
        for night in range(d, d + self.days):
            used |= self.rooms_used[(facility, night)]
        for room in range(rooms):
            if not used & (1 << room):
                for night in range(d, d + self.days):
                    self.rooms_used[(facility, night)] |= 1 << room
                return room + 1
        return None

    def _register(self, facility, arrive, person, d, incentive) -> int:
        requested = max(arrive, d - int(self.rng.integers(14, 46)))
        decided = min(d, requested + int(self.rng.integers(1, 11)))
        basis = "quota" if incentive is None else "incentive"
        self.rec.registrations.append(
            (
                self.c,
                facility,
                person,
                requested,
                decided,
                "approved",
                d,
                self.days,
                basis,
                incentive,
            )
        )
        return len(self.rec.registrations) - 1
