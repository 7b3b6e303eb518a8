"""Every planted scheme, and the one call that builds a corrupted world with its truth."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from anomaly.rulebook import Rulebook
from anomaly.synthetic import authority_schemes as authority
from anomaly.synthetic import decision_schemes as decisions
from anomaly.synthetic import network_schemes as network
from anomaly.synthetic import visit_schemes as visits
from anomaly.synthetic.planting import Planter
from anomaly.synthetic.registry_dialects import Dialect, dialect_named, reshaped_ids
from anomaly.synthetic.scales import SCALES, Scale
from anomaly.synthetic.world import World, generate_world

Injector = Callable[[Planter, int], None]

INJECTORS: dict[str, Injector] = {
    "visits_to_convict_without_relatives": visits.visits_to_convict_without_relatives,
    "long_visits_over_quota": visits.long_visits_over_quota,
    "long_visit_by_non_relative": visits.long_visit_by_non_relative,
    "impossible_visitor": visits.impossible_visitor,
    "outsider_visits_many": visits.outsider_visits_many,
    "long_visit_while_ineligible": visits.long_visit_while_ineligible,
    "long_visit_without_registration": visits.long_visit_without_registration,
    "room_overbooking": visits.room_overbooking,
    "positive_degree_without_criteria": decisions.positive_degree_without_criteria,
    "negative_degree_without_penalty": decisions.negative_degree_without_penalty,
    "condition_change_without_criteria": decisions.condition_change_without_criteria,
    "transfer_without_grounds": decisions.transfer_without_grounds,
    "bought_move_home": decisions.bought_move_home,
    "false_reorganization": decisions.false_reorganization,
    "backdated_entries": decisions.backdated_entries,
    "staff_grants_extra_visits": decisions.staff_grants_extra_visits,
    "decision_signed_by_absent_staff": authority.decision_signed_by_absent_staff,
    "milder_type_without_criteria": authority.milder_type_without_criteria,
    "kin_of_many": network.kin_of_many,
    "visits_under_other_name": network.visits_under_other_name,
}
"""Schemes planted after the simulation. ``lenient_institution`` (an institution
whose degree and condition profile is far above its peers while every record
is valid) is planted in the simulation itself."""

STATISTICAL = {"staff_grants_extra_visits", "lenient_institution"}
FEW = {"outsider_visits_many", "room_overbooking", "staff_grants_extra_visits"}


def build_world(
    scale: str | Scale,
    seed: int,
    schemes: bool = True,
    rulebook: Rulebook | None = None,
    dialect: str | Dialect = "standard",
) -> World:
    """A synthetic penal system in a registry ``dialect``; with ``schemes``, corrupted and
    labelled. The same schemes are planted whatever the dialect."""
    scale = SCALES[scale] if isinstance(scale, str) else scale
    dialect = dialect_named(dialect)
    lenient = _lenient_institutions(scale, seed) if schemes else {}
    world, internals = generate_world(scale, seed, rulebook, leniency=lenient, dialect=dialect)
    facilities = internals["facilities"]
    for index in lenient:
        world.label(
            "scheme",
            "lenient_institution",
            "facility",
            facilities.at[index, "facility_id"],
            [],
            "degrees and conditions granted far more readily than at peer institutions",
        )
    if schemes:
        planter = Planter(world, internals, np.random.default_rng([seed, 1]))
        for code, inject in INJECTORS.items():
            n = scale.scheme_instances
            inject(planter, max(2, n // 3) if code in FEW else n)
        network.lawful_family_links(planter)
        planter.finish()
    if (
        dialect.late_offices
    ):  # before the hard negatives: a late entry there is not within tolerance
        _late_records_offices(world, np.random.default_rng([seed, 11]))
    _label_hard_negatives(world, internals["rulebook"])
    _entered_by_extraction(world)
    _sort_by_time(world)
    reshaped_ids(world.tables, world.labels, dialect.id_shape, np.random.default_rng([seed, 9]))
    return world


LATE_OFFICE_WEEKS = (5, 10)


def _late_records_offices(world: World, rng: np.random.Generator) -> None:
    """A few records offices enter every record 5 to 10 weeks after the event: a habit no
    rule book knows. Labelled ``habit``, neither a scheme nor a hard negative: the
    benchmark of verdicts (benchmarks/learning_from_verdicts.py) counts the cases it makes."""
    facilities = world.tables["facilities"]["facility_id"].astype(str).to_numpy()
    chosen = rng.choice(facilities, size=max(2, len(facilities) // 12), replace=False)
    low, high = (7 * w for w in LATE_OFFICE_WEEKS)
    for frame in world.tables.values():
        column = next((c for c in ("facility_id", "to_facility_id") if c in frame.columns), None)
        if "recorded_at" not in frame.columns or column is None:
            continue
        at = frame[column].astype(str).isin(chosen).to_numpy()
        minutes = np.round(rng.uniform(low, high, int(at.sum())) * 1440)
        late = pd.to_timedelta(minutes, "min")
        frame.loc[at, "recorded_at"] = frame.loc[at, "recorded_at"] + late
    for facility in sorted(chosen):
        world.label(
            "habit", "late_records_office", "facility", facility, [],
            f"the records office enters everything {low} to {high} days after the event",
        )  # fmt: skip


def _entered_by_extraction(world: World) -> None:
    """No entry is made after the register was extracted: late entries close at extraction."""
    limit = world.extracted_at - pd.Timedelta(hours=1)
    for frame in world.tables.values():
        if "recorded_at" in frame.columns:
            frame["recorded_at"] = frame["recorded_at"].where(frame["recorded_at"] <= limit, limit)


def _lenient_institutions(scale: Scale, seed: int) -> dict[int, float]:
    """Facility indices that will be run leniently (drawn before the simulation)."""
    from anomaly.synthetic.geography import make_geography

    geo = make_geography(scale, np.random.default_rng(seed))
    f = geo.facilities
    peers = f[f["security_level"].isin(["medium", "maximum"])]
    k = max(1, scale.scheme_instances // 8)
    chosen = np.random.default_rng([seed, 2]).choice(
        peers.index, size=min(k, len(peers) // 3), replace=False
    )
    return {int(i): 3.0 for i in chosen}


def _label_hard_negatives(world: World, rulebook: Rulebook) -> None:
    """Legitimate records that look unusual: the detectors must leave them alone."""
    t = world.tables
    regs = t["long_visit_registrations"]
    incentive = regs[regs["basis"].eq("incentive") & regs["incentive_event_id"].notna()]
    for convict_id, group in incentive.groupby("convict_id"):
        world.label(
            "hard_negative",
            "incentive_extra_visit",
            "convict",
            str(convict_id),
            [f"long_visit_registrations:{r}" for r in group["registration_id"]],
        )
    lawful_moves = {"medical": "medical_transfer", "court_order": "court_trip"}
    moves = t["transfers"][t["transfers"]["ground"].isin(list(lawful_moves))]
    for ground, convict_id, transfer_id in zip(
        moves["ground"], moves["convict_id"], moves["transfer_id"], strict=True
    ):
        world.label(
            "hard_negative",
            lawful_moves[ground],
            "convict",
            convict_id,
            [f"transfers:{transfer_id}"],
        )
    planted = {r for x in world.labels if x["kind"] == "scheme" for r in x["records"].split(";")}
    _label_boundary_changes(world, rulebook, planted)
    level = t["facilities"].set_index("facility_id")["security_level"]
    changes = t["transfers"][
        t["transfers"]["ground"].eq("security_level_change")
        & t["transfers"]["to_facility_id"].map(level).eq("minimum")
    ]
    for convict_id, transfer_id in zip(changes["convict_id"], changes["transfer_id"], strict=True):
        if f"transfers:{transfer_id}" not in planted:
            world.label(
                "hard_negative", "court_milder_type", "convict", convict_id,
                [f"transfers:{transfer_id}"],
            )  # fmt: skip
    for table, key, date in (
        ("degree_assignments", "assignment_id", "assigned_on"),
        ("condition_changes", "change_id", "changed_on"),
    ):
        frame = t[table]
        delay = (frame["recorded_at"] - frame[date]).dt.days
        late = frame[(delay >= 20) & (delay <= 29)]
        for _, row in late.head(200).iterrows():
            ref = f"{table}:{row[key]}"
            if ref not in planted:
                world.label(
                    "hard_negative",
                    "late_entry_within_tolerance",
                    "convict",
                    row["convict_id"],
                    [ref],
                )


def _label_boundary_changes(world: World, rulebook: Rulebook, planted: set[str]) -> None:
    """Moves to light conditions made on the first day the rule book allows them."""
    t = world.tables
    changes = t["condition_changes"].sort_values(["convict_id", "changed_on"], kind="stable")
    since = changes.groupby("convict_id")["changed_on"].shift()
    level = changes["facility_id"].map(t["facilities"].set_index("facility_id")["security_level"])
    moved = changes["from_condition"].eq("regular") & changes["to_condition"].eq("light")
    for name in ("minimum", "medium", "maximum", "extreme", "juvenile", "mixed"):
        periods = rulebook.periods("medium" if name == "mixed" else name)
        months = periods.regular_to_light
        if months is None:
            continue
        exact = (
            moved
            & level.eq(name)
            & (since + pd.DateOffset(months=months)).eq(changes["changed_on"])
        )
        for _, row in changes[exact].iterrows():
            ref = f"condition_changes:{row['change_id']}"
            if ref not in planted:
                world.label(
                    "hard_negative", "change_at_legal_boundary", "convict", row["convict_id"], [ref]
                )


def _sort_by_time(world: World) -> None:
    """Order event rows by date so planted rows do not sit together at the end."""
    order = {
        "disciplinary_events": "occurred_on",
        "long_visit_registrations": "requested_on",
        "visit_logs": "started_at",
        "transfers": "departed_on",
        "condition_changes": "changed_on",
        "degree_assignments": "assigned_on",
        "persons": "person_id",
        "kinship": "registered_on",
    }
    for table, column in order.items():
        world.tables[table] = (
            world.tables[table].sort_values(column, kind="stable").reset_index(drop=True)
        )


def scheme_codes() -> list[str]:
    return [*INJECTORS, "lenient_institution"]
