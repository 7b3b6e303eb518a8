"""Generate a whole synthetic penal system: every table of a drop, and the truth beside it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from anomaly.rulebook import Rulebook, load_rulebook
from anomaly.synthetic.calendar_days import as_dates, day
from anomaly.synthetic.careers import simulate_careers
from anomaly.synthetic.custody_model import Events, Setting
from anomaly.synthetic.geography import Geography, make_geography
from anomaly.synthetic.people import (
    link_relatives_in_custody,
    make_convicts,
    make_relatives,
    make_staff,
)
from anomaly.synthetic.registry_dialects import STANDARD, Dialect
from anomaly.synthetic.scales import SCALES, Scale
from anomaly.synthetic.world_tables import TableBuilder

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
    builder = TableBuilder(scale, geo, facilities, convicts, staff, persons, events, rulebook, rng)
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
