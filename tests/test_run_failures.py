"""Whole runs on hostile input: nothing leaks, no cell runs in a spreadsheet, failures are one line.

The identifiers of a tiny synthetic world are replaced by what a hostile or
careless registry writes: spreadsheet formulas, spaces, slashes, quotes,
semicolons, and a mathtext macro in an institution's name (issue 13).
"""

from __future__ import annotations

import csv
import itertools
import multiprocessing
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from anomaly.cases.store import CaseStore
from anomaly.cli import app
from anomaly.ingest.record_schema import TABLES, Kind
from anomaly.known_failures import as_known_failure
from anomaly.office.files import FORMULA_START, read_csv

pytestmark = pytest.mark.slow  # whole runs on hostile worlds

CONVICT_FORMS = ['=HYPERLINK("http://x","{i}")', "+cmd|' /C calc'!A{i}", "@SUM({i})",
                 "CV {i}", "-{i}", "CV/{i}.{i}", "$\\undefinedmacro${i}"]  # fmt: skip
PERSON_FORMS = ["PS;{i}", "O'Brien.{i}", "\tP{i}"]


def hostile_world(source: Path, target: Path) -> dict[str, str]:
    """The world at ``source`` with hostile ids and names; returns old id -> new id."""
    target.mkdir(parents=True)
    convicts = pd.read_csv(source / "convicts.csv", dtype=str)["convict_id"]
    persons = pd.read_csv(source / "persons.csv", dtype=str)["person_id"]
    mapping = {old: form.format(i=n) for n, (old, form) in
               enumerate(zip(convicts, itertools.cycle(CONVICT_FORMS), strict=False))}  # fmt: skip
    mapping |= {old: form.format(i=n) for n, (old, form) in
                enumerate(zip(persons, itertools.cycle(PERSON_FORMS), strict=False))}  # fmt: skip
    facilities = pd.read_csv(source / "facilities.csv", dtype=str)["facility_id"]
    public = {old: f"$\\undefinedmacro${old}" for old in facilities}  # institutions are public
    for spec in TABLES:
        frame = pd.read_csv(source / f"{spec.name}.csv", dtype=str, keep_default_na=False)
        for column in spec.columns:
            if column.kind == Kind.ID and column.name in frame:
                frame[column.name] = frame[column.name].map(
                    lambda v: mapping.get(v, public.get(v, v))
                )
        frame.to_csv(target / f"{spec.name}.csv", index=False)
    (target / "manifest.json").write_bytes((source / "manifest.json").read_bytes())
    return mapping


def csv_cells(folder: Path) -> dict[Path, list[list[str]]]:
    out = {}
    for path in folder.rglob("*.csv"):
        with path.open(encoding="utf-8", newline="") as handle:
            out[path] = list(csv.reader(handle))
    return out


def numeric(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.fixture(scope="module")
def hostile_run(prefect_server, tiny_world_drop, tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    mapping = hostile_world(tiny_world_drop, root / "drop")
    result = CliRunner().invoke(app, ["run", str(root / "drop"), "--out", str(root / "run")])
    assert result.exit_code == 0, result.output
    return root, mapping, result.output


def test_no_file_written_holds_a_cell_a_spreadsheet_would_run(hostile_run):
    root, _, _ = hostile_run
    cells = csv_cells(root / "run")
    assert len(cells) > 10
    raised = read_csv(root / "run" / "raised_cases.csv", dtype=str)
    assert raised["subject_id"].str.startswith(("=", "+", "@", "-")).any()  # the probe bites
    for path, rows in cells.items():
        risky = [c for row in rows for c in row if c.startswith(FORMULA_START) and not numeric(c)]
        assert not risky, (path, risky[:3])


def test_the_export_holds_no_identifier_whatever_its_characters(hostile_run):
    root, mapping, _ = hostile_run
    export = "\n".join(p.read_text(encoding="utf-8") for p in (root / "run" / "export").glob("*"))
    assert "X-" in export
    export = re.sub(r"[XCF]-[0-9a-f]{12,16}", " ", export)  # pseudonyms may hold "-100"
    leaked = [new for new in mapping.values() if len(new) > 3 and new in export]
    assert not leaked, leaked[:5]


def test_the_report_renders_a_mathtext_macro_as_text(hostile_run):
    root, _, _ = hostile_run
    assert "\\undefinedmacro" in (root / "run" / "report.html").read_text(encoding="utf-8")


def test_the_console_shows_no_identifier(hostile_run, tiny_world_drop, tmp_path):
    root, mapping, output = hostile_run
    scored = CliRunner().invoke(app, ["score", str(root / "drop"), "--out", str(tmp_path / "s")])
    assert scored.exit_code == 0, scored.output
    for text in (output, scored.output):
        # the console names the run's folders; pytest's own (".../pytest-144/...") can
        # hold what looks like a hostile id ("-144"), and is not the registry's
        text = text.replace(str(tmp_path.parent), "<tmp>")
        assert not [new for new in mapping.values() if len(new) > 3 and new in text]


def run_in_subprocess(*arguments: str, env: dict[str, str] | None = None):
    from prefect.settings import PREFECT_API_URL

    return subprocess.run(
        [sys.executable, "-m", "anomaly.cli", *arguments],
        env={**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), **(env or {})},
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def assert_one_line_error(result, expected: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) <= 2 and lines[0].startswith("error: "), result.stderr
    assert expected in result.stderr


def test_a_data_error_found_inside_the_flow_is_one_line_and_not_retried(
    prefect_server, drop, tmp_path
):
    path = drop / "facilities.csv"
    path.write_bytes(path.read_bytes() + "F09,Колония Ω,R01,medium,10,1,2000-01-01,\n".encode()
                     + "F10,Колония,R01,medium,10,1,2000-01-01,\n".encode("cp1251"))  # fmt: skip
    began = time.monotonic()
    result = run_in_subprocess("run", str(drop), "--out", str(tmp_path / "run"))
    assert_one_line_error(result, "mixes encodings")
    assert time.monotonic() - began < 60  # retried, it took more than 3 x 20 s
    assert not (tmp_path / "run").exists()


def test_an_output_that_cannot_be_written_is_one_line(prefect_server, drop, tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    result = run_in_subprocess("run", str(drop), "--out", str(tmp_path / "a_file" / "run"))
    assert_one_line_error(result, "a_file")


def test_permission_denied_is_a_known_failure_naming_the_path():
    known = as_known_failure(PermissionError(13, "Permission denied", "/srv/out/cases.csv"))
    assert str(known) == "/srv/out/cases.csv: Permission denied"
    assert as_known_failure(ValueError("a bug")) is None


@pytest.mark.parametrize(
    ("key_bytes", "mode", "expected"),
    [(b"short", 0o600, "this file holds 5"), (bytes(32), 0o644, "readable by others")],
)
def test_a_bad_key_is_one_line(prefect_server, drop, tmp_path, key_bytes, mode, expected):
    key = tmp_path / "office.key"
    key.write_bytes(key_bytes)
    key.chmod(mode)
    result = run_in_subprocess("run", str(drop), "--out", str(tmp_path / "run"), "--key", str(key))
    assert_one_line_error(result, expected)


def test_a_store_whose_key_is_gone_refuses_a_new_one(prefect_server, drop, tmp_path):
    with CaseStore(tmp_path / "case_store.duckdb") as store:
        store.db.execute("INSERT INTO office VALUES ('K-0123456789ab')")
    result = run_in_subprocess("run", str(drop), "--out", str(tmp_path / "run"))
    assert_one_line_error(result, "earlier runs used key K-0123456789ab")
    assert not (tmp_path / "pseudonym.key").exists()


def _hold_store(path: str, ready, release) -> None:
    with CaseStore(path):
        ready.set()
        release.wait(60)


def test_a_store_held_by_another_process_is_one_line(prefect_server, drop, tmp_path):
    store = tmp_path / "case_store.duckdb"
    CaseStore(store).close()
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    holder = context.Process(target=_hold_store, args=(str(store), ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        result = run_in_subprocess("run", str(drop), "--out", str(tmp_path / "run"),
                                   env={"ANOMALY_STORE_WAIT": "1"})  # fmt: skip
        assert_one_line_error(result, "in use by another process")
    finally:
        release.set()
        holder.join(30)
