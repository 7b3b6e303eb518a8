"""The suites in data_contracts/ and the table spec in record_schema agree, both ways."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from anomaly.cli import app
from anomaly.contracts.suites import ContractError, load_contracts
from anomaly.ingest.record_schema import TABLES, Kind

SPECS = {t.name: t for t in TABLES}


def expectations(suite, type_):
    return [e for e in suite.definition["expectations"] if e["type"] == type_]


def test_one_suite_per_table_and_no_other(contracts):
    assert set(contracts) == set(SPECS)


@pytest.mark.parametrize("table", sorted(SPECS))
def test_required_columns_have_hard_not_null_and_nullable_ones_do_not(contracts, table):
    suite, spec = contracts[table], SPECS[table]
    unconditional = {
        e["kwargs"]["column"]: e["meta"]["severity"]
        for e in expectations(suite, "expect_column_values_to_not_be_null")
        if "row_condition" not in e["kwargs"]
    }
    required = {c.name for c in spec.columns if not c.nullable}
    assert set(unconditional) == required
    assert set(unconditional.values()) <= {"hard"}


@pytest.mark.parametrize("table", sorted(SPECS))
def test_enum_columns_check_exactly_the_spec_codes(contracts, table):
    suite, spec = contracts[table], SPECS[table]
    in_sets = {
        e["kwargs"]["column"]: e["kwargs"]["value_set"]
        for e in expectations(suite, "expect_column_values_to_be_in_set")
        if "row_condition" not in e["kwargs"] and "__" not in e["kwargs"]["column"]
    }
    enums = {c.name: list(c.codes) for c in spec.columns if c.kind == Kind.ENUM}
    assert in_sets == enums


@pytest.mark.parametrize("table", sorted(SPECS))
def test_every_reference_is_checked_against_the_table_it_names(contracts, table):
    suite, spec = contracts[table], SPECS[table]
    references = {(c.name, c.references) for c in spec.columns if c.references}
    assert set(suite.references) == references
    for e in expectations(suite, "expect_column_values_to_be_in_set"):
        if "references" in e["meta"]:  # a join computed before the suite runs
            assert e["kwargs"] == {"column": e["meta"]["reads"] + "__refers", "value_set": [True]}


@pytest.mark.parametrize("table", sorted(SPECS))
def test_every_reference_to_another_table_reports_a_quarantined_parent(contracts, table):
    suite, spec = contracts[table], SPECS[table]
    others = {(c.name, c.references) for c in spec.columns
              if c.references and not c.references.startswith(f"{table}.")}  # fmt: skip
    assert set(suite.parents) == others
    for name in (f"{column}_parent_not_quarantined" for column, _ in others):
        assert suite.checks[name].severity == "soft"


@pytest.mark.parametrize("table", sorted(SPECS))
def test_every_check_says_why_it_is_hard_or_soft(contracts, table):
    for e in contracts[table].definition["expectations"]:
        assert e["meta"].get("description"), e["meta"]["check"]
        assert e["meta"].get("why"), e["meta"]["check"]


@pytest.mark.parametrize("table", sorted(SPECS))
def test_no_date_check_guesses_a_year_of_its_own(contracts, table):
    # issue 11: "opened_on before 1950 is a typing error" lost a fifth of a national export
    for e in contracts[table].definition["expectations"]:
        for bound in ("min_value", "max_value"):
            value = e["kwargs"].get(bound)
            assert not isinstance(value, str), (e["meta"]["check"], value)
        if e["meta"]["severity"] == "hard" and "min_value" in e["kwargs"]:
            assert not isinstance(e["kwargs"]["min_value"], dict), e["meta"]["check"]


@pytest.mark.parametrize("table", sorted(SPECS))
def test_identity_columns_exist_and_master_rows_are_identified_by_their_key(contracts, table):
    suite, spec = contracts[table], SPECS[table]
    assert suite.identity_columns <= set(spec.column_names)
    assert set(spec.key) <= suite.identity_columns
    if table in {"regions", "facilities", "staff", "convicts", "persons"}:
        assert suite.identity_columns == set(spec.key)
    for column, why in suite.definition["meta"]["identity_columns"].items():
        assert why, column


def test_checked_columns_exist_in_the_spec(contracts):
    for table, suite in contracts.items():
        for check in suite.checks.values():
            assert set(check.columns) <= set(SPECS[table].column_names), check.name


def test_a_suite_without_severity_is_refused(tmp_path, contracts):
    definition = json.loads(json.dumps(contracts["regions"].definition))
    del definition["expectations"][0]["meta"]["severity"]
    (tmp_path / "regions.json").write_text(json.dumps(definition))
    with pytest.raises(ContractError, match="meta.severity"):
        load_contracts(tmp_path)


def test_an_expectation_that_cannot_run_is_an_error_not_a_pass(drop, tmp_path, contracts):
    from anomaly.contracts.validation import validate_drop
    from anomaly.ingest.drop_loading import load_drop

    broken = {name: suite for name, suite in contracts.items()}
    definition = json.loads(json.dumps(contracts["regions"].definition))
    definition["expectations"].append(
        {
            "type": "expect_column_values_to_be_between",
            "kwargs": {"column": "no_such_column", "min_value": 0},
            "meta": {"check": "broken", "severity": "hard", "description": "x"},
        }
    )
    (tmp_path / "regions.json").write_text(json.dumps(definition))
    broken["regions"] = load_contracts(tmp_path)["regions"]
    with pytest.raises(ContractError, match="check broken could not run"):
        validate_drop(load_drop(drop), broken)


@pytest.mark.parametrize("command", [[], ["validate"], ["synth"], ["evaluate"]])
def test_every_command_has_help(command):
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output
