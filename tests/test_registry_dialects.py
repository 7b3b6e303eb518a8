"""Registry dialects: each is a valid drop, holds the convention it names, and carries the same
schemes (issue 12: quality must hold on conventions the detectors were not built on)."""

from __future__ import annotations

import pandas as pd
import pytest

from anomaly.contracts.validation import validate_drop
from anomaly.ingest.drop_loading import load_drop
from anomaly.registry.institution_roles import hospitals
from anomaly.registry.snapshot import Snapshot
from anomaly.rulebook import load_rulebook
from anomaly.rules import RULES_BY_CODE
from anomaly.scoring.rule_engine import run_rules
from anomaly.synthetic.drop_writing import write_world
from anomaly.synthetic.registry_dialects import DIALECTS
from anomaly.synthetic.scheme_registry import build_world

pytestmark = pytest.mark.slow  # generates a world per dialect

RB = load_rulebook()


@pytest.fixture(scope="module")
def worlds():
    return {name: build_world("tiny", 3, dialect=name) for name in DIALECTS}


@pytest.mark.parametrize("name", list(DIALECTS))
def test_every_dialect_is_a_drop_the_contracts_accept_whole(tmp_path, contracts, runner, worlds,
                                                            name):  # fmt: skip
    world = worlds[name]
    write_world(world, tmp_path / "drop")
    loaded = load_drop(tmp_path / "drop")
    result = validate_drop(loaded, contracts, runner)
    for table, outcome in result.tables.items():
        assert outcome.quarantine.empty, (name, table, outcome.quarantine["reasons"].head())
        assert len(outcome.accepted) == len(world.tables[table])
    ids = world.tables["convicts"]["convict_id"]
    assert set(result.accepted["convicts"]["convict_id"].astype(str)) == set(ids)


def test_the_same_schemes_are_planted_in_every_dialect():
    planted = {
        name: set(
            build_world("small", 3, dialect=name).labels_frame().query("kind == 'scheme'")["code"]
        )  # fmt: skip
        for name in DIALECTS
    }
    assert len({frozenset(codes) for codes in planted.values()}) == 1, planted


def test_hospitals_carry_a_level_and_the_records_show_them(worlds):
    t = worlds["hospitals"].tables
    s = Snapshot.of(t, RB, worlds["hospitals"].extracted_at)
    found = hospitals(s.roles)
    assert found, "no institution read as a hospital"
    levels = t["facilities"].set_index("facility_id").loc[sorted(found), "security_level"]
    assert set(levels) <= {"medium", "maximum"}
    assert hospitals(Snapshot.of(worlds["standard"].tables, RB, worlds["standard"].extracted_at)
                     .roles) == set()  # fmt: skip


def test_court_trips_go_to_the_pre_trial_centre_and_back_within_weeks(worlds):
    t = worlds["court_trips"].tables
    trips = t["transfers"][t["transfers"]["ground"].eq("court_order")].sort_values("departed_on")
    level = t["facilities"].set_index("facility_id")["security_level"]
    out = trips[trips["to_facility_id"].map(level).eq("mixed")]
    back = trips[trips["from_facility_id"].map(level).eq("mixed")]
    assert len(out) >= 3 and len(back) >= len(out) - 2
    stay = back.groupby("convict_id")["departed_on"].min() - out.groupby("convict_id")[
        "arrived_on"].min()  # fmt: skip
    assert stay.dropna().dt.days.between(0, 30).all()


def test_moved_staff_sign_before_their_listed_posting_at_another_institution(worlds):
    t = worlds["staff_moves"].tables
    staff = t["staff"].set_index("staff_id")
    assert staff.index.is_unique  # one row per person, as records.md fixes
    degrees = t["degree_assignments"].join(staff, on="decided_by", rsuffix="_staff")
    earlier = degrees[
        degrees["assigned_on"].lt(degrees["from_date"])
        & degrees["facility_id"].ne(degrees["facility_id_staff"])
    ]
    assert len(earlier) > 0


def test_other_ids_keep_their_shape_and_leading_zeros_through_the_loader(tmp_path, worlds):
    world = worlds["other_ids"]
    write_world(world, tmp_path / "drop")
    loaded = load_drop(tmp_path / "drop")
    convicts = loaded.tables["convicts"].typed["convict_id"].astype(str)
    assert convicts.str.fullmatch(r"\d{6,}").all() and convicts.str.startswith("0").any()
    visits = loaded.tables["visit_logs"].typed["visit_id"].astype(str)
    assert visits.str.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                                r"[0-9a-f]{12}").all()  # fmt: skip
    cited = {r.split(":")[1] for x in world.labels for r in x["records"].split(";")
             if r.startswith("visit_logs:")}  # fmt: skip
    assert cited and cited <= set(visits)


@pytest.mark.parametrize(
    "name", ["hospitals", "court_trips", "staff_moves", "long_histories", "court_level_current"]
)
def test_the_new_rules_leave_a_clean_world_of_every_dialect_alone(name):
    world = build_world("tiny", 4, schemes=False, dialect=name)
    s = Snapshot.of(world.tables, RB, world.extracted_at)
    run = run_rules(s, (RULES_BY_CODE["REC-AUTHORITY"], RULES_BY_CODE["TRF-TYPE"]))
    assert run.flags[run.flags["score"].ge(RB.scoring.case_threshold.value)].empty, run.flags[
        "explanation"].head().tolist()  # fmt: skip
    assert pd.Series(run.flags["rule"]).isin(["REC-AUTHORITY"]).all()
