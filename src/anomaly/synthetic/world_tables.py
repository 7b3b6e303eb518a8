"""The spec tables of a synthetic world, assembled from the simulated careers.

``TableBuilder`` also keeps the index maps the scheme planters need (staff
roster, person rows, registration ids). The visit tables are built by
``synthetic.visit_tables``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.synthetic.calendar_days import as_dates, day
from anomaly.synthetic.custody_model import Events
from anomaly.synthetic.people import (
    latest_postings,
)
from anomaly.synthetic.records_assembly import (
    StaffRoster,
    opaque_ids,
    optional_dates,
    recorded_after,
)
from anomaly.synthetic.visit_tables import VisitTables


class TableBuilder(VisitTables):
    """Assembles spec tables from the simulation; keeps the index maps injectors need."""

    def __init__(
        self, scale, geo, facilities, convicts, staff, persons, events: Events, rulebook, rng
    ) -> None:
        self.scale, self.geo, self.f, self.c = scale, geo, facilities, convicts
        self.staff, self.persons, self.ev, self.rb, self.rng = staff, persons, events, rulebook, rng
        self.fac_ids = facilities["facility_id"].to_numpy()
        self.roster = StaffRoster(staff, {f: k for k, f in enumerate(self.fac_ids)})
        self.cid = convicts["convict_id"].to_numpy()
        placed = {row[0] for row in events.stays}
        self.present = set(self.cid[list(placed)])

    def build(self) -> dict[str, pd.DataFrame]:
        t: dict[str, pd.DataFrame] = {}
        t["regions"] = self.geo.regions[["region_id", "name", "lat", "lon"]].copy()
        t["facilities"] = self._facilities()
        t["staff"] = self._staff()
        t["convicts"] = self._convicts()
        first_stay = self._first_stay()
        t["persons"], t["kinship"] = self._persons_and_kinship(first_stay)
        t["disciplinary_events"] = self._discipline()
        t["transfers"] = self._transfers()
        t["condition_changes"] = self._conditions()
        t["degree_assignments"] = self._degrees()
        t["memberships"], t["work_assignments"] = self._memberships_and_work()
        t["long_visit_registrations"], t["visit_logs"] = self._visits(t, first_stay)
        return t

    # reference tables ----------------------------------------------------
    def _facilities(self) -> pd.DataFrame:
        f = self.f
        return pd.DataFrame(
            {
                "facility_id": f["facility_id"],
                "name": f["name"],
                "region_id": f["region_id"],
                "security_level": f["security_level"],
                "capacity": f["capacity"].astype("Int64"),
                "long_visit_rooms": f["long_visit_rooms"].astype("Int64"),
                "opened_on": as_dates(f["opened_day"].to_numpy()),
                "closed_on": optional_dates(f["closed_day"].to_numpy()),
            }
        )

    def _staff(self) -> pd.DataFrame:
        s = latest_postings(self.staff)
        return pd.DataFrame(
            {
                "staff_id": s["staff_id"],
                "facility_id": s["facility_id"],
                "role": s["role"],
                "from_date": as_dates(s["from_day"].to_numpy()),
                "to_date": optional_dates(s["to_day"].to_numpy()),
            }
        )

    def _convicts(self) -> pd.DataFrame:
        c = self.c[self.c["convict_id"].isin(self.present)]
        released = c.index.map(lambda i: self.ev.releases.get(i, -1)).to_numpy()
        return pd.DataFrame(
            {
                "convict_id": c["convict_id"],
                "sex": c["sex"],
                "birth_date": as_dates(c["birth_day"].to_numpy()),
                "home_region_id": c["home_region_id"],
                "sentence_start": as_dates(c["start_day"].to_numpy()),
                "sentence_end": optional_dates(c["end_day"].to_numpy()),
                "court_security_level": c["court_security_level"],
                "offense_gravity": c["offense_gravity"],
                "released_on": optional_dates(released),
            }
        ).reset_index(drop=True)

    def _first_stay(self) -> dict[int, tuple[int, int]]:
        first: dict[int, tuple[int, int]] = {}
        for convict, facility, arrive, _leave in self.ev.stays:
            if convict not in first or arrive < first[convict][1]:
                first[convict] = (facility, arrive)
        return first

    def _persons_and_kinship(self, first_stay) -> tuple[pd.DataFrame, pd.DataFrame]:
        p = self.persons[self.persons["owner"].isin(list(first_stay))].copy()
        owner_arrival = p["owner"].map(lambda o: first_stay[o][1]).to_numpy()
        owner_facility = p["owner"].map(lambda o: first_stay[o][0]).to_numpy()
        last_day = day(self.scale.window_end)
        p["registered_day"] = np.minimum(owner_arrival + self.rng.integers(3, 60, len(p)), last_day)
        persons = pd.DataFrame(
            {
                "person_id": p["person_id"],
                "sex": p["sex"],
                "birth_date": as_dates(p["birth_day"].to_numpy()),
                "region_id": p["region_id"],
                "death_date": optional_dates(p["death_day"].to_numpy()),
                "convict_id": p["convict_link"].where(p["convict_link"].isin(self.present)),
            }
        ).reset_index(drop=True)
        kin_rows = p[p["relation"].notna()]
        k_fac = owner_facility[p["relation"].notna().to_numpy()]
        k_day = kin_rows["registered_day"].to_numpy()
        docs = np.where(
            kin_rows["relation"].isin(["spouse"]),
            "MC-",
            np.where(kin_rows["relation"].eq("other"), "NT-", "BC-"),
        )
        numbers = self.rng.integers(100000, 999999, len(kin_rows))
        document = np.array([f"{a}{b}" for a, b in zip(docs, numbers, strict=True)], dtype=object)
        document[self.rng.random(len(kin_rows)) < 0.01] = None
        kinship = pd.DataFrame(
            {
                "convict_id": self.cid[kin_rows["owner"].to_numpy()],
                "person_id": kin_rows["person_id"].to_numpy(),
                "relation": kin_rows["relation"].to_numpy(),
                "registered_on": as_dates(k_day),
                "registered_by": self.roster.pick(k_fac, k_day, "records_officer", self.rng),
                "document_no": document,
            }
        )
        self.person_rows = p
        return persons, kinship

    # events --------------------------------------------------------------
    def _discipline(self) -> pd.DataFrame:
        d = pd.DataFrame(
            self.ev.discipline,
            columns=["convict", "facility", "day", "kind", "measure", "isolation_days"],
        )
        self.discipline = d
        n = len(d)
        d["event_id"] = opaque_ids("EV", n, self.rng)
        head = np.where(self.rng.random(n) < 0.85, "head", "deputy_head")
        decided = np.empty(n, dtype=object)
        for role in ("head", "deputy_head"):
            m = head == role
            decided[m] = self.roster.pick(
                d["facility"].to_numpy()[m], d["day"].to_numpy()[m], role, self.rng
            )
        return pd.DataFrame(
            {
                "event_id": d["event_id"],
                "convict_id": self.cid[d["convict"].to_numpy()],
                "facility_id": self.fac_ids[d["facility"].to_numpy()],
                "occurred_on": as_dates(d["day"].to_numpy()),
                "kind": d["kind"],
                "measure": d["measure"],
                "isolation_days": d["isolation_days"].astype("Int64"),
                "lifts_event_id": pd.Series([None] * n, dtype=object),
                "decided_by": decided,
                "recorded_at": recorded_after(d["day"].to_numpy(), self.rng),
            }
        )

    def _transfers(self) -> pd.DataFrame:
        t = pd.DataFrame(
            self.ev.transfers,
            columns=["convict", "src", "dst", "depart", "arrive", "ground", "consent"],
        )
        n = len(t)
        region_of = self.f["region_id"].to_numpy()
        mixed_of_region = dict(
            zip(
                self.f.loc[self.f["security_level"].eq("mixed"), "region_id"],
                self.f.index[self.f["security_level"].eq("mixed")],
                strict=True,
            )
        )
        committee_fac = np.array([mixed_of_region[region_of[d]] for d in t["dst"]])
        years = pd.Series(as_dates(t["depart"].to_numpy())).dt.year.to_numpy()
        src = t["src"].to_numpy()
        return pd.DataFrame(
            {
                "transfer_id": opaque_ids("TR", n, self.rng),
                "convict_id": self.cid[t["convict"].to_numpy()],
                "from_facility_id": pd.Series(
                    [self.fac_ids[int(s)] if s == s and s is not None else None for s in src],
                    dtype=object,
                ),
                "to_facility_id": self.fac_ids[t["dst"].to_numpy()],
                "departed_on": as_dates(t["depart"].to_numpy()),
                "arrived_on": as_dates(t["arrive"].to_numpy()),
                "ground": t["ground"],
                "consent": t["consent"].astype("boolean"),
                "order_no": [
                    f"ORD-{y}-{k:05d}"
                    for y, k in zip(years, self.rng.integers(1, 99999, n), strict=True)
                ],
                "decided_by": self.roster.pick(
                    committee_fac, t["depart"].to_numpy(), "committee", self.rng
                ),
                "recorded_at": recorded_after(t["arrive"].to_numpy(), self.rng),
            }
        )

    def _conditions(self) -> pd.DataFrame:
        c = pd.DataFrame(
            self.ev.conditions, columns=["convict", "facility", "day", "old", "new", "protocol"]
        )
        n = len(c)
        protocol = [
            f"PR-{k:06d}" if p else None
            for k, p in zip(self.rng.integers(1, 999999, n), c["protocol"], strict=True)
        ]
        return pd.DataFrame(
            {
                "change_id": opaque_ids("CC", n, self.rng),
                "convict_id": self.cid[c["convict"].to_numpy()],
                "facility_id": self.fac_ids[c["facility"].to_numpy()],
                "changed_on": as_dates(c["day"].to_numpy()),
                "from_condition": c["old"],
                "to_condition": c["new"],
                "protocol_no": protocol,
                "decided_by": self.roster.pick(
                    c["facility"].to_numpy(), c["day"].to_numpy(), "commission_member", self.rng
                ),
                "recorded_at": recorded_after(c["day"].to_numpy(), self.rng),
            }
        )

    def _degrees(self) -> pd.DataFrame:
        d = pd.DataFrame(self.ev.degrees, columns=["convict", "facility", "day", "degree"])
        return pd.DataFrame(
            {
                "assignment_id": opaque_ids("DG", len(d), self.rng),
                "convict_id": self.cid[d["convict"].to_numpy()],
                "facility_id": self.fac_ids[d["facility"].to_numpy()],
                "assigned_on": as_dates(d["day"].to_numpy()),
                "degree": d["degree"].astype("Int64"),
                "decided_by": self.roster.pick(
                    d["facility"].to_numpy(), d["day"].to_numpy(), "head", self.rng
                ),
                "recorded_at": recorded_after(d["day"].to_numpy(), self.rng),
            }
        )

    def _memberships_and_work(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        m = pd.DataFrame(self.ev.memberships, columns=["convict", "facility", "joined", "left"])
        w = pd.DataFrame(self.ev.work, columns=["convict", "facility", "start", "end", "kind"])
        memberships = pd.DataFrame(
            {
                "convict_id": self.cid[m["convict"].to_numpy()],
                "facility_id": self.fac_ids[m["facility"].to_numpy()],
                "joined_on": as_dates(m["joined"].to_numpy()),
                "left_on": optional_dates(m["left"].to_numpy()),
            }
        )
        work = pd.DataFrame(
            {
                "convict_id": self.cid[w["convict"].to_numpy()],
                "facility_id": self.fac_ids[w["facility"].to_numpy()],
                "started_on": as_dates(w["start"].to_numpy()),
                "ended_on": optional_dates(w["end"].to_numpy()),
                "kind": w["kind"],
            }
        )
        return memberships, work
