"""Files the project writes: formula-safe in a spreadsheet, exact when read back, owner-only."""

from __future__ import annotations

import csv
import stat

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from anomaly.office.files import (
    FORMULA_START,
    private_folder,
    read_csv,
    write_csv,
    write_parquet,
    write_text,
)

PAYLOADS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "\tTAB", "\rCR"]


def cells_of(path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [cell for row in csv.reader(handle) for cell in row]


def test_formula_cells_are_neutralised_and_numbers_are_not(tmp_path):
    frame = pd.DataFrame({"text": PAYLOADS, "score": [-0.5, 1, 2, 3, 4, 5]})
    path = write_csv(frame, tmp_path / "cases.csv")
    cells = cells_of(path)
    text, score = cells[2::2], cells[3::2]
    assert not [c for c in text if c.startswith(FORMULA_START)]
    assert '\'=HYPERLINK("http://x","y")' in text
    assert score[0] == "-0.5"  # a numeric column is left as it is


def test_what_is_written_reads_back_exactly(tmp_path):
    frame = pd.DataFrame({"text": [*PAYLOADS, "'quoted", "''", "plain"]})
    back = read_csv(write_csv(frame, tmp_path / "x.csv"), dtype=str, keep_default_na=False)
    assert back["text"].tolist() == frame["text"].tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",))),
                min_size=1, max_size=8))  # fmt: skip
def test_fuzzed_no_written_cell_starts_a_formula_and_all_read_back(tmp_path_factory, texts):
    path = tmp_path_factory.mktemp("fuzz") / "x.csv"
    write_csv(pd.DataFrame({"row": range(len(texts)), "text": texts}), path)
    assert not [c for c in cells_of(path)[2:] if c.startswith(FORMULA_START)]
    back = read_csv(path, dtype={"text": str}, keep_default_na=False)["text"].tolist()
    assert back == texts


def test_files_and_folders_are_owner_only(tmp_path):
    folder = private_folder(tmp_path / "run" / "export")
    written = [
        write_csv(pd.DataFrame({"a": [1]}), folder / "a.csv"),
        write_parquet(pd.DataFrame({"a": [1]}), folder / "a.parquet"),
        write_text(folder / "report.html", "<p>x</p>"),
    ]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    existing = tmp_path / "loose.csv"
    existing.write_text("x")
    existing.chmod(0o644)
    write_csv(pd.DataFrame({"a": [1]}), existing)
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600


def test_a_synthetic_drop_holds_no_cell_a_spreadsheet_would_run(tmp_path):
    """The generator writes registry files as a registry would, and none of its cells runs."""
    from anomaly.synthetic.drop_writing import write_world
    from anomaly.synthetic.scheme_registry import build_world

    world = build_world("tiny", 5)
    for style in ("spec", "legacy"):
        drop = tmp_path / style
        write_world(world, drop, tmp_path / f"{style}_labels.csv", 0.01,
                    tmp_path / f"{style}_noise.csv", style)  # fmt: skip
        encoding, separator = ("utf-8", ",") if style == "spec" else ("cp1251", ";")
        for path in drop.glob("*.csv"):
            with path.open(encoding=encoding, newline="") as handle:
                cells = [c for row in csv.reader(handle, delimiter=separator) for c in row]
            risky = [c for c in cells if c.startswith(FORMULA_START) and not _number(c)]
            assert not risky, (path.name, risky[:3])


def _number(cell: str) -> bool:
    try:
        float(cell.replace(",", "."))
    except ValueError:
        return False
    return True
