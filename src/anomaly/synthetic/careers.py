"""What happens to each convict in custody: placement, transfers, discipline, degrees, conditions.

The normal simulation obeys the rule book under its strictest reading, so a
clean world breaks no rule whichever reasonable reading a detector takes:

- a positive degree is given only when its criteria hold *and* there was no
  penalty in the 12 months before; negative degrees exactly when the rule says;
- conditions change only at a commission review when the criteria hold;
- a convict is placed in the home region when an institution of the ordered
  type has room there, otherwise in the nearest one with room.

The loop is per convict (events of one convict depend on each other) and
keeps to plain Python lists and ``bisect``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort

import numpy as np
import pandas as pd

from anomaly.synthetic.calendar_days import add_months
from anomaly.synthetic.custody_model import (
    COURT_TRIP_PER_REVIEW,
    INCENTIVE_MEASURES,
    MILDER_TYPE_PER_REVIEW,
    PENALTY_MEASURES,
    PUNCTUAL_COMMISSION,
    RATES,
    REVIEW_DAYS,
    TRANSFER_GROUNDS,
    Events,
    Placer,
    Setting,
    placement_group,
)

CONVICT_COLUMNS = ("start_day", "end_day", "court_security_level", "sex", "housekeeping",
                   "home_region_id", "conduct", "offense_gravity")  # fmt: skip
"""What a career starts from, in the order ``_Career`` takes it."""


def simulate_careers(convicts: pd.DataFrame, setting: Setting, rng: np.random.Generator) -> Events:
    """Simulate every convict's time in custody, in order of sentence start."""
    events = Events()
    placer = Placer(setting)
    order = np.argsort(convicts["start_day"].to_numpy(), kind="stable")
    columns = [convicts[c].to_numpy() for c in CONVICT_COLUMNS]
    for i in order:
        convict = tuple(c[i] for c in columns)
        _Career(int(i), convict, setting=setting, placer=placer, events=events, rng=rng).run()
    return events


class _Career:
    def __init__(self, i: int, convict: tuple, *, setting, placer, events, rng) -> None:
        start, end, level, sex, housekeeping, home, conduct, gravity = convict
        self.i, self.start, self.level, self.sex = i, int(start), level, sex
        self.housekeeping, self.home, self.conduct = bool(housekeeping), home, conduct
        self.gravity = gravity
        self.s, self.placer, self.ev, self.rng = setting, placer, events, rng
        self.rb = setting.rulebook
        self.sentence_end = int(end)
        self.stop = min(
            self.sentence_end if self.sentence_end >= 0 else 10**9, setting.extraction_day
        )
        if 0 <= self.sentence_end <= setting.extraction_day:
            events.releases[i] = self.sentence_end
        self.degree, self.degree_day = 0, -1
        self.trip: tuple[str, int] | None = None  # (ground, institution to return to)
        self.penalties: list[int] = []
        self.malicious: list[int] = []
        self.incentives: list[int] = []

    # -- the loop ---------------------------------------------------------
    def run(self) -> None:
        arrive = self.start + int(self.rng.integers(3, 25))
        if arrive >= self.stop - 2:
            self.ev.releases.pop(self.i, None)
            return
        self.placer.advance(arrive)
        group = placement_group(self.level, self.sex, self.housekeeping)
        facility = self.placer.place(group, self.home, arrive)
        depart = max(self.start, arrive - int(self.rng.integers(0, 3)))
        consent = True if self.housekeeping else None
        self._transfer(None, facility, depart, arrive, "intake", consent)
        self._plan_life(arrive)
        while facility >= 0:
            facility, arrive = self._stay(facility, arrive)

    def _plan_life(self, arrive: int) -> None:
        rng, years = self.rng, (self.stop - arrive) / 365.25
        inc_rate, pen_rate, malicious_share = RATES[self.conduct]
        n_inc, n_pen = rng.poisson(inc_rate * years), rng.poisson(pen_rate * years)
        self.inc_days = sorted(
            rng.integers(arrive + 20, max(self.stop, arrive + 21), n_inc).tolist()
        )
        self.pen_days = sorted(rng.integers(arrive + 5, max(self.stop, arrive + 6), n_pen).tolist())
        self.pen_malicious = (rng.random(n_pen) < malicious_share).tolist()
        member_p = {"good": 0.55, "average": 0.3, "poor": 0.05}[self.conduct]
        self.member_from = arrive + int(rng.integers(30, 540)) if rng.random() < member_p else 10**9
        self.works: list[tuple[int, int, str]] = []
        juvenile = self.level == "juvenile"
        for kind, p in (("work", 0.5 if juvenile else 0.38), ("study", 0.8 if juvenile else 0.12)):
            if rng.random() < p:
                s = arrive + int(rng.integers(10, 200))
                self.works.append((s, s + int(rng.integers(180, 1500)), kind))

    def _stay(self, facility: int, arrive: int) -> tuple[int, int]:
        """Live in one institution; return (next institution, arrival day) or (-1, -1)."""
        if self.trip is not None:
            return self._away(facility, arrive)
        rng = self.rng
        level = str(self.s.level[facility])
        rule_level = "medium" if level == "mixed" else level
        lenient = self.s.leniency.get(facility, 1.0)
        closed = int(self.s.closed[facility])
        self.here, self.arrived_here = facility, arrive
        self._forget_planned_before(arrive)
        cond, cond_day = "regular", arrive
        self._condition(arrive, None, "regular", protocol=False)
        last, leave, plan = arrive, self.stop, None
        r = arrive + int(rng.integers(20, REVIEW_DAYS))
        while r < self.stop:
            if closed >= 0 and r >= closed - 8:  # reorganisation: everyone moves out
                leave = max(last + 1, closed - int(rng.integers(0, 5)))
                plan = ("reorganization", (level, bool(self.s.women[facility])))
                break
            self._discipline_until(r, lenient)
            self._review_degree(r)
            c = r + 3
            if c >= self.stop:
                break
            self._discipline_until(c, lenient)  # the commission sees every penalty up to its day
            new = self._next_condition(rule_level, cond, cond_day, c, lenient)
            if new != cond:
                self.ev.condition_spans.append((self.i, facility, cond_day, c, cond))
                self._condition(c, cond, new, protocol=True)
                cond, cond_day = new, c
            last = c
            plan = self._maybe_transfer(level, facility, cond, c)
            if plan:
                leave = c + int(rng.integers(5, 20))
                break
            r = self._next_review(r, rule_level, cond, cond_day, c)
        leave = min(leave, self.stop)
        self._discipline_until(leave - 1, lenient)
        self.ev.condition_spans.append((self.i, facility, cond_day, leave, cond))
        self.ev.stays.append((self.i, facility, arrive, leave))
        self.placer.occupy(facility, leave)
        self._membership_and_work(facility, arrive, leave)
        if plan is None or leave >= self.stop:
            return -1, -1
        return self._move(facility, plan, leave)

    def _away(self, facility: int, arrive: int) -> tuple[int, int]:
        """A stay in a hospital or at court: regular conditions, no review, then back."""
        ground, home = self.trip or ("", -1)
        self.trip, self.here, self.arrived_here = None, facility, arrive
        self._forget_planned_before(arrive)
        low, high = self.placer.trip_stays[ground]
        leave = min(arrive + int(self.rng.integers(low, high)), self.stop)
        self._condition(arrive, None, "regular", protocol=False)
        self._discipline_until(leave - 1, 1.0)
        self.ev.condition_spans.append((self.i, facility, arrive, leave, "regular"))
        self.ev.stays.append((self.i, facility, arrive, leave))
        self.placer.occupy(facility, leave)
        if leave >= self.stop:
            return -1, -1
        closed = int(self.s.closed[home])
        if 0 <= closed <= leave + 30:  # the institution closed meanwhile: another of its type
            home = self.placer.place((str(self.s.level[home]), bool(self.s.women[home])),
                                     self.home, leave, exclude=home)  # fmt: skip
        back = leave + int(self.rng.integers(1, 4))
        if back >= self.stop - 2:
            return -1, -1
        self._transfer(facility, home, leave, back, ground, None)
        return home, back

    def _forget_planned_before(self, arrive: int) -> None:
        """Whatever was planned while in transit did not happen."""
        self.inc_days = [d for d in self.inc_days if d >= arrive]
        keep = [k for k, d in enumerate(self.pen_days) if d >= arrive]
        self.pen_days = [self.pen_days[k] for k in keep]
        self.pen_malicious = [self.pen_malicious[k] for k in keep]

    def _trip(self, facility: int, ground: str, depart: int) -> tuple[int, int]:
        """Go to the nearest hospital, or to the pre-trial centre of the home region."""
        origin = self.s.region[facility]
        if ground == "medical":
            pool = self.placer.hospitals
            to = int(pool[np.argmin(self.s.distance_km[origin, self.s.region[pool]])])
        else:
            home_r = self.s.region_index[self.home]
            pool = self.placer.groups[("mixed", False)]
            to = int(pool[self.s.region[pool] == home_r][0])
        arrive = depart + int(self.rng.integers(1, 4))
        if arrive >= self.stop - 2:
            return -1, -1
        self.trip = (ground, facility)
        self._transfer(facility, to, depart, arrive, ground, None)
        return to, arrive

    def _move(self, facility: int, plan: tuple, depart: int) -> tuple[int, int]:
        ground, group = plan
        self.placer.advance(depart)
        if group == "trip":
            return self._trip(facility, ground, depart)
        if ground in ("reorganization", "security_level_change"):
            to = self.placer.place(group, self.home, depart, exclude=facility)
        else:  # art. 88 moves are the administration's choice, not the convict's
            pool = self.placer.open_in(group, depart, exclude=facility)
            if len(pool) == 0:
                return -1, -1
            to = int(self.rng.choice(pool))
        arrive = depart + int(self.rng.integers(1, 6))
        if arrive >= self.stop - 2:
            return -1, -1
        consent = True if ground == "operational_need" else None
        self._transfer(facility, to, depart, arrive, ground, consent)
        return to, arrive

    # -- decisions --------------------------------------------------------
    def _discipline_until(self, until: int, lenient: float) -> None:
        rng, facility = self.rng, self.here
        while self.inc_days and self.inc_days[0] <= until:
            d = self.inc_days.pop(0)
            measure = INCENTIVE_MEASURES[0][rng.choice(5, p=INCENTIVE_MEASURES[1])]
            insort(self.incentives, d)
            self.ev.discipline.append((self.i, facility, d, "incentive", measure, None))
        if lenient > 1 and rng.random() < 0.3 * (lenient - 1):
            d = until - int(rng.integers(1, 60))  # a lenient administration thanks more often
            newest_penalty = self.penalties[-1] if self.penalties else -1
            if d > max(self.arrived_here, self.degree_day, newest_penalty):
                insort(self.incentives, d)
                self.ev.discipline.append((self.i, facility, d, "incentive", "gratitude", None))
        while self.pen_days and self.pen_days[0] <= until:
            d = self.pen_days.pop(0)
            malicious = self.pen_malicious.pop(0)
            if lenient > 1 and rng.random() < 0.7:
                continue  # ... and overlooks most violations
            if malicious:
                measure, days = "malicious_violator", None
                self.malicious.append(d)
            else:
                measure = PENALTY_MEASURES[0][rng.choice(4, p=PENALTY_MEASURES[1])]
                days = int(rng.integers(3, 16)) if measure == "isolation" else None
                if days:
                    self.ev.isolation.append((self.i, d, d + days))
            self.penalties.append(d)
            self.ev.discipline.append((self.i, facility, d, "penalty", measure, days))

    def _review_degree(self, r: int) -> None:
        rb = self.rb.degrees
        year_ago = add_months(r, -rb.negative_lookback_months.value)
        recent = _count(self.penalties, year_ago + 1, r)
        if recent:
            target = -1
            if recent >= rb.negative_2_min_penalties.value:
                target = -2
            if _count(self.malicious, year_ago + 1, r):
                target = -3
            fresh = self.penalties[-1] > self.degree_day
            if target != self.degree and (self.degree >= 0 or fresh or target < self.degree):
                self._degree(r, target)
            return
        target = max(self.degree, 0)
        member = self.member_from <= r
        since = self.degree_day
        if self.degree <= 0:
            k = bisect_right(self.incentives, r)
            latest = self.incentives[k - 1] if k else None
            if (
                latest is not None
                and add_months(latest, rb.positive_1_clean_months.value) <= r
                and _count(self.penalties, latest, r) == 0
            ):
                target = 1
        elif self.degree == 1 and member and _count(self.penalties, since, r) == 0:
            if add_months(since, rb.positive_2_months_after_1.value) <= r:
                target = 2
        elif self.degree == 2 and member and _count(self.penalties, since, r) == 0:
            if add_months(since, rb.positive_3_months_after_2.value) <= r:
                target = 3
        lenient = self.s.leniency.get(self.here, 1.0) > 1
        if target != self.degree and (lenient or self.rng.random() < 0.8):
            self._degree(r, target)

    def _next_review(self, r: int, level: str, cond: str, since: int, last: int) -> int:
        """The next commission day; a punctual commission meets on the very day a
        convict in regular conditions becomes eligible for light ones (a legal
        boundary the detectors must not flag)."""
        following = r + REVIEW_DAYS + int(self.rng.integers(-10, 11))
        months = self.rb.periods(level).regular_to_light
        if cond != "regular" or months is None or level == "complete" or self.degree < 1:
            return following
        eligible = add_months(since, months)
        if last < eligible - 3 < following and self.rng.random() < PUNCTUAL_COMMISSION:
            return eligible - 3
        return following

    def _next_condition(self, level: str, cond: str, since: int, c: int, lenient: float) -> str:
        periods = self.rb.periods(level)
        penalty_since = _count(self.penalties, since, c) > 0
        if self.degree == -3 and cond != "strict" and self.malicious[-1] >= since:
            return "strict"
        if cond == "light" and penalty_since:
            return "regular"
        if cond == "preferential" and penalty_since:
            return "light"
        move = self.rng.random() < min(1.0, 0.45 * lenient)
        if cond == "strict":
            months = periods.strict_to_regular or 6
            ok = add_months(since, months) <= c and not penalty_since
            if level == "complete":
                ok = ok and self.degree >= 1
            return "regular" if ok and move else cond
        if cond == "regular" and periods.regular_to_light is not None and self.degree >= 1:
            if level == "complete":
                ok = add_months(self.start, periods.regular_to_light) <= c
            else:
                ok = add_months(since, periods.regular_to_light) <= c and self._working(c)
            if level == "juvenile":
                ok = ok and not penalty_since
            return "light" if ok and move else cond
        if cond == "light" and periods.light_to_preferential is not None and self.degree == 3:
            before = periods.preferential_before_release
            near = self.sentence_end >= 0 and add_months(self.sentence_end, -before) <= c
            ok = near and add_months(since, periods.light_to_preferential) <= c
            return "preferential" if ok and move else cond
        return cond

    def _working(self, c: int) -> bool:
        active = {kind for s, e, kind in self.works if s <= c < e}
        if self.level == "juvenile":
            return {"work", "study"} <= active
        return bool(active)

    def _maybe_transfer(self, level: str, facility: int, cond: str, today: int) -> tuple | None:
        rng = self.rng
        if level in ("mixed", "juvenile"):
            return None
        same_type = (level, bool(self.s.women[facility]))
        if self._milder_type_due(level, cond, today) and rng.random() < MILDER_TYPE_PER_REVIEW:
            return ("security_level_change", ("minimum", same_type[1]))
        if self.degree == -3 and self.sex == "M" and level in ("medium", "maximum"):
            if rng.random() < 0.08:
                stricter = {"medium": "maximum", "maximum": "extreme"}[level]
                return ("security_level_change", (stricter, False))
        if self.s.court_trips and rng.random() < COURT_TRIP_PER_REVIEW:
            return ("court_order", "trip")
        if rng.random() < 0.012:
            ground = TRANSFER_GROUNDS[0][rng.choice(4, p=TRANSFER_GROUNDS[1])]
            if ground == "medical" and len(self.placer.hospitals):
                return (ground, "trip")
            if ground == "order_maintenance" and self.sex == "M" and rng.random() < 0.15:
                return (ground, ("mixed", False))
            return (ground, same_type)
        return None

    def _milder_type_due(self, level: str, cond: str, today: int) -> bool:
        """PEC art. 96: from medium or maximum to minimum, for degree +2 or +3 in light or
        preferential conditions, after a quarter (minor, medium) or a third (grave) of the
        term; never for especially grave crimes."""
        part = {"minor": 0.25, "medium": 0.25, "grave": 1 / 3}.get(self.gravity)
        if part is None or level not in ("medium", "maximum") or self.sentence_end < 0:
            return False
        served = (today - self.start) / max(self.sentence_end - self.start, 1)
        return self.degree >= 2 and cond in ("light", "preferential") and served >= part + 0.02

    # -- records ----------------------------------------------------------
    def _degree(self, r: int, value: int) -> None:
        self.degree, self.degree_day = value, r
        self.ev.degrees.append((self.i, self.here, r, value))

    def _condition(self, d: int, old: str | None, new: str, protocol: bool) -> None:
        self.ev.conditions.append((self.i, self.here, d, old, new, protocol))

    def _transfer(self, src, dst, depart, arrive, ground, consent) -> None:
        self.ev.transfers.append((self.i, src, dst, depart, arrive, ground, consent))

    def _membership_and_work(self, facility: int, arrive: int, leave: int) -> None:
        open_end = leave >= self.s.extraction_day
        joined = max(self.member_from, arrive)
        if joined < leave:
            self.ev.memberships.append((self.i, facility, joined, -1 if open_end else leave))
        for s, e, kind in self.works:
            s2, e2 = max(s, arrive), min(e, leave)
            if s2 < e2:
                ended = -1 if e2 >= self.s.extraction_day else e2
                self.ev.work.append((self.i, facility, s2, ended, kind))


def _count(days: list[int], low: int, high: int) -> int:
    """Events with low <= day <= high in a sorted list."""
    return bisect_right(days, high) - bisect_left(days, low)
