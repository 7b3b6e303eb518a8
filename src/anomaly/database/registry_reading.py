"""Read a registry where it lives: the tables of the record spec from a PostgreSQL schema.

Every table is read in one transaction, ``REPEATABLE READ, READ ONLY``: the
tables agree with each other as of one moment, and the pipeline cannot write
to the source even by mistake (the role it connects with should also be
allowed nothing but ``SELECT``; ``docs/postgresql.md``). Rows come through
Arrow (ADBC's PostgreSQL driver streams them with ``COPY ... BINARY``), batch
by batch, so no table is held twice in memory.

Each table is read in primary-key order (then by its other columns, so that
the order is the same on every run); a row's source line is its number in
that order and its primary key (``visit_id=V17``) is what the quarantine and
the messages name. Identifiers, texts and codes are read as text whatever
their database type (an integer id reads as a CSV would give it); dates,
timestamps, numbers and booleans keep their types. A time zone
(``timestamptz``) is read as the wall-clock time of the session.

The extraction time is ``extracted_at`` of a one-row ``manifest`` table when
the schema has one, else the time the transaction's snapshot was taken.
From there the rows go through the same contracts, quarantine and scoring as
a drop's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from anomaly.database.connection import DatabaseError, DatabaseURL, connect_arrow, server_said
from anomaly.ingest.cell_parsing import STRING
from anomaly.ingest.drop_loading import CLOCK_SLACK, Drop, LoadedTable, typed_table
from anomaly.ingest.drop_reading import MALFORMED_COLUMNS, DropFormatError, RawTable
from anomaly.ingest.record_schema import TABLES, Kind, Table

AS_TEXT = (Kind.ID, Kind.TEXT, Kind.ENUM)
MANIFEST_TABLE = "manifest"


@dataclass(frozen=True)
class RegistryDatabase:
    """The registry's tables in one schema of a PostgreSQL database."""

    url: DatabaseURL
    schema: str = "registry"

    def __str__(self) -> str:
        return f"{self.url} (schema {self.schema})"

    @property
    def name(self) -> str:
        """A short name for run ids: ``DB.SCHEMA``."""
        return f"{self.url.database}.{self.schema}"


def quoted(name: str) -> str:
    """An SQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def check_database(source: RegistryDatabase) -> None:
    """What can be checked without reading rows: the schema, its tables and their columns.

    Raises
    ------
    DropFormatError
        When the schema, a required table or a column of the spec is missing.
    DatabaseError
        When the database cannot be reached.
    """
    with _snapshot(source) as cursor:
        _present_tables(cursor, source)


def load_database(source: RegistryDatabase) -> Drop:
    """Every table of the spec from the schema, read in one read-only snapshot."""
    with _snapshot(source) as cursor:
        present = _present_tables(cursor, source)
        tables = {
            spec.name: _load_table(cursor, source, spec, present[spec.name])
            for spec in TABLES
            if spec.name in present
        }
        extracted_at, where = _extraction_time(cursor, source, set(present))
    missing = tuple(spec.name for spec in TABLES if spec.name not in present)
    return Drop(source, tables, extracted_at, where, missing)  # type: ignore[arg-type]


class _snapshot:
    """A cursor inside a REPEATABLE READ, READ ONLY transaction, rolled back at the end."""

    def __init__(self, source: RegistryDatabase) -> None:
        self.source = source

    def __enter__(self):
        self.connection = connect_arrow(self.source.url)
        self.cursor = self.connection.cursor()
        self.cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return self.cursor

    def __exit__(self, *exc: object) -> None:
        for close in (self.cursor.close, self.connection.rollback, self.connection.close):
            try:
                close()
            except Exception:  # closing a connection the server already dropped
                pass


def _query(cursor, sql: str, parameters: tuple = ()) -> pa.Table:
    try:
        cursor.execute(sql, parameters=parameters or None)
        return cursor.fetch_arrow_table()
    except DatabaseError:
        raise
    except Exception as error:
        raise DatabaseError(f"cannot read the registry: {server_said(error)}") from error


def _present_tables(cursor, source: RegistryDatabase) -> dict[str, set[str]]:
    """The spec's tables found in the schema, with their columns; missing ones refused."""
    columns = _query(
        cursor,
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = $1",
        (source.schema,),
    ).to_pandas()
    if columns.empty:
        raise DropFormatError(
            f"{source}: no such schema, or no table in it that this role can read"
        )
    found = columns.groupby("table_name")["column_name"].agg(set).to_dict()
    missing = [s.name for s in TABLES if not s.optional and s.name not in found]
    if missing:
        raise DropFormatError(f"{source}: required table(s) missing: {', '.join(missing)}")
    for spec in TABLES:
        lacking = [c for c in spec.column_names if spec.name in found and c not in found[spec.name]]
        if lacking:
            raise DropFormatError(
                f"{source}, table {spec.name}: missing column(s) {', '.join(lacking)} "
                f"(table {spec.name} needs: {', '.join(spec.column_names)})"
            )
    return {s.name: found[s.name] for s in TABLES if s.name in found}


def table_query(source: RegistryDatabase, spec: Table) -> str:
    """The SELECT of one table: the spec's columns, ids and texts as text, in key order."""
    selected = ", ".join(
        f"CAST({quoted(c.name)} AS text) AS {quoted(c.name)}" if c.kind in AS_TEXT
        else quoted(c.name)
        for c in spec.columns
    )  # fmt: skip
    order = [*spec.key, *(c for c in spec.column_names if c not in spec.key)]
    return (
        f"SELECT {selected} FROM {quoted(source.schema)}.{quoted(spec.name)} "
        f"ORDER BY {', '.join(quoted(c) for c in order)}"
    )


def _load_table(cursor, source: RegistryDatabase, spec: Table, columns: set[str]) -> LoadedTable:
    try:
        cursor.execute(table_query(source, spec))
        frames = list(_frames(cursor.fetch_record_batch()))
    except Exception as error:
        raise DatabaseError(
            f"{source}, table {spec.name}: cannot be read: {server_said(error)}"
        ) from error
    cells = pd.concat(frames, ignore_index=True) if frames else _empty(spec)
    cells.index = pd.RangeIndex(1, len(cells) + 1, name="source_line")
    keys = _row_keys(cells, spec)
    path = Path(f"{source.schema}.{spec.name}")
    raw = RawTable(path, cells, pd.DataFrame(columns=MALFORMED_COLUMNS), keys=keys)
    return typed_table(raw, spec)


def _frames(batches) -> Iterator[pd.DataFrame]:
    """Each Arrow batch as a frame, with nullable types (so an integer column stays integer)."""
    for batch in batches:
        yield pa.Table.from_batches([_plain(batch)]).to_pandas(types_mapper=_pandas_type)


def _plain(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Decimals as doubles (``numeric`` columns), the only type pandas would leave as objects."""
    columns = [
        column.cast(pa.float64()) if pa.types.is_decimal(column.type) else column
        for column in batch.columns
    ]
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def _pandas_type(arrow_type: pa.DataType):
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return STRING
    if pa.types.is_integer(arrow_type):
        return pd.Int64Dtype()
    if pa.types.is_boolean(arrow_type):
        return pd.BooleanDtype()
    if pa.types.is_floating(arrow_type):
        return pd.Float64Dtype()
    return None


def _empty(spec: Table) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series(dtype=STRING) for name in spec.column_names})


def _row_keys(cells: pd.DataFrame, spec: Table) -> pd.Series:
    """Each row's primary key as a person would look it up: ``convict_id=C1, person_id=P4``."""
    parts = [name + "=" + cells[name].astype(STRING).fillna("NULL") for name in spec.key]
    keys = parts[0]
    for part in parts[1:]:
        keys = keys + ", " + part
    return keys.astype(object)


def _extraction_time(
    cursor, source: RegistryDatabase, present: set[str]
) -> tuple[pd.Timestamp, str]:
    """``manifest.extracted_at`` if the schema has it, else the snapshot's time."""
    snapshot = pd.Timestamp(_query(cursor, "SELECT localtimestamp AS t").column(0)[0].as_py())
    snapshot = snapshot.floor("s")
    manifest = _manifest_columns(cursor, source, present)
    if not manifest:
        return snapshot, f"the transaction snapshot of {source}"
    values = _query(
        cursor,
        f"SELECT CAST(extracted_at AS timestamp) FROM {quoted(source.schema)}.{MANIFEST_TABLE}",
    ).column(0)
    if len(values) != 1 or values[0].as_py() is None:
        raise DropFormatError(
            f"{source}, table {MANIFEST_TABLE}: must hold one row with extracted_at, "
            f"holds {len(values)}"
        )
    extracted = pd.Timestamp(values[0].as_py()).floor("s")
    if extracted > snapshot + CLOCK_SLACK:
        raise DropFormatError(
            f"{source}, table {MANIFEST_TABLE}: extracted_at {extracted.isoformat()} is after "
            f"the server's clock ({snapshot.isoformat()})"
        )
    return extracted, f"{source.schema}.{MANIFEST_TABLE}"


def _manifest_columns(cursor, source: RegistryDatabase, present: set[str]) -> bool:
    names = _query(
        cursor,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = $1 AND table_name = $2",
        (source.schema, MANIFEST_TABLE),
    ).column(0)
    return "extracted_at" in names.to_pylist()
