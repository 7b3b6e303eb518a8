"""Planted schemes in degrees, conditions, transfers and record keeping.

Sources: PCPI report, sections 1, 2 and 4; NPM 2018 report (a +3 convict made a malicious
violator and moved to a stricter institution).
"""

from __future__ import annotations

import math

import pandas as pd

from anomaly.synthetic.planted_moves import add_transfer, planted_move
from anomaly.synthetic.planting import DAY, Planter, in_window


def positive_degree_without_criteria(p: Planter, n: int) -> None:
    """A positive degree bought: +1 right after a penalty, or a jump to +2/+3."""
    events = p.t["disciplinary_events"]
    penalties = in_window(p, events[events["kind"].eq("penalty")], "occurred_on", 60)
    for k, (_, row) in enumerate(p.pick(penalties, n).iterrows()):
        on = row["occurred_on"] + int(p.rng.integers(20, 50)) * DAY
        degree = [1, 2, 3][k % 3]
        assignment = _add_degree(p, row["convict_id"], row["facility_id"], on, degree)
        p.world.label(
            "scheme",
            "positive_degree_without_criteria",
            "convict",
            row["convict_id"],
            [f"degree_assignments:{assignment}", f"disciplinary_events:{row['event_id']}"],
            f"degree +{degree} weeks after a penalty",
        )


def negative_degree_without_penalty(p: Planter, n: int) -> None:
    """A convict of good standing made a violator with no penalty.

    Half of them are then moved to a stricter institution (the NPM 2018 report).
    """
    degrees = p.t["degree_assignments"]
    events = p.t["disciplinary_events"]
    penalised = set(events.loc[events["kind"].eq("penalty"), "convict_id"])
    good = in_window(
        p,
        degrees[degrees["degree"].ge(2) & ~degrees["convict_id"].isin(penalised)],
        "assigned_on",
        60,
    )
    stays = p.window_stays(60)
    good = good.merge(
        stays[["convict_id", "facility_id", "end", "security_level"]],
        on=["convict_id", "facility_id"],
    )
    good = good[good["end"] > good["assigned_on"] + 60 * DAY]
    facilities = p.t["facilities"]
    for k, (_, row) in enumerate(p.pick(good, n).iterrows()):
        on = row["assigned_on"] + int(p.rng.integers(20, 50)) * DAY
        degree = -3 if k % 2 == 0 else -1
        assignment = _add_degree(p, row["convict_id"], row["facility_id"], on, degree)
        refs = [f"degree_assignments:{assignment}"]
        stricter = {"medium": "maximum", "maximum": "extreme", "minimum": "medium"}.get(
            row["security_level"]
        )
        targets = facilities[facilities["security_level"].eq(stricter)]
        if degree == -3 and len(targets) and on + 15 * DAY < row["end"]:
            to = targets.sample(1, random_state=int(p.rng.integers(2**31)))["facility_id"].iloc[0]
            transfer = add_transfer(
                p, row["convict_id"], row["facility_id"], to, on + 10 * DAY, "security_level_change"
            )
            refs.append(f"transfers:{transfer}")
        p.world.label(
            "scheme",
            "negative_degree_without_penalty",
            "convict",
            row["convict_id"],
            refs,
            f"degree {degree} with no penalty on record",
        )


def condition_change_without_criteria(p: Planter, n: int) -> None:
    """A move to light soon after arrival with no positive degree, or to preferential without +3."""
    changes = p.t["condition_changes"]
    arrivals = in_window(p, changes[changes["from_condition"].isna()], "changed_on", 90)
    degrees = p.t["degree_assignments"]
    positive = set(degrees.loc[degrees["degree"] > 0, "convict_id"])
    arrivals = arrivals[~arrivals["convict_id"].isin(positive)]
    levels = p.t["facilities"].set_index("facility_id")["security_level"]
    arrivals = arrivals[arrivals["facility_id"].map(levels).isin(["medium", "maximum", "minimum"])]
    for _, row in p.pick(arrivals, n).iterrows():
        on = row["changed_on"] + int(p.rng.integers(25, 70)) * DAY
        change = p.new_id("condition_changes", "change_id", "CC")
        p.add(
            "condition_changes",
            {
                "change_id": change,
                "convict_id": row["convict_id"],
                "facility_id": row["facility_id"],
                "changed_on": on,
                "from_condition": "regular",
                "to_condition": "light",
                "protocol_no": f"PR-{int(p.rng.integers(1, 999999)):06d}",
                "decided_by": p.staff_on(row["facility_id"], "commission_member", on),
                "recorded_at": p.recorded(on),
            },
        )
        p.world.label(
            "scheme",
            "condition_change_without_criteria",
            "convict",
            row["convict_id"],
            [f"condition_changes:{change}"],
            "regular to light weeks after arrival, no positive degree",
        )


def transfer_without_grounds(p: Planter, n: int) -> None:
    """A transfer with no ground, no order, or an 'operational need' without consent."""
    transfers = in_window(p, p.t["transfers"], "departed_on", 0)
    later = transfers[
        transfers["ground"].isin(["own_safety", "operational_need", "order_maintenance", "medical"])
    ]
    if len(later) < n:  # few later moves (a tiny world): intakes lose their papers too
        later = pd.concat([later, transfers[transfers["ground"].eq("intake")]])
    t = p.t["transfers"]
    for k, (index, row) in enumerate(p.pick(later, n).iterrows()):
        variant = k % 3
        if variant == 0:
            t.loc[index, "ground"] = None
        elif variant == 1:
            t.loc[index, "order_no"] = None
        else:
            t.loc[index, ["ground", "consent"]] = ["operational_need", False]
        note = ["no ground recorded", "no order number", "operational need without consent"][
            variant
        ]
        p.world.label(
            "scheme",
            "transfer_without_grounds",
            "convict",
            row["convict_id"],
            [f"transfers:{row['transfer_id']}"],
            note,
        )


def bought_move_home(p: Planter, n: int) -> None:
    """A convict placed far away is bought a move to the home region.

    Into the pre-trial centre, into a full institution, or into another level.
    """
    convicts = p.t["convicts"].set_index("convict_id")
    facilities = p.t["facilities"]
    stays = p.window_stays(200)
    stays = stays[stays["security_level"].isin(["medium", "maximum", "extreme"])]
    stays = stays.join(
        convicts[["home_region_id", "court_security_level", "offense_gravity"]], on="convict_id"
    )
    away = stays[stays["region_id"] != stays["home_region_id"]]
    away = away[away["leave"] >= p.window[1]]  # still there at the end: the move is the last event
    for k, (_, stay) in enumerate(p.pick(away, n).iterrows()):
        home = facilities[facilities["region_id"].eq(stay["home_region_id"])]
        variant = k % 3
        if variant == 0:
            target = home[home["security_level"].eq("mixed")]
        elif variant == 1:
            target = home[home["security_level"].eq(stay["security_level"])]
        else:
            target = home[~home["security_level"].isin([stay["security_level"], "mixed"])]
        if target.empty:
            target = home[home["security_level"].eq("mixed")]
        to = target["facility_id"].iloc[0]
        on = p.window[1] - int(p.rng.integers(40, 90)) * DAY
        ground = ["operational_need", "own_safety", "order_maintenance"][k % 3]
        planted_move(
            p, "bought_move_home", stay, to, on, ground,
            f"moved home into {target['security_level'].iloc[0]}"
            f" (court ordered {stay['court_security_level']})",
            consent=True,
        )  # fmt: skip


def false_reorganization(p: Planter, n: int) -> None:
    """'Reorganisation' as the ground for moving convicts out of an institution that stayed open."""
    convicts = p.t["convicts"].set_index("convict_id")
    facilities = p.t["facilities"]
    stays = p.window_stays(200)
    open_ = facilities.loc[facilities["closed_on"].isna(), "facility_id"]
    stays = stays[
        stays["facility_id"].isin(open_) & stays["security_level"].isin(["medium", "maximum"])
    ]
    stays = stays.join(convicts[["home_region_id"]], on="convict_id")
    stays = stays[(stays["region_id"] != stays["home_region_id"]) & (stays["leave"] >= p.window[1])]
    for _, stay in p.pick(stays, n).iterrows():
        home = facilities[
            facilities["region_id"].eq(stay["home_region_id"])
            & facilities["security_level"].eq(stay["security_level"])
        ]
        to = (
            home["facility_id"].iloc[0]
            if len(home)
            else facilities.loc[
                facilities["security_level"].eq(stay["security_level"])
                & ~facilities["facility_id"].eq(stay["facility_id"]),
                "facility_id",
            ].iloc[0]
        )
        on = p.window[1] - int(p.rng.integers(40, 90)) * DAY
        planted_move(
            p, "false_reorganization", stay, to, on, "reorganization",
            "reorganisation of an institution that stayed open",
        )  # fmt: skip


def backdated_entries(p: Planter, n: int) -> None:
    """Decisions entered months after the date they carry (PCPI report: paper files change)."""
    for table, key in (
        ("degree_assignments", "assignment_id"),
        ("disciplinary_events", "event_id"),
        ("condition_changes", "change_id"),
    ):
        frame = p.t[table]
        date = {
            "degree_assignments": "assigned_on",
            "disciplinary_events": "occurred_on",
            "condition_changes": "changed_on",
        }[table]
        pool = in_window(p, frame, date, 30)
        pool = pool[pool[date] < p.window[1] - 200 * DAY]
        for index, row in p.pick(pool, max(1, n // 3)).iterrows():
            frame.loc[index, "recorded_at"] = p.recorded(
                row[date] + int(p.rng.integers(60, 180)) * DAY
            )
            p.world.label(
                "scheme",
                "backdated_entries",
                "staff",
                row["decided_by"],
                [f"{table}:{row[key]}"],
                "entered months after its date",
            )


def staff_grants_extra_visits(p: Planter, n: int) -> None:
    """A deputy head granting extra long visits as incentives far more often than peers.

    Each record on its own is valid: only the rate gives it away. The deputy
    grants at least twice what the busiest tenth of deputy heads grant.
    """
    stays = p.window_stays(250)
    stays = stays[
        stays["security_level"].isin(["medium", "maximum", "minimum"])
        & (stays["long_visit_rooms"] > 0)
    ]
    kin = p.t["kinship"]
    kin = kin[kin["relation"].isin(["spouse", "parent"])].drop_duplicates("convict_id")[
        ["convict_id", "person_id"]
    ]
    stays = stays.merge(kin, on="convict_id")
    target = _far_above_deputies(p)
    facilities = [f for f, g in stays.groupby("facility_id") if len(g) >= 2 * target]
    for facility in p.rng.permutation(facilities)[:n]:
        group = p.pick(stays[stays["facility_id"].eq(facility)], 2 * target)
        deputy = p.staff_on(facility, "deputy_head", group["start"].max())
        refs: list[str] = []
        for _, stay in group.iterrows():
            granted = p.day_in(stay["start"] + 10 * DAY, stay["end"] - 80 * DAY)
            if granted.year != (granted + 40 * DAY).year:
                continue  # the visit it pays for falls in the same calendar year
            event = p.new_id("disciplinary_events", "event_id", "EV")
            p.add(
                "disciplinary_events",
                {
                    "event_id": event,
                    "convict_id": stay["convict_id"],
                    "facility_id": facility,
                    "occurred_on": granted,
                    "kind": "incentive",
                    "measure": "extra_long_visit",
                    "isolation_days": None,
                    "lifts_event_id": None,
                    "decided_by": deputy,
                    "recorded_at": p.recorded(granted),
                },
            )
            refs.append(f"disciplinary_events:{event}")
            if len(refs) == target:
                break
        p.world.label(
            "scheme",
            "staff_grants_extra_visits",
            "staff",
            deputy,
            refs,
            f"{len(refs)} extra-visit incentives by one deputy head",
        )


def _far_above_deputies(p: Planter) -> int:
    """Twice the extra-visit incentives the busiest tenth of deputy heads grant (at least 6)."""
    staff = p.t["staff"]
    deputies = staff.loc[staff["role"].eq("deputy_head"), "staff_id"]
    events = p.t["disciplinary_events"]
    extra = events[events["measure"].isin(["extra_long_visit", "extra_short_visit"])]
    granted = extra.groupby("decided_by").size().reindex(deputies, fill_value=0)
    return max(6, math.ceil(2 * granted.quantile(0.9)))


def _add_degree(
    p: Planter, convict_id: str, facility_id: str, on: pd.Timestamp, degree: int
) -> str:
    assignment = p.new_id("degree_assignments", "assignment_id", "DG")
    p.add(
        "degree_assignments",
        {
            "assignment_id": assignment,
            "convict_id": convict_id,
            "facility_id": facility_id,
            "assigned_on": on,
            "degree": degree,
            "decided_by": p.staff_on(facility_id, "head", on),
            "recorded_at": p.recorded(on),
        },
    )
    return assignment
