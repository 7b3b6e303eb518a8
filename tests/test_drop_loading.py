"""Reading drops: every format, encoding and date style gives the same typed tables."""

from __future__ import annotations

import datetime as dt
import re

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from anomaly.cli import app
from anomaly.ingest.drop_loading import load_drop
from anomaly.ingest.drop_reading import DropFormatError
from anomaly.ingest.record_schema import TABLES, Kind
from conftest import edit_row, read_rows, write_rows

ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
ISO_TIMESTAMP = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}:\d{2}:\d{2})$")


def typed_tables(path) -> dict[str, pd.DataFrame]:
    return {name: t.typed for name, t in load_drop(path).tables.items()}


def assert_same_tables(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    assert left.keys() == right.keys()
    for name in left:
        pd.testing.assert_frame_equal(
            left[name].reset_index(drop=True), right[name].reset_index(drop=True), obj=name
        )


def old_style(value: str) -> str:
    """A cell as old registry software writes it: DD.MM.YYYY dates, decimal comma."""
    if m := ISO_DATE.match(value):
        return f"{m[3]}.{m[2]}.{m[1]}"
    if m := ISO_TIMESTAMP.match(value):
        return f"{m[3]}.{m[2]}.{m[1]} {m[4]}"
    if re.fullmatch(r"-?\d+\.\d+", value):
        return value.replace(".", ",")
    return value


def test_windows_1251_semicolons_and_day_first_dates(drop):
    edit_row(drop, "regions", 3, name="Алматы")
    baseline = typed_tables(drop)
    for spec in TABLES:
        rows = read_rows(drop, spec.name)
        text = ";".join(rows[0]) + "\r\n"
        text += "".join(";".join(old_style(v) for v in row.values()) + "\r\n" for row in rows)
        (drop / f"{spec.name}.csv").write_bytes(text.encode("cp1251"))
    loaded = load_drop(drop)
    assert loaded.tables["regions"].raw.encoding == "cp1251"
    assert loaded.tables["visit_logs"].raw.separator == ";"
    assert_same_tables(baseline, {n: t.typed for n, t in loaded.tables.items()})


def test_cyrillic_text_survives_both_encodings(drop):
    name = "Карагандинская область"
    edit_row(drop, "regions", 2, name=name)
    assert load_drop(drop).tables["regions"].typed["name"].iloc[0] == name
    raw = (drop / "regions.csv").read_text(encoding="utf-8")
    (drop / "regions.csv").write_bytes(raw.encode("cp1251"))
    assert load_drop(drop).tables["regions"].typed["name"].iloc[0] == name


def test_utf8_byte_order_mark_is_not_part_of_the_header(drop):
    raw = (drop / "regions.csv").read_bytes()
    (drop / "regions.csv").write_bytes(b"\xef\xbb\xbf" + raw)
    assert list(load_drop(drop).tables["regions"].typed.columns)[0] == "region_id"


def test_parquet_drop_reads_like_csv(drop, tmp_path):
    baseline = typed_tables(drop)
    target = tmp_path / "parquet_drop"
    target.mkdir()
    for name, frame in baseline.items():
        frame.to_parquet(target / f"{name}.parquet", index=False)
    (target / "manifest.json").write_text((drop / "manifest.json").read_text())
    loaded = typed_tables(target)
    assert_same_tables(baseline, loaded)
    assert list(load_drop(target).tables["visit_logs"].typed.index[:2]) == [1, 2]


def test_xlsx_drop_with_real_date_cells_reads_like_csv(drop, tmp_path):
    baseline = typed_tables(drop)
    target = tmp_path / "xlsx_drop"
    target.mkdir()
    for spec in TABLES:
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        rows = read_rows(drop, spec.name)
        sheet.append(list(rows[0]))
        for row in rows:
            sheet.append([_spreadsheet_cell(spec.column(c).kind, v) for c, v in row.items()])
        workbook.save(target / f"{spec.name}.xlsx")
    (target / "manifest.json").write_text((drop / "manifest.json").read_text())
    assert_same_tables(baseline, typed_tables(target))
    assert list(load_drop(target).tables["visit_logs"].typed.index[:2]) == [2, 3]


def _spreadsheet_cell(kind: Kind, value: str) -> object:
    if value == "":
        return None
    if kind == Kind.DATE:
        return dt.date.fromisoformat(value)
    if kind == Kind.TIMESTAMP:
        return dt.datetime.fromisoformat(value)
    if kind in (Kind.INT, Kind.FLOAT):
        return float(value)  # spreadsheets store numbers as floats
    return value


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("true", True), ("TRUE", True), ("1", True), ("false", False), ("0", False), ("", None)],
)
def test_booleans(drop, cell, expected):
    edit_row(drop, "transfers", 2, consent=cell)
    value = load_drop(drop).tables["transfers"].typed["consent"].iloc[0]
    assert (value is pd.NA and expected is None) or value == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2023-03-10T10:00:00", "2023-03-10 10:00:00"),
        ("2023-03-10 10:00", "2023-03-10 10:00:00"),
        ("10.03.2023 10:00:00", "2023-03-10 10:00:00"),
        ("10.03.2023", "2023-03-10 00:00:00"),
    ],
)
def test_timestamp_forms(drop, cell, expected):
    edit_row(drop, "visit_logs", 2, started_at=cell)
    assert load_drop(drop).tables["visit_logs"].typed["started_at"].iloc[0] == pd.Timestamp(
        expected
    )


@pytest.mark.parametrize(
    "cell", ["03/10/2023", "2023/03/10", "10-03-2023", "20230310", "31.02.2023"]
)
def test_ambiguous_or_impossible_dates_are_never_guessed(drop, cell):
    edit_row(drop, "transfers", 2, departed_on=cell)
    table = load_drop(drop).tables["transfers"]
    assert pd.isna(table.typed["departed_on"].iloc[0])
    assert table.unreadable[["column", "value"]].values.tolist() == [["departed_on", cell]]


def test_identifiers_are_opaque_strings(drop):
    edit_row(drop, "regions", 2, region_id="007")
    assert load_drop(drop).tables["regions"].typed["region_id"].iloc[0] == "007"


def test_enum_codes_match_without_case_and_known_aliases(drop):
    edit_row(drop, "facilities", 2, security_level="High Security")
    edit_row(drop, "facilities", 3, security_level=" MIXED ")
    levels = load_drop(drop).tables["facilities"].typed["security_level"].tolist()
    assert levels[:2] == ["extreme", "mixed"]


def test_missing_required_table_names_the_file(drop):
    (drop / "visit_logs.csv").unlink()
    with pytest.raises(DropFormatError, match=r"visit_logs\.csv"):
        load_drop(drop)


def test_missing_column_names_file_and_column(drop):
    rows = read_rows(drop, "transfers")
    write_rows(drop, "transfers", [{k: v for k, v in r.items() if k != "order_no"} for r in rows])
    with pytest.raises(DropFormatError, match=r"transfers\.csv: missing column\(s\) order_no"):
        load_drop(drop)


def test_cli_reports_a_missing_column_and_exits_2(drop, tmp_path):
    rows = read_rows(drop, "kinship")
    write_rows(drop, "kinship", [{k: v for k, v in r.items() if k != "relation"} for r in rows])
    result = CliRunner().invoke(app, ["validate", str(drop), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert "kinship.csv: missing column(s) relation" in result.output


def test_missing_optional_table_is_allowed_and_reported(drop):
    (drop / "memberships.csv").unlink()
    loaded = load_drop(drop)
    assert "memberships" not in loaded.tables
    assert loaded.missing_optional == ("memberships",)


def test_extra_columns_are_kept_out_and_reported(drop):
    rows = read_rows(drop, "regions")
    write_rows(drop, "regions", [{**r, "Population": "1000"} for r in rows])
    table = load_drop(drop).tables["regions"]
    assert table.extra_columns == ("population",)
    assert "population" not in table.typed.columns


def test_table_delivered_twice_is_an_error(drop):
    pd.read_csv(drop / "regions.csv").to_parquet(drop / "regions.parquet")
    with pytest.raises(DropFormatError, match="delivered twice"):
        load_drop(drop)


def test_source_lines_are_exact_with_quoted_line_breaks_and_blank_lines(drop):
    text = (drop / "kinship.csv").read_text()
    head, *rows = text.splitlines()
    rows[0] = rows[0].replace("MC-1187", '"MC-1187\nsecond line"')
    (drop / "kinship.csv").write_text("\n".join([head, rows[0], "", *rows[1:], "a,b"]) + "\n")
    table = load_drop(drop).tables["kinship"]
    # header 1, first row 2-3, blank 4, then rows on 5, 6, 7; malformed on 8
    assert list(table.typed.index) == [2, 5, 6, 7]
    assert table.typed["document_no"].iloc[0] == "MC-1187\nsecond line"
    assert table.raw.malformed["source_line"].tolist() == [8]


def test_malformed_rows_are_kept_with_their_line(drop):
    with (drop / "regions.csv").open("a") as handle:
        handle.write("R09,Too,Many,Fields,Here\n")
    malformed = load_drop(drop).tables["regions"].raw.malformed
    assert malformed.values.tolist() == [
        [4, "R09,Too,Many,Fields,Here", "malformed_row: 5 fields where the header has 4"]
    ]


def test_manifest_extraction_date_must_be_readable(drop):
    (drop / "manifest.json").write_text('{"extracted_at": "yesterday"}')
    with pytest.raises(DropFormatError, match="manifest.json: extracted_at 'yesterday'"):
        load_drop(drop)
