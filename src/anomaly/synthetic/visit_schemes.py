"""Planted schemes around long visits (the PCPI report, section 3; rules.md 3).

Each injector takes the planter and a number of instances, adds or changes
records, and labels every instance with its subject and the records involved.
"""

from __future__ import annotations

import pandas as pd

from anomaly.synthetic.planting import DAY, Planter

WITH_ROOMS = ["minimum", "medium", "maximum", "juvenile"]


def _candidates(p: Planter) -> pd.DataFrame:
    s = p.window_stays(150)
    return s[s["security_level"].isin(WITH_ROOMS) & (s["long_visit_rooms"] > 0)]


def _visit_day(p: Planter, stay: pd.Series, margin: int = 10) -> pd.Timestamp:
    return p.day_in(stay["start"] + margin * DAY, stay["end"] - (margin + 3) * DAY)


def visits_to_convict_without_relatives(p: Planter, n: int) -> None:
    """Long visits logged to a convict who has no relatives at all: someone else's visits."""
    kin = set(p.t["kinship"]["convict_id"])
    stays = _candidates(p)
    for _, stay in p.pick(stays[~stays["convict_id"].isin(kin)], n).iterrows():
        outsider = p.add_person(stay["region_id"])
        refs = []
        for _ in range(int(p.rng.integers(2, 4))):
            refs += p.add_long_visit(
                stay["convict_id"], stay["facility_id"], outsider, _visit_day(p, stay)
            )
        p.world.label(
            "scheme",
            "visits_to_convict_without_relatives",
            "convict",
            stay["convict_id"],
            refs,
            "long visits by an outsider to a convict with no relatives",
        )


def long_visits_over_quota(p: Planter, n: int) -> None:
    """More long visits by a real relative than the yearly quota allows."""
    kin = p.t["kinship"]
    entitled = kin[kin["relation"].isin(["spouse", "parent", "child"])].drop_duplicates(
        "convict_id"
    )
    stays = _candidates(p).merge(entitled[["convict_id", "person_id"]], on="convict_id")
    year_end = pd.to_datetime(stays["start"].dt.year.astype(str) + "-12-31")
    stays = stays.assign(end=stays["end"].where(stays["end"] < year_end, year_end))
    stays = stays[(stays["end"] - stays["start"]).dt.days >= 150]
    for _, stay in p.pick(stays, n).iterrows():
        level = stay["security_level"]
        most = max(
            q[1]
            for c in ("strict", "regular", "light", "preferential")
            if (q := p.rulebook.quota(level, c)) is not None
        )
        count = most + int(p.rng.integers(2, 5))
        refs = []
        for _ in range(count):
            refs += p.add_long_visit(
                stay["convict_id"], stay["facility_id"], stay["person_id"], _visit_day(p, stay)
            )
        p.world.label(
            "scheme",
            "long_visits_over_quota",
            "convict",
            stay["convict_id"],
            refs,
            f"{count} extra long visits in one year",
        )


def long_visit_by_non_relative(p: Planter, n: int) -> None:
    """Long visits by someone who is no relative.

    Not in the registry, registered as 'other', or registered days before without papers.
    """
    stays = _candidates(p)
    for k, (_, stay) in enumerate(p.pick(stays, n).iterrows()):
        start = _visit_day(p, stay, 30)
        person = p.add_person(stay["region_id"])
        refs = []
        variant = k % 3
        if variant > 0:
            registered = (
                start - int(p.rng.integers(1, 8)) * DAY if variant == 2 else start - 200 * DAY
            )
            p.add(
                "kinship",
                {
                    "convict_id": stay["convict_id"],
                    "person_id": person,
                    "relation": "other" if variant == 1 else "spouse",
                    "registered_on": registered,
                    "registered_by": p.staff_on(stay["facility_id"], "records_officer", registered),
                    "document_no": None
                    if variant == 2
                    else f"NT-{int(p.rng.integers(100000, 999999))}",
                },
            )
            refs.append(f"kinship:{stay['convict_id']}|{person}")
        refs += p.add_long_visit(stay["convict_id"], stay["facility_id"], person, start)
        note = [
            "not in the kinship registry",
            "relation 'other'",
            "registered days before, no document",
        ][variant]
        p.world.label(
            "scheme", "long_visit_by_non_relative", "convict", stay["convict_id"], refs, note
        )


def impossible_visitor(p: Planter, n: int) -> None:
    """A visit by a registered relative who was dead, or in custody, on the day."""
    persons = p.t["persons"]
    custody = p.t["convicts"][["convict_id", "sentence_start", "released_on"]].rename(
        columns={"convict_id": "person_convict"}
    )
    kin = p.t["kinship"].merge(
        persons[["person_id", "death_date", "convict_id"]].rename(
            columns={"convict_id": "person_convict"}
        ),
        on="person_id",
    )
    dead = kin[kin["death_date"].notna()]
    jailed = kin[kin["person_convict"].notna()].merge(custody, on="person_convict")
    pool = pd.concat([dead, jailed]).merge(_candidates(p), on="convict_id")
    # the visit falls after the death, or inside the visitor's own custody
    low = pool["start"].where(pool["death_date"].isna(), pool["death_date"] + 10 * DAY)
    low = low.where(pool["sentence_start"].isna(), pool["sentence_start"] + 10 * DAY)
    low = low.where(low > pool["start"], pool["start"])
    high = pool["end"] - 5 * DAY
    high = high.where(
        pool["released_on"].isna() | (pool["released_on"] > high), pool["released_on"] - 5 * DAY
    )
    pool = pool.assign(low=low, high=high)
    pool = pool[pool["high"] - pool["low"] > 10 * DAY]
    for _, row in p.pick(pool, n).iterrows():
        start = p.day_in(row["low"], row["high"])
        refs = p.add_long_visit(row["convict_id"], row["facility_id"], row["person_id"], start)
        why = "dead" if pd.notna(row["death_date"]) else "in custody"
        p.world.label(
            "scheme",
            "impossible_visitor",
            "convict",
            row["convict_id"],
            refs + [f"persons:{row['person_id']}"],
            f"visitor {why} on the day",
        )


def outsider_visits_many(p: Planter, n: int) -> None:
    """One outsider with long visits to many unrelated convicts of one institution."""
    stays = _candidates(p)
    by_facility = stays.groupby("facility_id")
    facilities = [f for f, g in by_facility if g["convict_id"].nunique() >= 8]
    for facility in p.rng.permutation(facilities)[:n]:
        group = p.pick(by_facility.get_group(facility), int(p.rng.integers(5, 8)))
        region = group["region_id"].iloc[0]
        outsider = p.add_person(region, sex="F")
        officer = p.staff_on(facility, "visits_officer", group["start"].max())
        refs = []
        for _, stay in group.iterrows():
            refs += p.add_long_visit(
                stay["convict_id"], facility, outsider, _visit_day(p, stay), logged_by=officer
            )
        p.world.label(
            "scheme",
            "outsider_visits_many",
            "facility",
            facility,
            refs,
            f"one person, long visits to {len(group)} unrelated convicts",
        )


def long_visit_while_ineligible(p: Planter, n: int) -> None:
    """A long visit logged during isolation, or at an institution the convict had left."""
    events = p.t["disciplinary_events"]
    isolation = events[events["measure"].eq("isolation") & events["isolation_days"].ge(5)]
    kin = p.t["kinship"].drop_duplicates("convict_id")[["convict_id", "person_id"]]
    pool = isolation.merge(kin, on="convict_id")
    lo, hi = p.window
    pool = pool[(pool["occurred_on"] > lo) & (pool["occurred_on"] < hi - 10 * DAY)]
    half = n // 2 + n % 2
    for _, row in p.pick(pool, half).iterrows():
        start = row["occurred_on"] + int(p.rng.integers(1, 3)) * DAY
        refs = p.add_long_visit(row["convict_id"], row["facility_id"], row["person_id"], start)
        p.world.label(
            "scheme",
            "long_visit_while_ineligible",
            "convict",
            row["convict_id"],
            refs + [f"disciplinary_events:{row['event_id']}"],
            "during isolation",
        )
    moved = p.t["transfers"]
    # a move away for good: the convict is elsewhere 45 days later (not a hospital stay or a
    # trip to court, after which he comes back)
    back = moved.groupby("convict_id")["departed_on"].transform("max")
    moved = moved[
        moved["from_facility_id"].notna()
        & (moved["departed_on"] > lo)
        & (moved["departed_on"] < hi - 60 * DAY)
        & moved["departed_on"].eq(back)
    ]
    moved = moved.merge(kin, on="convict_id")
    for _, row in p.pick(moved, n - half).iterrows():
        start = row["arrived_on"] + int(p.rng.integers(10, 45)) * DAY
        refs = p.add_long_visit(row["convict_id"], row["from_facility_id"], row["person_id"], start)
        p.world.label(
            "scheme",
            "long_visit_while_ineligible",
            "convict",
            row["convict_id"],
            refs + [f"transfers:{row['transfer_id']}"],
            "at an institution the convict had left",
        )


def long_visit_without_registration(p: Planter, n: int) -> None:
    """Long visits with no registration, a rejected one, or one for someone else."""
    kin = p.t["kinship"]
    kin = kin[kin["relation"].isin(["spouse", "parent", "sibling"])].drop_duplicates("convict_id")
    stays = _candidates(p).merge(kin[["convict_id", "person_id"]], on="convict_id")
    for k, (_, stay) in enumerate(p.pick(stays, n).iterrows()):
        start = _visit_day(p, stay, 40)
        variant = k % 3
        if variant == 0:
            refs = p.add_long_visit(
                stay["convict_id"], stay["facility_id"], stay["person_id"], start, registration=None
            )
        elif variant == 1:
            refs = p.add_long_visit(
                stay["convict_id"],
                stay["facility_id"],
                stay["person_id"],
                start,
                registration="rejected",
            )
        else:
            refs = p.add_long_visit(
                stay["convict_id"], stay["facility_id"], stay["person_id"], start
            )
            row = p.pending["long_visit_registrations"][-1]
            row["planned_start"] = start - int(p.rng.integers(20, 60)) * DAY  # other dates
        note = ["no registration", "registration rejected", "registration for other dates"][variant]
        p.world.label(
            "scheme", "long_visit_without_registration", "convict", stay["convict_id"], refs, note
        )


def room_overbooking(p: Planter, n: int) -> None:
    """More long visits on one night than the institution has rooms."""
    stays = _candidates(p)
    kin = p.t["kinship"]
    kin = kin[kin["relation"].isin(["spouse", "parent", "child", "sibling"])].drop_duplicates(
        "convict_id"
    )
    stays = stays.merge(kin[["convict_id", "person_id"]], on="convict_id")
    small = stays[stays["long_visit_rooms"] <= 4]
    groups = [g for _, g in small.groupby("facility_id") if g["convict_id"].nunique() > 8]
    planted = 0
    for g in groups:
        if planted == n:
            break
        rooms = int(g["long_visit_rooms"].iloc[0])
        want = rooms + int(p.rng.integers(1, 3))
        night = None  # a night on which enough of its convicts are there, a week either side
        for share in (0.5, 0.25, 0.75, 0.4, 0.6):
            candidate = (p.window[0] + share * (p.window[1] - p.window[0])).normalize()
            present = g[(g["start"] < candidate - 7 * DAY) & (g["end"] > candidate + 7 * DAY)]
            present = present[~present["convict_id"].isin(p.taken)]
            if present["convict_id"].nunique() >= want:
                night = candidate
                break
        if night is None:
            continue
        planted += 1
        chosen = p.pick(present, want)
        refs = []
        for _, stay in chosen.iterrows():
            refs += p.add_long_visit(
                stay["convict_id"], stay["facility_id"], stay["person_id"], night
            )
        p.world.label(
            "scheme",
            "room_overbooking",
            "facility",
            g["facility_id"].iloc[0],
            refs,
            f"{len(chosen)} long visits on {night.date()} for {rooms} rooms",
        )
