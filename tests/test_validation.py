"""The validation step: each kind of defect quarantined with the right reason, nothing lost."""

from __future__ import annotations

import pandas as pd
import pytest

from anomaly.record_schema import TABLES
from anomaly.validation_report import write_validation
from conftest import add_row, edit_row, quarantined, read_rows


def test_clean_drop_is_accepted_whole(drop, validate):
    result = validate(drop)
    for name, outcome in result.tables.items():
        assert outcome.quarantine.empty, name
        assert len(outcome.accepted) == len(read_rows(drop, name))


@pytest.mark.parametrize(
    ("table", "line", "cells", "check"),
    [
        ("visit_logs", 3, {"convict_id": ""}, "convict_id_present"),
        ("visit_logs", 3, {"visit_type": "conjugal"}, "visit_type_known_code"),
        ("visit_logs", 3, {"accompanying": "-1"}, "accompanying_in_range"),
        ("visit_logs", 3, {"ended_at": "2023-04-15T13:00:00"}, "ended_at_not_before_started_at"),
        ("visit_logs", 3, {"started_at": "2024-02-01T10:00:00"}, "started_at_not_after_extraction"),
        ("visit_logs", 3, {"started_at": "31.02.2023 14:00"}, "unreadable_started_at"),
        ("visit_logs", 3, {"convict_id": "C999"}, "convict_id_refers_to_convicts"),
        ("visit_logs", 3, {"visitor_person_id": "P99"}, "visitor_person_id_refers_to_persons"),
        ("transfers", 2, {"arrived_on": "2022-03-01"}, "arrived_on_not_before_departed_on"),
        ("convicts", 3, {"sentence_end": "2020-01-01"}, "sentence_end_not_before_sentence_start"),
        ("convicts", 3, {"court_security_level": "galaxy"}, "court_security_level_known_code"),
        ("degree_assignments", 2, {"degree": "4"}, "degree_in_range"),
        ("degree_assignments", 2, {"degree": "1.5"}, "unreadable_degree"),
        ("disciplinary_events", 2, {"measure": "isolation"}, "measure_is_an_incentive"),
        ("long_visit_registrations", 2, {"planned_days": "5"}, "planned_days_in_range"),
        ("facilities", 2, {"capacity": "-10"}, "capacity_in_range"),
        ("persons", 2, {"birth_date": "1850-01-01"}, "birth_date_plausible"),
        ("transfers", 2, {"consent": "maybe"}, "unreadable_consent"),
        ("regions", 2, {"lat": "149.8"}, "lat_in_range"),
    ],
)
def test_each_defect_is_quarantined_with_its_reason(drop, validate, table, line, cells, check):
    edit_row(drop, table, line, **cells)
    result = validate(drop)
    assert check in quarantined(result, table)[line].split(";")
    other_lines = set(range(2, len(read_rows(drop, table)) + 2)) - {line}
    assert set(result.tables[table].accepted.index) >= other_lines - set(quarantined(result, table))


def test_reason_names_column_and_value_as_written(drop, validate):
    edit_row(drop, "visit_logs", 4, accompanying="-3")
    reasons = validate(drop).tables["visit_logs"].quarantine["reasons"].iloc[0]
    assert "accompanying_in_range" in reasons
    assert "accompanying='-3'" in reasons


def test_unreadable_cell_is_reported_once_and_kept_as_written(drop, validate):
    edit_row(drop, "visit_logs", 2, started_at="2023-13-45T10:00:00")
    q = validate(drop).tables["visit_logs"].quarantine
    assert q["failed_checks"].tolist() == ["unreadable_started_at"]
    assert q["started_at"].tolist() == ["2023-13-45T10:00:00"]
    assert "is not a timestamp" in q["reasons"].iloc[0]


def test_duplicate_ids_quarantine_every_copy(drop, validate):
    edit_row(drop, "visit_logs", 3, visit_id="V01")
    assert quarantined(validate(drop), "visit_logs") == {
        2: "visit_id_unique",
        3: "visit_id_unique",
    }


def test_a_row_exported_twice_is_kept_once(drop, validate):
    row = read_rows(drop, "visit_logs")[1]
    line = add_row(drop, "visit_logs", **row)
    result = validate(drop)
    assert quarantined(result, "visit_logs") == {line: "repeated_row"}
    assert "same cells as line 3" in result.tables["visit_logs"].quarantine["reasons"].iloc[0]
    assert 3 in result.tables["visit_logs"].accepted.index


def test_rows_of_a_quarantined_convict_follow_it(drop, validate):
    edit_row(drop, "convicts", 2, birth_date="")  # C001 rejected
    result = validate(drop)
    assert 2 in quarantined(result, "convicts")
    visits = quarantined(result, "visit_logs")
    assert set(visits) == {2, 3, 4}  # the three visits of C001
    assert all("convict_id_refers_to_convicts" in checks for checks in visits.values())


def test_unknown_officer_and_registration_are_kept_as_soft_findings(drop, validate):
    edit_row(drop, "visit_logs", 2, logged_by="S99", registration_id="L77")
    result = validate(drop)
    assert quarantined(result, "visit_logs") == {}
    findings = result.tables["visit_logs"].soft_findings
    assert set(findings["check"]) == {
        "logged_by_refers_to_staff",
        "registration_id_refers_to_long_visit_registrations",
    }
    assert set(findings["record"]) == {"V01"}


def test_compound_key_of_kinship_is_unique(drop, validate):
    edit_row(drop, "kinship", 3, person_id="P01", relation="sibling")
    pair = "convict_person_pair_unique"
    assert quarantined(validate(drop), "kinship") == {2: pair, 3: pair}


def test_extraction_date_defaults_to_latest_recorded_at(drop, validate):
    (drop / "manifest.json").unlink()
    result = validate(drop)
    assert result.drop.extracted_at == pd.Timestamp("2023-09-20T15:00:00")
    assert "condition_changes.csv line 6" in result.drop.extracted_at_source


def planted_defects(drop):
    """One defect in every table; returns the (table, line) pairs that must be rejected.

    Reference tables get a new, unreferenced row carrying the defect, so that no
    other row follows it into quarantine.
    """
    planted = {
        ("regions", add_row(drop, "regions", region_id="R03", name="X", lat="50", lon="east")),
        (
            "facilities",
            add_row(
                drop,
                "facilities",
                facility_id="F09",
                name="X",
                region_id="R01",
                security_level="supermax",
                capacity="10",
                long_visit_rooms="1",
                opened_on="2000-01-01",
            ),
        ),
        (
            "convicts",
            add_row(
                drop,
                "convicts",
                convict_id="C009",
                sex="X",
                birth_date="1990-01-01",
                home_region_id="R01",
                sentence_start="2020-01-01",
                court_security_level="medium",
                offense_gravity="grave",
            ),
        ),
    }
    edits = {
        ("staff", 8): {"to_date": "2010-01-01"},  # ends before it starts
        ("persons", 6): {"death_date": "1980-01-01"},  # before birth
        ("kinship", 5): {"relation": "cousin"},
        ("disciplinary_events", 3): {"occurred_on": "2025-01-01"},  # after extraction
        ("long_visit_registrations", 5): {"decision": "maybe"},
        ("visit_logs", 6): {"accompanying": "two"},
        ("transfers", 5): {"to_facility_id": "F99"},
        ("condition_changes", 3): {"to_condition": "deluxe"},
        ("degree_assignments", 3): {"degree": "-7"},
        ("memberships", 2): {"left_on": "2020-01-01"},
        ("work_assignments", 3): {"kind": "sleep"},
    }
    for (table, line), cells in edits.items():
        edit_row(drop, table, line, **cells)
    return planted | set(edits)


def test_planted_defects_are_exactly_what_is_quarantined(drop, validate):
    planted = planted_defects(drop)
    result = validate(drop)
    rejected = {(t, line) for t in result.tables for line in quarantined(result, t)}
    assert rejected == planted
    for name, outcome in result.tables.items():
        assert len(outcome.accepted) == len(read_rows(drop, name)) - len(quarantined(result, name))


@pytest.mark.parametrize("table", [t.name for t in TABLES])
def test_rows_read_equal_accepted_plus_quarantined(drop, validate, table, tmp_path):
    planted_defects(drop)
    add_row(drop, table)  # an empty row: fails every required column
    with (drop / f"{table}.csv").open("a", encoding="utf-8") as handle:
        handle.write("too,few\n")  # a malformed line
    result = validate(drop)
    outcome = result.tables[table]
    assert outcome.rows_read == len(read_rows(drop, table))
    assert outcome.rows_read == len(outcome.accepted) + len(outcome.quarantine)
    summary = write_validation(result, tmp_path / "out")
    on_disk = pd.read_csv(tmp_path / "out" / "quarantine" / f"{table}.csv")
    accepted = pd.read_parquet(tmp_path / "out" / "accepted" / f"{table}.parquet")
    assert summary["tables"][table]["rows_read"] == len(on_disk) + len(accepted)
    assert "malformed_row" in set(on_disk["failed_checks"])
