"""Generate a whole synthetic penal system: every table of a drop, and the truth beside it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from anomaly.rulebook import Rulebook, load_rulebook
from anomaly.synthetic.calendar_days import as_dates, as_timestamps, day
from anomaly.synthetic.careers import Events, Setting, simulate_careers
from anomaly.synthetic.geography import Geography, make_geography
from anomaly.synthetic.people import (
    latest_postings,
    link_relatives_in_custody,
    make_convicts,
    make_relatives,
    make_staff,
)
from anomaly.synthetic.records_assembly import (
    StaffRoster,
    opaque_ids,
    optional_dates,
    recorded_after,
)
from anomaly.synthetic.registry_dialects import STANDARD, Dialect
from anomaly.synthetic.scales import SCALES, Scale
from anomaly.synthetic.visits import VisitWorld, schedule_visits

LABEL_COLUMNS = ["instance_id", "kind", "code", "subject_type", "subject_id", "records", "note"]


@dataclass
class World:
    """A generated drop (``tables``) and what only the generator knows (``labels``)."""

    scale: Scale
    seed: int
    tables: dict[str, pd.DataFrame]
    extracted_at: pd.Timestamp
    dialect: Dialect = STANDARD
    labels: list[dict] = field(default_factory=list)
    _numbered: Counter = field(default_factory=Counter, repr=False)  # labels per code so far

    def label(
        self,
        kind: str,
        code: str,
        subject_type: str,
        subject_id: str,
        records: list[str],
        note: str = "",
    ) -> None:
        """Record one planted instance or legitimate oddity."""
        self._numbered[code] += 1
        self.labels.append(
            {
                "instance_id": f"{code}-{self._numbered[code]:03d}",
                "kind": kind,
                "code": code,
                "subject_type": subject_type,
                "subject_id": subject_id,
                "records": ";".join(dict.fromkeys(records)),
                "note": note,
            }
        )

    def labels_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.labels, columns=LABEL_COLUMNS)


def generate_world(
    scale: str | Scale,
    seed: int,
    rulebook: Rulebook | None = None,
    leniency: dict[int, float] | None = None,
    dialect: Dialect = STANDARD,
) -> tuple[World, dict]:
    """Simulate a clean world in a registry ``dialect``. Returns the world and the
    simulation internals (events, indices) that scheme injectors need."""
    scale = SCALES[scale] if isinstance(scale, str) else scale
    rulebook = rulebook or load_rulebook()
    rng = np.random.default_rng(seed)
    geo = make_geography(scale, rng, dialect)
    convicts = make_convicts(scale, geo, rng, dialect.history_years)
    women_strict = (convicts["sex"] == "F") & convicts["court_security_level"].isin(
        ["extreme", "complete"]
    )
    convicts.loc[women_strict, "court_security_level"] = "maximum"
    facilities = _size_facilities(geo, convicts, scale, rng)
    w1 = day(scale.window_end)
    extraction = w1 + 5
    region_index = {r: k for k, r in enumerate(geo.regions["region_id"])}
    setting = Setting(
        level=facilities["security_level"].to_numpy(),
        women=facilities["women"].to_numpy(),
        capacity=facilities["capacity"].to_numpy(),
        region=facilities["region_id"].map(region_index).to_numpy(),
        closed=facilities["closed_day"].to_numpy(),
        hospital=facilities["hospital"].to_numpy(),
        court_trips=dialect.court_trips,
        region_index=region_index,
        distance_km=geo.distance_km,
        rulebook=rulebook,
        extraction_day=w1,
        leniency=leniency or {},
    )
    events = simulate_careers(convicts, setting, rng)
    earliest = min(int(convicts["start_day"].min()), day(scale.window_start)) - 365
    staff = make_staff(facilities, scale, rng, earliest, dialect.staff_moves)
    persons, kinship, large_families = make_relatives(convicts, scale, geo, rng)
    persons = link_relatives_in_custody(persons, convicts, rng)
    if dialect.court_level_current:
        convicts = _court_level_after_changes(convicts, events, facilities)
    builder = _TableBuilder(scale, geo, facilities, convicts, staff, persons, events, rulebook, rng)
    tables = builder.build()
    world = World(scale, seed, tables, pd.Timestamp(as_dates([extraction])[0]), dialect)
    visits = tables["visit_logs"]
    visits_by_convict = visits.groupby("convict_id")["visit_id"].apply(list)
    for convict_id in large_families["convict_id"]:
        if convict_id in builder.present:  # the many visits a large family lawfully makes
            cited = [f"visit_logs:{v}" for v in visits_by_convict.get(convict_id, [])]
            world.label("hard_negative", "large_family", "convict", convict_id, cited)
    closed = facilities[facilities["closed_day"] >= 0]
    for facility_id in closed["facility_id"]:
        moved = tables["transfers"]
        ids = moved.loc[
            moved["from_facility_id"].eq(facility_id) & moved["ground"].eq("reorganization"),
            "transfer_id",
        ]
        world.label(
            "hard_negative",
            "real_reorganization",
            "facility",
            facility_id,
            [f"transfers:{t}" for t in ids],
        )
    internals = {
        "geo": geo,
        "facilities": facilities,
        "convicts": convicts,
        "events": events,
        "builder": builder,
        "rulebook": rulebook,
        "rng": rng,
    }
    return world, internals


def _court_level_after_changes(
    convicts: pd.DataFrame, events: Events, facilities: pd.DataFrame
) -> pd.DataFrame:
    """The court's type as a registry keeping the latest decision holds it: the type of the
    destination of each convict's last change of type."""
    moves = pd.DataFrame(
        events.transfers, columns=["convict", "src", "dst", "depart", "arrive", "ground", "consent"]
    )
    changes = moves[moves["ground"].eq("security_level_change")].sort_values("depart")
    last = changes.groupby("convict")["dst"].last()
    out = convicts.copy()
    level = facilities["security_level"].to_numpy()
    out.loc[last.index, "court_security_level"] = level[last.to_numpy()]
    return out


def _size_facilities(geo: Geography, convicts: pd.DataFrame, scale: Scale, rng) -> pd.DataFrame:
    """Capacity from the expected population, rooms from capacity, one reorganisation."""
    f = geo.facilities.copy()
    mid = (day(scale.window_start) + day(scale.window_end)) // 2
    in_custody = (convicts["start_day"] <= mid) & (
        (convicts["end_day"] < 0) | (convicts["end_day"] > mid)
    )
    women = convicts["sex"].eq("F") & ~convicts["court_security_level"].eq("juvenile")
    level = np.where(convicts["housekeeping"], "mixed", convicts["court_security_level"])
    need = (
        pd.Series(1, index=convicts.index)[in_custody]
        .groupby([level[in_custody], women[in_custody].to_numpy()])
        .sum()
    )
    counts = f[~f["hospital"]].groupby(["security_level", "women"]).size()
    capacity = []
    for lvl, is_women, hospital in zip(f["security_level"], f["women"], f["hospital"], strict=True):
        if hospital:  # beds for the few under treatment at any time
            capacity.append(int(rng.integers(60, 160)))
            continue
        demand = need.get((lvl, is_women), 0)
        if is_women and (lvl, True) not in counts.index:
            demand = 0
        per = demand / counts[(lvl, is_women)]
        base = 150 if lvl == "mixed" else 40
        capacity.append(int(base + per * rng.uniform(1.0, 1.35)))
    f["capacity"] = capacity
    f["long_visit_rooms"] = np.where(
        f["security_level"].eq("mixed") | f["hospital"], 0, np.maximum(2, f["capacity"] // 110)
    )
    f["closed_day"] = -1
    reorganisable = f.index[
        f["security_level"].isin(["medium", "maximum"]) & ~f["women"] & ~f["hospital"]
    ]
    if len(reorganisable) >= 3:
        pick = rng.choice(reorganisable)
        f.loc[pick, "closed_day"] = day(scale.window_start) + int(rng.integers(200, 500))
    return f


class _TableBuilder:
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
