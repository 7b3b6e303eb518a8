"""What scheme injectors share: where convicts were, fresh ids, camouflaged rows.

A planted record must look like a normal one: the right staff role on duty,
entry made promptly, identifiers from the same opaque space, times of day as
usual. Only what the scheme itself changes differs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.synthetic.calendar_days import as_dates
from anomaly.synthetic.world import World

DAY = pd.Timedelta(days=1)


class Planter:
    """Helpers over a world being corrupted."""

    def __init__(self, world: World, internals: dict, rng: np.random.Generator) -> None:
        self.world, self.rng = world, rng
        self.t = world.tables
        builder = internals["builder"]
        self.roster = builder.roster
        self.rulebook = internals["rulebook"]
        self.fac_index = {f: k for k, f in enumerate(builder.fac_ids)}
        stays = pd.DataFrame(
            internals["events"].stays, columns=["convict", "facility", "arrive", "leave"]
        )
        self.stays = pd.DataFrame(
            {
                "convict_id": builder.cid[stays["convict"].to_numpy()],
                "facility_id": builder.fac_ids[stays["facility"].to_numpy()],
                "arrive": as_dates(stays["arrive"].to_numpy()),
                "leave": as_dates(stays["leave"].to_numpy()),
            }
        )
        self.window = (pd.Timestamp(world.scale.window_start), pd.Timestamp(world.scale.window_end))
        self.used: dict[str, set[str]] = {}
        self.pending: dict[str, list[dict]] = {}
        self.taken: set[str] = set()  # convicts already used by a scheme

    # choosing --------------------------------------------------------------
    def pick(self, frame: pd.DataFrame, n: int, column: str = "convict_id") -> pd.DataFrame:
        """Up to n rows of ``frame`` whose convict no other scheme has used."""
        free = frame[~frame[column].isin(self.taken)]
        free = free.drop_duplicates(subset=[column])
        chosen = free.sample(n=min(n, len(free)), random_state=int(self.rng.integers(2**31)))
        self.taken.update(chosen[column])
        return chosen

    def window_stays(self, min_days: int = 120) -> pd.DataFrame:
        """Stays overlapping the window by at least ``min_days``, with level and rooms."""
        lo, hi = self.window
        s = self.stays.assign(
            start=self.stays["arrive"].clip(lower=lo), end=self.stays["leave"].clip(upper=hi)
        )
        s = s[(s["end"] - s["start"]).dt.days >= min_days]
        f = self.t["facilities"].set_index("facility_id")
        return s.join(f[["security_level", "long_visit_rooms", "region_id"]], on="facility_id")

    def day_in(self, start: pd.Timestamp, end: pd.Timestamp) -> pd.Timestamp:
        span = max(1, (end - start).days)
        return start + int(self.rng.integers(0, span)) * DAY

    # writing ---------------------------------------------------------------
    def new_id(self, table: str, column: str, prefix: str) -> str:
        """An id shaped like the table's others, unused so far."""
        existing = self.t[table][column]
        if table not in self.used:
            self.used[table] = set(existing.astype(str))
        width = len(str(existing.iloc[0])) - len(prefix) if len(existing) else 6
        while True:
            candidate = f"{prefix}{int(self.rng.integers(0, 10**width)):0{width}d}"
            if candidate not in self.used[table]:
                self.used[table].add(candidate)
                return candidate

    def staff_on(self, facility_id: str, role: str, on: pd.Timestamp) -> str:
        day = (on - pd.Timestamp("1970-01-01")).days
        return str(
            self.roster.pick(
                np.array([self.fac_index[facility_id]]), np.array([day]), role, self.rng
            )[0]
        )

    def recorded(self, on: pd.Timestamp, hours: tuple[float, float] = (6, 30)) -> pd.Timestamp:
        return (on + pd.Timedelta(hours=float(self.rng.uniform(*hours)))).floor("s")

    def add(self, table: str, row: dict) -> None:
        """Queue a row; ``finish`` appends the queued rows of every table at once."""
        self.pending.setdefault(table, []).append(row)

    def finish(self) -> None:
        for table, rows in self.pending.items():
            frame = self.t[table]
            new = pd.DataFrame(rows, columns=frame.columns).astype(frame.dtypes.to_dict())
            self.t[table] = pd.concat([frame, new], ignore_index=True)
        self.pending = {}

    def add_person(self, region_id: str, sex: str | None = None, **cells) -> str:
        person_id = self.new_id("persons", "person_id", "PS")
        birth = pd.Timestamp("1970-01-01") + int(self.rng.integers(0, 30 * 365)) * DAY
        row = {
            "person_id": person_id,
            "sex": sex or ("F" if self.rng.random() < 0.7 else "M"),
            "birth_date": birth,
            "region_id": region_id,
            "death_date": pd.NaT,
            "convict_id": None,
        }
        row.update(cells)
        self.add("persons", row)
        return person_id

    def add_long_visit(
        self,
        convict_id: str,
        facility_id: str,
        person_id: str,
        start: pd.Timestamp,
        registration: str | None = "approved",
        logged_by: str | None = None,
        basis: str = "quota",
        incentive: str | None = None,
    ) -> list[str]:
        """A long visit with (by default) an approved registration; returns its record refs."""
        refs = []
        registration_id = None
        if registration is not None:
            registration_id = self.new_id("long_visit_registrations", "registration_id", "LR")
            requested = start - int(self.rng.integers(14, 40)) * DAY
            decided = requested + int(self.rng.integers(1, 8)) * DAY
            self.add(
                "long_visit_registrations",
                {
                    "registration_id": registration_id,
                    "convict_id": convict_id,
                    "facility_id": facility_id,
                    "visitor_person_id": person_id,
                    "requested_on": requested,
                    "decided_on": decided,
                    "decision": registration,
                    "decided_by": self.staff_on(facility_id, "deputy_head", decided),
                    "planned_start": start,
                    "planned_days": 2,
                    "basis": basis,
                    "incentive_event_id": incentive,
                    "recorded_at": self.recorded(decided),
                },
            )
            refs.append(f"long_visit_registrations:{registration_id}")
        visit_id = self.new_id("visit_logs", "visit_id", "VS")
        began = start + pd.Timedelta(hours=float(self.rng.uniform(11, 13)))
        ended = start + 2 * DAY + pd.Timedelta(hours=float(self.rng.uniform(7, 10)))
        self.add(
            "visit_logs",
            {
                "visit_id": visit_id,
                "convict_id": convict_id,
                "facility_id": facility_id,
                "visitor_person_id": person_id,
                "accompanying": int(self.rng.integers(0, 2)),
                "visit_type": "long",
                "started_at": began.floor("s"),
                "ended_at": ended.floor("s"),
                "room": f"R-{int(self.rng.integers(1, 3))}",
                "registration_id": registration_id,
                "logged_by": logged_by or self.staff_on(facility_id, "visits_officer", start),
                "recorded_at": self.recorded(ended, (0.2, 5)),
            },
        )
        return [f"visit_logs:{visit_id}", *refs]


def in_window(p: Planter, frame: pd.DataFrame, column: str, margin: int = 30) -> pd.DataFrame:
    """The rows of ``frame`` whose ``column`` falls ``margin`` days inside the window."""
    lo, hi = p.window
    return frame[(frame[column] > lo + margin * DAY) & (frame[column] < hi - margin * DAY)]
