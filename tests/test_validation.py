"""The validation step: each defect costs its row or its cell, with its reason; nothing lost."""

from __future__ import annotations

import pandas as pd
import pytest

from anomaly.contracts.validation import MISSING, NULLED, REPORTED
from anomaly.contracts.validation_outputs import write_validation
from anomaly.ingest.record_schema import TABLES
from conftest import add_row, edit_row, quarantined, read_rows

pytestmark = pytest.mark.slow  # Great Expectations runs every suite of a drop, about 2.5 s a test


def test_clean_drop_is_accepted_whole(drop, validate):
    result = validate(drop)
    for name, outcome in result.tables.items():
        assert outcome.quarantine.empty, name
        assert len(outcome.accepted) == len(read_rows(drop, name))


@pytest.mark.parametrize(
    ("table", "line", "cells", "check"),
    [
        ("visit_logs", 3, {"convict_id": ""}, "convict_id_present"),
        ("visit_logs", 3, {"started_at": "2024-02-01T10:00:00"}, "started_at_not_after_extraction"),
        ("visit_logs", 3, {"started_at": "31.02.2023 14:00"}, "unreadable_started_at"),
        ("visit_logs", 3, {"convict_id": "C999"}, "convict_id_refers_to_convicts"),
        ("visit_logs", 3, {"visitor_person_id": "P99"}, "visitor_person_id_refers_to_persons"),
        ("transfers", 2, {"arrived_on": "2022-03-01"}, "arrived_on_not_before_departed_on"),
        ("degree_assignments", 2, {"degree": "4"}, "degree_in_range"),
        ("degree_assignments", 2, {"degree": "1.5"}, "unreadable_degree"),
        ("condition_changes", 3, {"to_condition": "deluxe"}, "to_condition_known_code"),
        ("facilities", 2, {"facility_id": ""}, "facility_id_present"),
        ("regions", 2, {"region_id": ""}, "region_id_present"),
    ],
)
def test_a_broken_identity_cell_quarantines_its_row(drop, validate, table, line, cells, check):
    edit_row(drop, table, line, **cells)
    result = validate(drop)
    assert check in quarantined(result, table)[line].split(";")
    assert set(quarantined(result, table)) == {line}
    other_lines = set(range(2, len(read_rows(drop, table)) + 2)) - {line}
    assert set(result.tables[table].accepted.index) == other_lines


@pytest.mark.parametrize(
    ("table", "line", "cells", "check", "cost"),
    [
        ("visit_logs", 3, {"visit_type": "conjugal"}, "visit_type_known_code", NULLED),
        ("visit_logs", 3, {"accompanying": "-1"}, "accompanying_in_range", NULLED),
        ("visit_logs", 3, {"ended_at": "2023-04-15T13:00:00"}, "ended_at_not_before_started_at",
         NULLED),
        ("visit_logs", 3, {"recorded_at": "31.02.2023 14:00"}, "unreadable_recorded_at", NULLED),
        ("visit_logs", 3, {"logged_by": ""}, "logged_by_present", MISSING),
        ("convicts", 3, {"sentence_end": "2020-01-01"}, "sentence_end_not_before_sentence_start",
         NULLED),
        ("convicts", 3, {"court_security_level": "galaxy"}, "court_security_level_known_code",
         NULLED),
        ("convicts", 3, {"birth_date": "31.02.1975"}, "unreadable_birth_date", NULLED),
        ("convicts", 3, {"birth_date": ""}, "birth_date_present", MISSING),
        ("convicts", 3, {"home_region_id": "R77"}, "home_region_id_refers_to_regions", NULLED),
        ("disciplinary_events", 2, {"measure": "isolation"}, "measure_is_an_incentive", NULLED),
        ("long_visit_registrations", 2, {"planned_days": "5"}, "planned_days_in_range", NULLED),
        ("facilities", 2, {"capacity": "-5"}, "capacity_in_range", NULLED),
        ("facilities", 2, {"opened_on": "31.02.1975"}, "unreadable_opened_on", NULLED),
        ("facilities", 2, {"security_level": "supermax"}, "security_level_known_code", NULLED),
        ("persons", 2, {"birth_date": "2099-01-01"}, "birth_date_not_after_extraction", NULLED),
        ("persons", 2, {"birth_date": "1850-01-01"}, "birth_date_within_120_years", REPORTED),
        ("staff", 2, {"facility_id": "F99"}, "facility_id_refers_to_facilities", NULLED),
        ("staff", 2, {"to_date": "2010-01-01"}, "to_date_not_before_from_date", NULLED),
        ("transfers", 2, {"consent": "maybe"}, "unreadable_consent", NULLED),
        ("transfers", 2, {"recorded_at": "1901-01-01T00:00:00"}, "recorded_at_within_a_century",
         REPORTED),
        ("regions", 2, {"lat": "149.8"}, "lat_in_range", NULLED),
    ],
)  # fmt: skip
def test_any_other_broken_cell_costs_that_cell_not_the_row(
    drop, validate, table, line, cells, check, cost
):
    ((column, written),) = cells.items()
    edit_row(drop, table, line, **cells)
    outcome = validate(drop).tables[table]
    assert outcome.quarantine.empty
    assert len(outcome.accepted) == len(read_rows(drop, table))
    found = outcome.findings[outcome.findings["check"].eq(check)]
    assert found[["source_line", "action", "column"]].values.tolist() == [[line, cost, column]]
    assert found["value"].iloc[0] == written
    kept = outcome.accepted.at[line, column]
    assert pd.isna(kept) if cost != REPORTED else not pd.isna(kept)


def test_an_institution_of_the_1930s_is_no_finding_at_all(drop, validate):
    edit_row(drop, "facilities", 2, opened_on="1932-05-01")
    outcome = validate(drop).tables["facilities"]
    assert outcome.quarantine.empty and outcome.findings.empty
    assert outcome.accepted.at[2, "opened_on"] == pd.Timestamp("1932-05-01")


def test_a_birth_date_after_the_extraction_is_nulled_once(drop, validate):
    # it also puts the sentence start "before the birth": that is the same broken cell
    edit_row(drop, "convicts", 2, birth_date="2099-01-01")
    outcome = validate(drop).tables["convicts"]
    assert outcome.nulled_cells["column"].tolist() == ["birth_date"]
    assert outcome.accepted.at[2, "sentence_start"] == pd.Timestamp("2022-03-01")


def test_reason_names_column_and_value_as_written(drop, validate):
    edit_row(drop, "visit_logs", 4, accompanying="-3")
    reason = validate(drop).tables["visit_logs"].findings["reason"].iloc[0]
    assert "accompanying_in_range" in reason
    assert "accompanying='-3'" in reason


def test_unreadable_cell_is_reported_once_and_kept_as_written(drop, validate):
    edit_row(drop, "visit_logs", 2, started_at="2023-13-45T10:00:00")
    q = validate(drop).tables["visit_logs"].quarantine
    assert q["failed_checks"].tolist() == ["unreadable_started_at"]
    assert q["started_at"].tolist() == ["2023-13-45T10:00:00"]
    assert "is not a timestamp" in q["reasons"].iloc[0]


def test_a_repeated_id_quarantines_the_later_line_and_keeps_the_first(drop, validate):
    edit_row(drop, "visit_logs", 3, visit_id="V01")
    result = validate(drop)
    assert quarantined(result, "visit_logs") == {3: "visit_id_unique"}
    assert "repeats line 2 (that line is kept)" in result.tables["visit_logs"].quarantine[
        "reasons"].iloc[0]  # fmt: skip
    findings = result.tables["visit_logs"].findings
    assert findings[["source_line", "check"]].values.tolist() == [[2, "visit_id_repeated_later"]]


def test_a_row_exported_twice_is_kept_once(drop, validate):
    row = read_rows(drop, "visit_logs")[1]
    line = add_row(drop, "visit_logs", **row)
    result = validate(drop)
    assert quarantined(result, "visit_logs") == {line: "repeated_row"}
    assert "same cells as line 3" in result.tables["visit_logs"].quarantine["reasons"].iloc[0]
    assert 3 in result.tables["visit_logs"].accepted.index


def test_rows_of_a_quarantined_convict_row_stay_with_a_finding_naming_it(drop, validate):
    # issue 11: a second row claiming C001 is quarantined; C001's records are not
    line = add_row(drop, "convicts", convict_id="C001", sex="F", birth_date="1970-01-01",
                   home_region_id="R02", sentence_start="2020-01-01",
                   court_security_level="minimum", offense_gravity="minor")  # fmt: skip
    result = validate(drop)
    assert quarantined(result, "convicts") == {line: "convict_id_unique"}
    assert 2 in result.tables["convicts"].accepted.index  # the first C001 row
    visits = result.tables["visit_logs"]
    assert visits.quarantine.empty
    orphans = visits.findings[visits.findings["check"].eq("convict_id_parent_not_quarantined")]
    assert sorted(orphans["source_line"]) == [2, 3, 4]  # the three visits of C001
    assert f"convicts.csv line {line}, quarantined: convict_id_unique" in orphans["reason"].iloc[0]
    assert visits.rows_kept_with_parent_quarantined == 3


def test_a_visit_resting_on_a_quarantined_registration_is_kept(drop, validate):
    edit_row(drop, "long_visit_registrations", 2, visitor_person_id="P99")  # L01: person nowhere
    result = validate(drop)
    assert set(quarantined(result, "long_visit_registrations")) == {2}
    visits = result.tables["visit_logs"]
    assert visits.quarantine.empty
    orphans = visits.findings[visits.findings["check"].str.endswith("_parent_not_quarantined")]
    assert orphans[["source_line", "record"]].values.tolist() == [[2, "V01"]]
    assert "long_visit_registrations.csv line 2" in orphans["reason"].iloc[0]


def test_unknown_officer_and_registration_are_kept_as_soft_findings(drop, validate):
    edit_row(drop, "visit_logs", 2, logged_by="S99", registration_id="L77")
    result = validate(drop)
    assert quarantined(result, "visit_logs") == {}
    findings = result.tables["visit_logs"].findings
    assert set(findings["check"]) == {
        "logged_by_refers_to_staff",
        "registration_id_refers_to_long_visit_registrations",
    }
    assert set(findings["record"]) == {"V01"}
    assert set(findings["action"]) == {REPORTED}


def test_compound_key_of_kinship_keeps_its_first_line(drop, validate):
    edit_row(drop, "kinship", 3, person_id="P01", relation="sibling")
    assert quarantined(validate(drop), "kinship") == {3: "convict_person_pair_unique"}


def test_extraction_date_defaults_to_latest_recorded_at(drop, validate):
    (drop / "manifest.json").unlink()
    result = validate(drop)
    assert result.drop.extracted_at == pd.Timestamp("2023-09-20T15:00:00")
    assert "condition_changes.csv line 6" in result.drop.extracted_at_source


def planted_defects(drop):
    """One row-quarantining defect in every table; returns the (table, line) pairs rejected.

    Master tables lose a row only by a missing or repeated key; event tables
    by a broken identity cell (the convict, the institution, the own date...).
    """
    planted = {
        ("regions", add_row(drop, "regions", name="X", lat="50", lon="60")),
        ("facilities", add_row(drop, "facilities", facility_id="F01", name="X", region_id="R01",
                               security_level="medium", capacity="1", long_visit_rooms="1",
                               opened_on="2000-01-01")),
        ("convicts", add_row(drop, "convicts", sex="M", birth_date="1990-01-01")),
    }  # fmt: skip
    edits = {
        ("staff", 8): {"staff_id": "S01"},  # repeats line 2
        ("persons", 6): {"person_id": ""},
        ("kinship", 5): {"person_id": "P404"},  # nowhere in the drop
        ("disciplinary_events", 3): {"occurred_on": "2025-01-01"},  # after extraction
        ("long_visit_registrations", 5): {"requested_on": "2023-02-30"},
        ("visit_logs", 6): {"started_at": "yesterday"},
        ("transfers", 5): {"to_facility_id": "F99"},
        ("condition_changes", 3): {"to_condition": "deluxe"},
        ("degree_assignments", 3): {"degree": "-7"},
        ("memberships", 2): {"joined_on": ""},
        ("work_assignments", 3): {"facility_id": "F77"},
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
