"""Load a registry drop: every table of the record exchange spec, typed.

A drop is a folder with one file per table (``<table>.csv``, ``.parquet`` or
``.xlsx``) and an optional ``manifest.json`` holding ``extracted_at``. Loading
does not judge the rows: it reads them, types them and keeps aside the cells
that could not be read. Judging is the data contracts' job (``contracts.validation``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from anomaly.ingest.cell_parsing import damaged_cells, describe_expected, parse_column
from anomaly.ingest.drop_reading import (
    DropFormatError,
    RawTable,
    check_table_file,
    find_table_file,
    read_header,
    read_table_file,
)
from anomaly.ingest.record_schema import TABLES, TABLES_BY_NAME, Column, Kind, Table

if TYPE_CHECKING:
    from anomaly.database.registry_reading import RegistryDatabase

UNREADABLE_COLUMNS = ["source_line", "column", "value", "expected"]
DAMAGED_COLUMNS = ["source_line", "column", "detail"]
CLOCK_SLACK = pd.Timedelta(days=1)  # an extraction "tomorrow" is a time zone, not an error


@dataclass(frozen=True)
class LoadedTable:
    """One table of a drop: the cells as read and the typed frame.

    ``typed`` holds the spec's columns only, indexed like ``raw.cells`` by
    source line. A cell that held a value that could not be read is null in
    ``typed`` and listed in ``unreadable``. A cell too large or holding NUL
    bytes is listed in ``damaged`` (its row is quarantined).
    """

    spec: Table
    raw: RawTable
    typed: pd.DataFrame
    unreadable: pd.DataFrame
    extra_columns: tuple[str, ...] = ()
    damaged: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=DAMAGED_COLUMNS))

    @property
    def rows_read(self) -> int:
        return len(self.raw.cells) + len(self.raw.malformed)


@dataclass(frozen=True)
class Drop:
    """A loaded drop: a folder, or the tables of a database schema."""

    path: Path | RegistryDatabase
    tables: dict[str, LoadedTable]
    extracted_at: pd.Timestamp
    extracted_at_source: str
    missing_optional: tuple[str, ...] = field(default=())


def load_drop(path: Path | str) -> Drop:
    """Read every table of a drop folder.

    Raises
    ------
    DropFormatError
        When the folder, a required table or a column of the spec is missing,
        or a file or the manifest cannot be read.
    """
    drop = Path(path)
    files = drop_files(drop)
    tables = {spec.name: load_table(files[spec.name], spec) for spec in TABLES
              if spec.name in files}  # fmt: skip
    extracted_at, source = _extraction_date(drop, tables)
    missing = tuple(spec.name for spec in TABLES if spec.name not in files)
    return Drop(drop, tables, extracted_at, source, missing)


def drop_files(drop: Path) -> dict[str, Path]:
    """The file of every table the drop delivers, each checked to be a regular file of the drop.

    Raises
    ------
    DropFormatError
        When the folder or a required table is missing, or a table file is
        not a regular file inside the drop.
    """
    if not drop.is_dir():
        raise DropFormatError(f"{drop}: no such drop folder")
    files: dict[str, Path] = {}
    for spec in TABLES:
        file = find_table_file(drop, spec.name)
        if file is not None:
            check_table_file(file, drop)
            files[spec.name] = file
    missing_required = [s.name for s in TABLES if not s.optional and s.name not in files]
    if missing_required:
        names = ", ".join(f"{name}.csv" for name in missing_required)
        raise DropFormatError(f"{drop}: required table(s) missing: {names} (or .parquet / .xlsx)")
    return files


def check_drop(path: Path | str) -> None:
    """What can be checked of a drop without reading its rows: files, headers, manifest.

    A run does this first, so that a drop it cannot read is refused in a
    second, before anything starts.

    Raises
    ------
    DropFormatError
        As ``load_drop`` would for a missing table, a missing column, a file
        that cannot be read or a manifest that is broken or dated in the future.
    """
    drop = Path(path)
    for name, file in drop_files(drop).items():
        _check_columns(file, TABLES_BY_NAME[name], read_header(file))
    if (drop / "manifest.json").exists():
        _extraction_date(drop, {})


def _check_columns(file: Path, spec: Table, present: list[str]) -> None:
    found = set(present)
    missing = [name for name in spec.column_names if name not in found]
    if missing:
        raise DropFormatError(
            f"{file}: missing column(s) {', '.join(missing)} "
            f"(table {spec.name} needs: {', '.join(spec.column_names)})"
        )


def load_table(file: Path, spec: Table) -> LoadedTable:
    """Read and type one table file."""
    raw = read_table_file(file)
    _check_columns(file, spec, list(raw.cells.columns))
    return typed_table(raw, spec)


def typed_table(raw: RawTable, spec: Table) -> LoadedTable:
    """The cells of a table read from a file or a database, typed by the spec."""
    extra = tuple(c for c in raw.cells.columns if c not in spec.column_names)
    typed_columns, unreadable = {}, []
    for column in spec.columns:
        typed, bad = parse_column(raw.cells[column.name], column)
        typed_columns[column.name] = typed
        if bad.any():
            unreadable.append(
                pd.DataFrame(
                    {
                        "source_line": raw.cells.index[bad.to_numpy()],
                        "column": column.name,
                        "value": raw.cells.loc[bad, column.name].astype(str).to_numpy(),
                        "expected": describe_expected(column.kind),
                    }
                )
            )
    typed_frame = pd.DataFrame(typed_columns, index=raw.cells.index)
    unreadable_frame = (
        pd.concat(unreadable, ignore_index=True)
        if unreadable
        else pd.DataFrame(columns=UNREADABLE_COLUMNS)
    )
    damaged = damaged_cells(raw.cells[list(spec.column_names)])
    return LoadedTable(spec, raw, typed_frame, unreadable_frame, extra, damaged)


def _extraction_date(drop: Path, tables: dict[str, LoadedTable]) -> tuple[pd.Timestamp, str]:
    """The manifest's extraction time, else the latest entry not in the future, else now.

    A manifest dated in the future is an error: every check "not after the
    extraction" would pass records from the future."""
    manifest = drop / "manifest.json"
    now = pd.Timestamp.now().floor("s")
    if manifest.exists():
        check_table_file(manifest, drop)
        extracted = _manifest_extraction_date(manifest)
        if extracted > now + CLOCK_SLACK:
            raise DropFormatError(
                f"{manifest}: extracted_at {extracted.isoformat()} is in the future "
                f"(this machine's clock says {now.isoformat()})"
            )
        return extracted, "manifest.json"
    latest: pd.Timestamp | None = None
    where = ""
    for table in tables.values():
        for column in table.spec.columns:
            if column.name != "recorded_at" or table.typed.empty:
                continue
            entries = table.typed[column.name]
            entries = entries[entries <= now + CLOCK_SLACK]
            if entries.empty:
                continue
            value = entries.max()
            if pd.notna(value) and (latest is None or value > latest):
                latest = value
                line = entries.idxmax()
                where = f"latest recorded_at, {table.raw.where(line)}"
    if latest is None:
        return now, "time of loading (no manifest.json and no recorded_at in the drop)"
    return pd.Timestamp(latest), where


def _manifest_extraction_date(manifest: Path) -> pd.Timestamp:
    try:
        content = json.loads(manifest.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        raise DropFormatError(f"{manifest}: not valid JSON: {error}") from error
    value = content.get("extracted_at") if isinstance(content, dict) else None
    if value is None:
        raise DropFormatError(f"{manifest}: has no 'extracted_at'")
    parsed, bad = parse_column(pd.Series([str(value)]), Column("extracted_at", Kind.TIMESTAMP))
    if bad.iloc[0] or pd.isna(parsed.iloc[0]):
        raise DropFormatError(
            f"{manifest}: extracted_at {value!r} is not {describe_expected(Kind.TIMESTAMP)}"
        )
    return pd.Timestamp(parsed.iloc[0])
