"""A corpus of hostile drops: each gets one clear error, or its rows quarantined, never a traceback.

Every probe of issue 13 is here, built from the hand-written tiny drop. A
*refused* probe must make ``anomaly validate`` print one line naming the file
(and the line or column) and exit 2. A *judged* probe must keep every row
accepted or quarantined, with the reason a person needs.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from anomaly.cli import app
from anomaly.ingest.drop_loading import load_table
from anomaly.ingest.drop_reading import read_table_file
from anomaly.ingest.record_schema import TABLES_BY_NAME
from anomaly.known_failures import KnownFailure
from conftest import add_row, edit_row

pytestmark = pytest.mark.slow  # Great Expectations runs every suite of a drop, and whole runs


def append_bytes(table: str, data: bytes) -> Callable[[Path], None]:
    def build(drop: Path) -> None:
        with (drop / f"{table}.csv").open("ab") as handle:
            handle.write(data)

    return build


def mixed_encodings(drop: Path) -> None:
    path = drop / "facilities.csv"
    path.write_bytes(
        path.read_bytes()
        + "F09,Колония Ω,R01,medium,10,1,2000-01-01,\n".encode()
        + "F10,Колония,R01,medium,10,1,2000-01-01,\n".encode("cp1251")
    )


def utf16(drop: Path) -> None:
    path = drop / "regions.csv"
    path.write_bytes(path.read_text(encoding="utf-8").encode("utf-16"))


def symlink_to(target: str) -> Callable[[Path], None]:
    def build(drop: Path) -> None:
        (drop / "regions.csv").unlink()
        (drop / "regions.csv").symlink_to(target)

    return build


def symlink_out_of_the_drop(drop: Path) -> None:
    outside = drop.parent / "elsewhere.csv"
    shutil.copy(drop / "regions.csv", outside)
    symlink_to(str(outside))(drop)


def fifo(drop: Path) -> None:
    (drop / "regions.csv").unlink()
    os.mkfifo(drop / "regions.csv")


def manifest(text: str) -> Callable[[Path], None]:
    def build(drop: Path) -> None:
        (drop / "manifest.json").write_text(text)

    return build


def header(table: str, new_header: str) -> Callable[[Path], None]:
    def build(drop: Path) -> None:
        path = drop / f"{table}.csv"
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        path.write_text(new_header + "\n" + "".join(lines[1:]), encoding="utf-8")

    return build


def twice(drop: Path) -> None:
    pd.read_csv(drop / "regions.csv", dtype=str).to_parquet(drop / "regions.parquet")


def broken_file(name: str, data: bytes) -> Callable[[Path], None]:
    def build(drop: Path) -> None:
        (drop / "regions.csv").unlink()
        (drop / name).write_bytes(data)

    return build


REFUSED = {
    "mixed encodings": (mixed_encodings, "mixes encodings: line 5 is UTF-8, line 6 is not"),
    "utf-16": (utf16, "UTF-16"),
    "symlink to /dev/zero": (symlink_to("/dev/zero"), "outside the drop"),
    "symlink out of the drop": (symlink_out_of_the_drop, "outside the drop"),
    "fifo": (fifo, "not a regular file"),
    "extraction in the future": (
        manifest('{"extracted_at": "2999-01-01T00:00:00"}'), "is in the future"),
    "manifest not json": (manifest("{extracted_at: "), "not valid JSON"),
    "manifest without extraction": (manifest("{}"), "has no 'extracted_at'"),
    "manifest with a bad date": (manifest('{"extracted_at": "31.02.2024"}'), "is not a timestamp"),
    "required table missing": (lambda d: (d / "staff.csv").unlink(), "required table(s) missing"),
    "column missing": (header("regions", "region_id,name,lat"), "missing column(s)"),
    "column twice": (header("regions", "region_id,name,name,lon"), "appears twice"),
    "table twice": (twice, "delivered twice"),
    "empty file": (lambda d: (d / "regions.csv").write_bytes(b""), "empty or has no header"),
    "broken parquet": (broken_file("regions.parquet", b"PAR1 not really"), "cannot be read as"),
    "broken xlsx": (broken_file("regions.xlsx", b"PK\x03\x04 no zip"), "cannot be read as XLSX"),
}  # fmt: skip


@pytest.mark.parametrize("probe", REFUSED)
def test_a_hostile_drop_is_refused_in_one_line_with_exit_2(probe, drop, tmp_path):
    build, expected = REFUSED[probe]
    build(drop)
    result = CliRunner().invoke(app, ["validate", str(drop), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) <= 2 and lines[0].startswith("error: "), result.output
    assert expected in result.output, result.output
    assert str(drop) in result.output
    assert not (tmp_path / "out").exists()  # nothing half-written


@pytest.mark.parametrize("probe", REFUSED)
def test_anomaly_run_refuses_the_same_drops_the_same_way(probe, prefect_server, drop, tmp_path):
    """``run`` says what ``validate`` says (most before Prefect starts), and writes nothing."""
    build, expected = REFUSED[probe]
    build(drop)
    out = tmp_path / "runs" / "run"
    result = CliRunner().invoke(app, ["run", str(drop), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and expected in result.output, result.output
    assert not out.exists() and not list(out.parent.glob(".run.partial-*"))


def judged(validate, drop: Path, table: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    result = validate(drop)
    outcome = result.tables[table]
    assert outcome.rows_read == len(outcome.accepted) + len(outcome.quarantine)
    return outcome.accepted, outcome.quarantine, outcome.findings


def test_integers_are_read_exactly_up_to_64_bits_and_refused_beyond(validate, drop):
    edit_row(drop, "facilities", 2, capacity="9007199254740993")
    edit_row(drop, "facilities", 3, capacity="9223372036854775807")
    line = add_row(drop, "facilities", facility_id="F99", name="x", region_id="R01",
                   security_level="medium", capacity="9223372036854775808",
                   long_visit_rooms="1", opened_on="2000-01-01")  # fmt: skip
    accepted, _, findings = judged(validate, drop, "facilities")
    capacity = accepted.set_index("facility_id")["capacity"]
    assert int(capacity["F01"]) == 9007199254740993  # not ...992
    assert int(capacity["F02"]) == 9223372036854775807  # not "must be >= 0"
    reason = findings.loc[findings["source_line"].eq(line), "reason"].str.cat()
    assert "is not an integer within 64 bits" in reason
    assert pd.isna(capacity["F99"])


def test_an_integer_with_a_decimal_point_beyond_2_53_is_refused(validate, drop):
    edit_row(drop, "facilities", 2, capacity="9007199254740993.0")
    accepted, _, findings = judged(validate, drop, "facilities")
    assert pd.isna(accepted.set_index("facility_id").loc["F01", "capacity"])
    assert "below 2^53" in findings["reason"].str.cat()


@pytest.mark.parametrize(
    ("cell", "detail"),
    [("x" * 1_000_001, "more than 1,000,000 characters"), ("Ivan\x00ov", "holds a NUL byte")],
)
def test_a_huge_cell_or_a_nul_byte_quarantines_its_row(validate, drop, cell, detail):
    edit_row(drop, "facilities", 2, name=cell)
    accepted, quarantine, _ = judged(validate, drop, "facilities")
    assert "F01" not in set(accepted["facility_id"])
    row = quarantine.set_index("facility_id").loc["F01"]
    assert "damaged_cell" in row["failed_checks"] and detail in row["reasons"]
    assert len(row["reasons"]) < 500  # the reason names the cell, it does not repeat it


def test_an_xlsx_row_with_an_extra_cell_is_quarantined_like_a_csv_row(validate, drop):
    frame = pd.read_csv(drop / "regions.csv", dtype=str)
    (drop / "regions.csv").unlink()
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append(list(row))
    sheet.cell(row=3, column=len(frame.columns) + 1, value="stray")
    workbook.save(drop / "regions.xlsx")
    _, quarantine, _ = judged(validate, drop, "regions")
    assert quarantine["source_line"].astype(int).tolist() == [3]
    assert "malformed_row" in quarantine["failed_checks"].iloc[0]


def test_an_entry_dated_in_the_future_does_not_set_the_extraction_date(validate, drop):
    (drop / "manifest.json").unlink()
    edit_row(drop, "visit_logs", 2, recorded_at="2999-01-01T00:00:00")
    result = validate(drop)
    assert result.drop.extracted_at.year < 2999
    assert "2999" not in result.drop.extracted_at_source


csv_body = st.binary(max_size=400)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=csv_body, separator=st.sampled_from([",", ";"]))
def test_fuzzed_bytes_give_rows_or_one_clear_error(tmp_path, body, separator):
    """Any bytes after a valid header: every line is read or set aside, or one known error."""
    spec = TABLES_BY_NAME["facilities"]
    path = tmp_path / "facilities.csv"
    path.write_bytes(separator.join(spec.column_names).encode() + b"\n" + body)
    try:
        raw = read_table_file(path)
        loaded = load_table(path, spec)
    except KnownFailure as error:
        assert str(path) in str(error)
        return
    assert loaded.rows_read == len(raw.cells) + len(raw.malformed)
    assert set(loaded.typed.columns) == set(spec.column_names)
    assert loaded.typed.index.is_unique
    if b'"' not in body and b"\r" not in body:  # one record per line: none may go missing
        lines = [line for line in body.split(b"\n") if line.strip(b" \t")]
        assert loaded.rows_read == len(lines)


@settings(max_examples=300, deadline=None)
@given(number=st.integers(min_value=-(2**70), max_value=2**70), padding=st.sampled_from(["", " "]))
def test_fuzzed_integers_are_exact_within_64_bits_and_unreadable_beyond(number, padding):
    from anomaly.ingest.cell_parsing import STRING, parse_column
    from anomaly.ingest.record_schema import Column, Kind

    cells = pd.Series([f"{padding}{number}{padding}", f"{number}.0"], dtype=STRING)
    typed, unreadable = parse_column(cells, Column("capacity", Kind.INT))
    fits = -(2**63) <= number < 2**63
    assert bool(unreadable.iloc[0]) is not fits
    if fits:
        assert int(typed.iloc[0]) == number
    exact_in_decimal_form = abs(number) < 2**53
    assert bool(unreadable.iloc[1]) is not exact_in_decimal_form
    if exact_in_decimal_form:
        assert int(typed.iloc[1]) == number
