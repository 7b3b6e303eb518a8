"""The visit tables of a synthetic world: long-visit registrations and the visit log.

A part of ``synthetic.world_tables.TableBuilder``, whose attributes it reads
(the convicts, the staff roster, the person rows, the generator).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from anomaly.rulebook import Rulebook
from anomaly.synthetic.calendar_days import as_dates, as_timestamps, day
from anomaly.synthetic.custody_model import Events
from anomaly.synthetic.geography import Geography
from anomaly.synthetic.records_assembly import (
    StaffRoster,
    opaque_ids,
    recorded_after,
)
from anomaly.synthetic.scales import Scale
from anomaly.synthetic.visits import VisitWorld, schedule_visits


class VisitTables:
    """Builds ``long_visit_registrations`` and ``visit_logs`` for a ``TableBuilder``."""

    # set by TableBuilder before the visits are built
    scale: Scale
    geo: Geography
    f: pd.DataFrame
    c: pd.DataFrame
    ev: Events
    rb: Rulebook
    rng: np.random.Generator
    cid: np.ndarray
    fac_ids: np.ndarray
    roster: StaffRoster
    person_rows: Any
    discipline: pd.DataFrame

    def _visits(self, t, first_stay) -> tuple[pd.DataFrame, pd.DataFrame]:
        p = self.person_rows
        custody = {
            cid: (int(s) - 60, int(e) if e >= 0 else 10**9)
            for cid, s, e in zip(
                self.c["convict_id"], self.c["start_day"], self.c["end_day"], strict=True
            )
        }
        entitled = p["relation"].isin(self.rb.entitled_relations).to_numpy()
        people: dict[int, list[tuple]] = {}
        for row, (owner, ent, reg, death, link) in enumerate(
            zip(
                p["owner"],
                entitled,
                p["registered_day"],
                p["death_day"],
                p["convict_link"],
                strict=True,
            )
        ):
            c0, c1 = custody.get(link, (10**9, -1)) if isinstance(link, str) else (10**9, -1)
            people.setdefault(int(owner), []).append((row, bool(ent), int(reg), int(death), c0, c1))
        region_index = {r: k for k, r in enumerate(self.geo.regions["region_id"])}
        world = VisitWorld(
            levels=self.f["security_level"].to_numpy(),
            rooms=self.f["long_visit_rooms"].to_numpy(),
            facility_region=self.f["region_id"].map(region_index).to_numpy(),
            home_region=self.c["home_region_id"].map(region_index).to_numpy(),
            distance_km=self.geo.distance_km,
            window=(day(self.scale.window_start), day(self.scale.window_end)),
            rulebook=self.rb,
        )
        records = schedule_visits(self.ev, self.discipline, people, world, self.rng)
        return self._registration_table(records, t), self._visit_table(records, t)

    def _registration_table(self, records, t) -> pd.DataFrame:
        r = pd.DataFrame(
            records.registrations,
            columns=[
                "convict",
                "facility",
                "person",
                "requested",
                "decided",
                "decision",
                "planned",
                "days",
                "basis",
                "incentive",
            ],
        )
        n = len(r)
        self.registration_ids = opaque_ids("LR", n, self.rng)
        role = np.where(self.rng.random(n) < 0.6, "deputy_head", "head")
        decided_by = np.empty(n, dtype=object)
        for rl in ("head", "deputy_head"):
            m = role == rl
            decided_by[m] = self.roster.pick(
                r["facility"].to_numpy()[m], r["decided"].to_numpy()[m], rl, self.rng
            )
        event_ids = t["disciplinary_events"]["event_id"].to_numpy()
        incentive = [
            event_ids[int(k)] if k == k and k is not None else None for k in r["incentive"]
        ]
        return pd.DataFrame(
            {
                "registration_id": self.registration_ids,
                "convict_id": self.cid[r["convict"].to_numpy()],
                "facility_id": self.fac_ids[r["facility"].to_numpy()],
                "visitor_person_id": self.person_rows["person_id"].to_numpy()[
                    r["person"].to_numpy()
                ],
                "requested_on": as_dates(r["requested"].to_numpy()),
                "decided_on": as_dates(r["decided"].to_numpy()),
                "decision": r["decision"],
                "decided_by": decided_by,
                "planned_start": as_dates(r["planned"].to_numpy()),
                "planned_days": r["days"].astype("Int64"),
                "basis": r["basis"],
                "incentive_event_id": pd.Series(incentive, dtype=object),
                "recorded_at": recorded_after(r["decided"].to_numpy(), self.rng),
            }
        )

    def _visit_table(self, records, t) -> pd.DataFrame:
        v = pd.DataFrame(
            records.visits,
            columns=[
                "convict",
                "facility",
                "person",
                "type",
                "start",
                "end",
                "room",
                "registration",
            ],
        )
        n = len(v)
        start_day = np.floor(v["start"].to_numpy()).astype(int)
        long = v["type"].eq("long").to_numpy()
        registration = np.array(
            [
                self.registration_ids[int(k)] if k == k and k is not None else None
                for k in v["registration"]
            ],
            dtype=object,
        )
        delay_hours = self.rng.uniform(0.1, 6, n) + np.where(
            self.rng.random(n) < 0.05, self.rng.integers(1, 20, n) * 24, 0
        )
        return pd.DataFrame(
            {
                "visit_id": opaque_ids("VS", n, self.rng),
                "convict_id": self.cid[v["convict"].to_numpy()],
                "facility_id": self.fac_ids[v["facility"].to_numpy()],
                "visitor_person_id": self.person_rows["person_id"].to_numpy()[
                    v["person"].to_numpy()
                ],
                "accompanying": np.where(
                    long, self.rng.integers(0, 3, n), self.rng.integers(0, 2, n)
                ).astype("int64"),
                "visit_type": v["type"],
                "started_at": as_timestamps(v["start"].to_numpy()),
                "ended_at": as_timestamps(v["end"].to_numpy()),
                "room": [f"R-{int(x)}" if x == x and x is not None else None for x in v["room"]],
                "registration_id": registration,
                "logged_by": self.roster.pick(
                    v["facility"].to_numpy(), start_day, "visits_officer", self.rng
                ),
                "recorded_at": as_timestamps(v["end"].to_numpy() + delay_hours / 24),
            }
        )
