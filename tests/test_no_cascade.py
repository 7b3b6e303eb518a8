"""One bad cell in one master row costs that cell, never the records that depend on the row
(issue 11: a typed-in impossible date hid a fifth of a national export)."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from anomaly.contracts.validation import NULLED, validate_drop
from anomaly.contracts.validation_outputs import summarise
from anomaly.ingest.drop_loading import load_drop
from anomaly.registry.snapshot import Snapshot, quarantined_subjects
from anomaly.rulebook import load_rulebook
from anomaly.scoring.case_scoring import score
from anomaly.synthetic.drop_writing import write_world
from conftest import add_row, edit_row, read_rows

pytestmark = pytest.mark.slow
DEPENDANTS = {  # table: its columns naming the institution
    "staff": ("facility_id",),
    "visit_logs": ("facility_id",),
    "long_visit_registrations": ("facility_id",),
    "disciplinary_events": ("facility_id",),
    "degree_assignments": ("facility_id",),
    "condition_changes": ("facility_id",),
    "transfers": ("to_facility_id", "from_facility_id"),
}


@pytest.fixture(scope="module")
def world_drop(small_world, tmp_path_factory):
    root = tmp_path_factory.mktemp("no_cascade")
    write_world(small_world, root / "drop")
    return root / "drop"


@pytest.fixture(scope="module")
def busiest(world_drop):
    with (world_drop / "visit_logs.csv").open(encoding="utf-8", newline="") as handle:
        visits = pd.DataFrame(list(csv.DictReader(handle)))
    return str(visits["facility_id"].value_counts().idxmax())


@pytest.fixture(scope="module")
def clean_run(world_drop, contracts, runner):
    return run(world_drop, contracts, runner)


def run(drop, contracts, runner):
    result = validate_drop(load_drop(drop), contracts, runner)
    snapshot = Snapshot.of(
        result.accepted,
        load_rulebook(),
        result.drop.extracted_at,
        result.drop.missing_optional,
        result.nulled_cells,
        quarantined_subjects(result.quarantine),
    )
    return result, score(snapshot)


def facility_line(drop, facility_id):
    rows = read_rows(drop, "facilities")
    return next(i for i, row in enumerate(rows, start=2) if row["facility_id"] == facility_id)


def copy_of(world_drop, tmp_path):
    import shutil

    shutil.copytree(world_drop, tmp_path / "drop")
    return tmp_path / "drop"


def institution_records(result, facility_id):
    counts = {}
    for table, columns in DEPENDANTS.items():
        accepted = result.tables[table].accepted
        names = pd.concat([accepted[c].astype(str).eq(facility_id) for c in columns], axis=1)
        counts[table] = int(names.any(axis=1).sum())
    return counts


def flags_at(scored, facility_id):
    flags = scored.flags[scored.flags["facility_id"].astype(str).eq(facility_id)]
    return flags[["rule", "table", "record_id", "score"]].sort_values(["rule", "record_id"])


def test_an_impossible_date_in_the_busiest_institution_costs_one_cell(
    world_drop, busiest, clean_run, contracts, runner, tmp_path
):
    drop = copy_of(world_drop, tmp_path)
    line = facility_line(drop, busiest)
    edit_row(drop, "facilities", line, opened_on="31.02.1975")
    result, scored = run(drop, contracts, runner)
    facilities = result.tables["facilities"]
    assert facilities.quarantine.empty
    assert pd.isna(facilities.accepted.at[line, "opened_on"])
    nulled = facilities.findings[facilities.findings["action"].eq(NULLED)]
    assert nulled[["source_line", "column", "value"]].values.tolist() == [
        [line, "opened_on", "31.02.1975"]
    ]
    clean_result, clean_scored = clean_run
    assert institution_records(result, busiest) == institution_records(clean_result, busiest)
    assert min(institution_records(result, busiest).values()) > 0
    pd.testing.assert_frame_equal(
        flags_at(scored, busiest).reset_index(drop=True),
        flags_at(clean_scored, busiest).reset_index(drop=True),
    )
    assert summarise(result)["totals"]["quarantined"] == 0


def test_a_repeated_institution_key_quarantines_the_copy_and_keeps_its_dependants(
    world_drop, busiest, clean_run, contracts, runner, tmp_path
):
    drop = copy_of(world_drop, tmp_path)
    original = read_rows(drop, "facilities")[facility_line(drop, busiest) - 2]
    copy = add_row(drop, "facilities", **{**original, "name": "typed again", "capacity": "-5"})
    result, _ = run(drop, contracts, runner)
    assert result.tables["facilities"].quarantine["source_line"].tolist() == [copy]
    clean_result, _ = clean_run
    assert institution_records(result, busiest) == institution_records(clean_result, busiest)
    kept = sum(result.tables[t].rows_kept_with_parent_quarantined for t in DEPENDANTS)
    assert kept == sum(institution_records(result, busiest).values())
    visits = result.tables["visit_logs"].findings
    reason = visits.loc[visits["check"].eq("facility_id_parent_not_quarantined"), "reason"]
    assert f"facilities.csv line {copy}, quarantined: " in reason.iloc[0]
    assert "facility_id_unique" in reason.iloc[0]
    summary = summarise(result)
    assert summary["totals"]["largest_loss_from_one_row"] == 1
    assert summary["tables"]["facilities"]["quarantined"] == 1
