"""Put a drop into a PostgreSQL schema as typed tables (``anomaly load-db``).

For demonstrations, tests and trying the tool against a database: each table
of the record spec becomes a table of the schema with database types (text,
bigint, double precision, date, timestamp, boolean), the drop's manifest a
one-row ``manifest`` table. A table's key becomes its primary key when the
drop's rows keep it unique. The whole load is one transaction: a failure
leaves the schema as it was.

A typed table cannot hold what a drop can: a date that is no date, a row
with too many fields. Such a drop is refused with every cell named (file,
line, column), never loaded with the cell left out; the pipeline reads the
drop itself and quarantines those rows.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from anomaly.database.connection import DatabaseError, connect_arrow, server_said
from anomaly.database.registry_reading import MANIFEST_TABLE, RegistryDatabase, quoted
from anomaly.ingest.drop_loading import Drop, LoadedTable, load_drop
from anomaly.ingest.record_schema import TABLES, Kind, Table

SQL_TYPES = {
    Kind.ID: "text",
    Kind.TEXT: "text",
    Kind.ENUM: "text",
    Kind.INT: "bigint",
    Kind.FLOAT: "double precision",
    Kind.DATE: "date",
    Kind.TIMESTAMP: "timestamp",
    Kind.BOOL: "boolean",
}
ARROW_TYPES = {
    Kind.ID: pa.string(),
    Kind.TEXT: pa.string(),
    Kind.ENUM: pa.string(),
    Kind.INT: pa.int64(),
    Kind.FLOAT: pa.float64(),
    Kind.DATE: pa.date32(),
    Kind.TIMESTAMP: pa.timestamp("us"),
    Kind.BOOL: pa.bool_(),
}
SHOWN_PROBLEMS = 10


def load_into_database(drop_path: Path, target: RegistryDatabase, replace: bool = False) -> int:
    """Load every table of a drop into ``target``'s schema; return the rows loaded.

    Raises
    ------
    DropFormatError
        When the drop cannot be read at all.
    DatabaseError
        When the drop holds cells no typed table can hold, the schema already
        holds registry tables (and ``replace`` is not given), or the database
        refuses.
    """
    drop = load_drop(drop_path)
    _refuse_untyped(drop)
    connection = connect_arrow(target.url)
    try:
        cursor = connection.cursor()
        _prepare_schema(cursor, target, replace)
        rows = 0
        for loaded in drop.tables.values():
            rows += _load_table(cursor, target, loaded)
        _load_manifest(cursor, target, drop)
        connection.commit()
        return rows
    except DatabaseError:
        connection.rollback()
        raise
    except Exception as error:
        connection.rollback()
        raise DatabaseError(f"{target}: the load failed: {server_said(error)}") from error
    finally:
        connection.close()


def _refuse_untyped(drop: Drop) -> None:
    """Cells and rows that a typed table cannot hold, named one by one."""
    problems = []
    for loaded in drop.tables.values():
        name = loaded.raw.path.name
        for row in loaded.unreadable.itertuples(index=False):
            problems.append(f"{name} line {row.source_line}, column {row.column}: "
                            f"{row.value!r} is not {row.expected}")  # fmt: skip
        for row in loaded.raw.malformed.itertuples(index=False):
            problems.append(f"{name} line {row.source_line}: {row.reason}")
        for row in loaded.damaged.itertuples(index=False):
            problems.append(f"{name} line {row.source_line}, column {row.column}: {row.detail}")
    if problems:
        shown = "\n  ".join(problems[:SHOWN_PROBLEMS])
        more = f"\n  ... and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > 10 else ""
        raise DatabaseError(
            f"{drop.path}: {len(problems)} cell(s) or row(s) cannot go into typed tables "
            f"(run the pipeline on the drop itself to quarantine them):\n  {shown}{more}"
        )


def _prepare_schema(cursor, target: RegistryDatabase, replace: bool) -> None:
    schema = quoted(target.schema)
    cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    cursor.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = $1",
        parameters=(target.schema,),
    )
    present = set(cursor.fetch_arrow_table().column(0).to_pylist())
    ours = present & {*(t.name for t in TABLES), MANIFEST_TABLE}
    if ours and not replace:
        raise DatabaseError(
            f"{target}: the schema already holds {', '.join(sorted(ours))}; "
            "give --replace to load over them"
        )
    for name in sorted(ours):
        cursor.execute(f"DROP TABLE {schema}.{quoted(name)}")


def _load_table(cursor, target: RegistryDatabase, loaded: LoadedTable) -> int:
    spec = loaded.spec
    table = f"{quoted(target.schema)}.{quoted(spec.name)}"
    columns = ", ".join(f"{quoted(c.name)} {SQL_TYPES[c.kind]}" for c in spec.columns)
    cursor.execute(f"CREATE TABLE {table} ({columns})")
    cursor.adbc_ingest(
        spec.name, _arrow(loaded.typed, spec), mode="append", db_schema_name=target.schema
    )
    if _key_holds(loaded.typed, spec):
        cursor.execute(
            f"ALTER TABLE {table} ADD PRIMARY KEY ({', '.join(quoted(k) for k in spec.key)})"
        )
    return len(loaded.typed)


def _arrow(typed: pd.DataFrame, spec: Table) -> pa.Table:
    arrays = []
    for column in spec.columns:
        values = typed[column.name]
        if column.kind == Kind.DATE:
            values = values.dt.date
        arrays.append(pa.array(values, type=ARROW_TYPES[column.kind], from_pandas=True))
    return pa.Table.from_arrays(arrays, names=list(spec.column_names))


def _key_holds(typed: pd.DataFrame, spec: Table) -> bool:
    key = typed[list(spec.key)]
    return bool(key.notna().all(axis=None)) and not key.duplicated().any()


def _load_manifest(cursor, target: RegistryDatabase, drop: Drop) -> None:
    if not str(drop.extracted_at_source).startswith("manifest"):
        return  # no manifest in the drop: the reader takes the snapshot's time
    table = f"{quoted(target.schema)}.{MANIFEST_TABLE}"
    cursor.execute(f"CREATE TABLE {table} (extracted_at timestamp NOT NULL)")
    cursor.execute(
        f"INSERT INTO {table} VALUES (CAST($1 AS timestamp))",
        parameters=(drop.extracted_at.isoformat(),),
    )
