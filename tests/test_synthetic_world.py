"""The synthetic penal system: deterministic, valid under the contracts, faithful to the rules."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from anomaly.cli import app
from anomaly.contracts.validation import validate_drop
from anomaly.evaluation import noise_outcome
from anomaly.ingest.drop_loading import load_drop
from anomaly.ingest.record_schema import TABLES_BY_NAME
from anomaly.rulebook import load_rulebook
from anomaly.synthetic.drop_writing import write_world
from anomaly.synthetic.scheme_registry import build_world, scheme_codes

pytestmark = pytest.mark.slow  # generates whole worlds and validates them

KEYS = {
    table: TABLES_BY_NAME[table].key[0]
    for table in ("visit_logs", "long_visit_registrations", "transfers", "condition_changes",
                  "degree_assignments", "disciplinary_events", "persons")
}  # fmt: skip


def test_same_seed_same_world():
    first, second = build_world("tiny", 5), build_world("tiny", 5)
    for name in first.tables:
        pd.testing.assert_frame_equal(first.tables[name], second.tables[name], obj=name)
    assert first.labels == second.labels
    other = build_world("tiny", 6)
    assert not other.tables["visit_logs"].equals(first.tables["visit_logs"])


@pytest.mark.parametrize("schemes", [False, True])
def test_every_row_passes_the_data_contracts(tmp_path, contracts, runner, schemes):
    world = build_world("tiny", 21, schemes=schemes)
    write_world(world, tmp_path / "drop")
    result = validate_drop(load_drop(tmp_path / "drop"), contracts, runner)
    for name, outcome in result.tables.items():
        assert outcome.quarantine.empty, (name, outcome.quarantine["reasons"].head().tolist())
        assert len(outcome.accepted) == len(world.tables[name])


def test_old_institutions_and_old_relatives_are_on_file_as_a_real_registry_holds_them(
    small_world,
):
    # issue 11: colonies of the 1930s were quarantined as "typing errors"
    opened = pd.to_datetime(small_world.tables["facilities"]["opened_on"])
    assert opened.min() < pd.Timestamp("1950-01-01")
    assert opened.min() >= pd.Timestamp("1930-01-01")
    kin = small_world.tables["kinship"]
    persons = small_world.tables["persons"]
    relatives = pd.to_datetime(persons.loc[persons["person_id"].isin(kin["person_id"]),
                                           "birth_date"])  # fmt: skip
    assert relatives.min() >= pd.Timestamp("1920-01-01")
    assert relatives.min() < pd.Timestamp("1935-01-01")


def test_every_scheme_is_planted_and_its_records_exist(small_world):
    labels = small_world.labels_frame()
    planted = labels[labels["kind"] == "scheme"]
    assert set(planted["code"]) == set(scheme_codes())
    ids = {t: set(small_world.tables[t][k]) for t, k in KEYS.items()}
    kinship = small_world.tables["kinship"]
    ids["kinship"] = set(kinship["convict_id"] + "|" + kinship["person_id"])
    for refs in labels["records"].dropna():
        for ref in filter(None, refs.split(";")):
            table, record = ref.split(":", 1)
            assert record in ids[table], ref


def test_labels_never_enter_the_drop(tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "synth",
            "--scale",
            "tiny",
            "--out",
            str(tmp_path / "d"),
            "--labels",
            str(tmp_path / "d" / "l.csv"),
        ],
    )
    assert result.exit_code != 0
    assert "inside the drop" in result.output


def months_before(dates: pd.Series, months: int) -> pd.Series:
    return dates - pd.DateOffset(months=months)


@settings(max_examples=3, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_clean_world_breaks_no_rule(seed):
    """An independent reading of rules.md over a clean tiny world: nothing may break."""
    t = build_world("tiny", seed, schemes=False).tables
    rb = load_rulebook()
    _long_visits_rest_on_entitled_kin_and_approved_registrations(t, rb)
    _no_visit_by_the_dead_or_jailed(t)
    _degrees_meet_their_criteria(t)
    _transfers_carry_ground_order_and_consent(t)
    _entries_are_made_within_30_days(t)
    _rooms_are_never_overbooked(t)


def _long_visits_rest_on_entitled_kin_and_approved_registrations(t, rb):
    long = t["visit_logs"][t["visit_logs"]["visit_type"].eq("long")]
    kin = t["kinship"][t["kinship"]["relation"].isin(rb.entitled_relations)]
    joined = long.merge(
        kin, left_on=["convict_id", "visitor_person_id"], right_on=["convict_id", "person_id"]
    )
    assert len(joined) == len(long)
    assert (joined["registered_on"] < joined["started_at"]).all()
    regs = t["long_visit_registrations"].set_index("registration_id")
    reg = regs.loc[long["registration_id"]]
    assert (reg["decision"] == "approved").all()
    assert (reg["convict_id"].to_numpy() == long["convict_id"].to_numpy()).all()
    assert (reg["visitor_person_id"].to_numpy() == long["visitor_person_id"].to_numpy()).all()
    start = long["started_at"].dt.normalize().to_numpy()
    assert (reg["planned_start"].to_numpy() <= start).all()
    end = reg["planned_start"] + pd.to_timedelta(reg["planned_days"].astype(int), unit="D")
    assert (long["ended_at"].dt.normalize().to_numpy() <= end.to_numpy()).all()


def _no_visit_by_the_dead_or_jailed(t):
    visits = t["visit_logs"].merge(t["persons"], left_on="visitor_person_id", right_on="person_id")
    assert not (visits["death_date"] < visits["started_at"]).any()
    jailed = visits[visits["convict_id_y"].notna()].merge(
        t["convicts"], left_on="convict_id_y", right_on="convict_id"
    )
    free = (jailed["started_at"] < jailed["sentence_start"]) | (
        jailed["released_on"].notna() & (jailed["started_at"] > jailed["released_on"])
    )
    assert free.all()


def _degrees_meet_their_criteria(t):
    degrees = t["degree_assignments"]
    events = t["disciplinary_events"]
    penalties = events[events["kind"].eq("penalty")]
    negative = degrees[degrees["degree"] < 0].merge(penalties, on="convict_id")
    window = (negative["occurred_on"] <= negative["assigned_on"]) & (
        negative["occurred_on"] > months_before(negative["assigned_on"], 12)
    )
    justified = set(negative.loc[window, "assignment_id"])
    assert set(degrees.loc[degrees["degree"] < 0, "assignment_id"]) <= justified
    first = degrees[degrees["degree"].eq(1)].merge(
        events[events["kind"].eq("incentive")], on="convict_id"
    )
    # counted forward from the incentive, as the rule book counts (2023-08-31 + 3 months is
    # 2023-11-30; 2023-11-30 - 3 months is 2023-08-30: month arithmetic does not invert)
    earlier = first[first["occurred_on"] + pd.DateOffset(months=3) <= first["assigned_on"]]
    assert set(degrees.loc[degrees["degree"].eq(1), "assignment_id"]) <= set(
        earlier["assignment_id"]
    )
    ordered = degrees.sort_values(["convict_id", "assigned_on"])
    previous = ordered.groupby("convict_id")["degree"].shift()
    steps = ordered[ordered["degree"] >= 2]
    assert (previous[steps.index] == steps["degree"] - 1).all()


def _transfers_carry_ground_order_and_consent(t):
    transfers = t["transfers"]
    assert transfers["ground"].notna().all() and transfers["order_no"].notna().all()
    operational = transfers[transfers["ground"].eq("operational_need")]
    assert operational["consent"].eq(True).all()


def _entries_are_made_within_30_days(t):
    for table, date in (
        ("degree_assignments", "assigned_on"),
        ("condition_changes", "changed_on"),
        ("disciplinary_events", "occurred_on"),
        ("visit_logs", "ended_at"),
    ):
        delay = t[table]["recorded_at"] - t[table][date]
        assert (delay <= pd.Timedelta(days=30)).all(), table
        assert (delay >= pd.Timedelta(0)).all(), table


def _rooms_are_never_overbooked(t):
    long = t["visit_logs"][t["visit_logs"]["visit_type"].eq("long")]
    nights = long.assign(
        night=[
            pd.date_range(s.normalize(), e.normalize() - pd.Timedelta(days=1))
            for s, e in zip(long["started_at"], long["ended_at"], strict=True)
        ]
    )
    per_night = nights.explode("night").groupby(["facility_id", "night"]).size().rename("used")
    rooms = t["facilities"].set_index("facility_id")["long_visit_rooms"]
    used = per_night.reset_index().join(rooms, on="facility_id")
    assert (used["used"] <= used["long_visit_rooms"]).all()


@pytest.mark.parametrize(
    "check",
    [
        _long_visits_rest_on_entitled_kin_and_approved_registrations,
        _no_visit_by_the_dead_or_jailed,
        _degrees_meet_their_criteria,
        _transfers_carry_ground_order_and_consent,
        _entries_are_made_within_30_days,
    ],
)
def test_the_rule_checks_reject_a_corrupted_world(small_world, check):
    kwargs = {"rb": load_rulebook()} if "rb" in check.__code__.co_varnames else {}
    with pytest.raises(AssertionError):
        check(small_world.tables, **kwargs)


@pytest.mark.parametrize("style", ["spec", "legacy"])
def test_export_noise_is_caught_no_clean_row_is_quarantined_and_planted_records_survive(
    tmp_path, contracts, runner, style
):
    # issue 11: every broken row quarantined or reported, no clean row quarantined, in both formats
    world = build_world("tiny", 8)
    broken = write_world(
        world, tmp_path / "drop", noise=0.01, noise_truth=tmp_path / "noise.csv", style=style
    )
    truth = pd.read_csv(tmp_path / "noise.csv", dtype={"record_id": str})
    assert broken == len(truth) > 20
    assert set(truth["defect"]) == {
        "bad_date",
        "unknown_code",
        "dangling_reference",
        "duplicate_id",
    }
    assert {"convicts", "staff"} <= set(truth["table"])  # master rows are broken too
    drop = load_drop(tmp_path / "drop")
    if style == "legacy":
        # (a file of plain ASCII reads the same in both encodings, and is reported as UTF-8)
        assert {t.raw.separator for t in drop.tables.values()} == {";"}
        assert {t.raw.encoding for t in drop.tables.values()} <= {"cp1251", "utf-8"}
    result = validate_drop(drop, contracts, runner)
    held = {name: o.quarantine for name, o in result.tables.items()}
    findings = pd.concat([o.findings for o in result.tables.values()], ignore_index=True)
    outcome = noise_outcome(truth, held, findings)
    assert (outcome.missed, outcome.clean_quarantined) == (0, 0)
    assert outcome.quarantined > 0 and outcome.reported > 0
    # noise never touches a record that a planted scheme or hard negative cites
    for name, key in KEYS.items():
        if name in result.tables:
            accepted = set(result.tables[name].accepted[key].astype(str))
            cited = {
                r.split(":", 1)[1]
                for refs in world.labels_frame()["records"]
                for r in refs.split(";")
                if r.startswith(name + ":")
            }
            assert cited <= accepted, name


def test_noise_outcome_counts_only_listed_lines():
    truth = pd.DataFrame({"table": ["visit_logs"] * 3, "source_line": [5, 9, 11]})
    held = {"visit_logs": pd.DataFrame({"source_line": ["5", "7"]})}
    findings = pd.DataFrame({"table": ["visit_logs", "visit_logs"], "source_line": ["9", "8"]})
    outcome = noise_outcome(truth, held, findings)
    assert (outcome.quarantined, outcome.reported, outcome.missed) == (1, 1, 1)
    assert outcome.clean_quarantined == 1  # line 7
