"""The case store in PostgreSQL, for a team: many analysts and runs at once, nothing lost.

``CaseStore`` speaks one small dialect of SQL that DuckDB and PostgreSQL both
read (``?`` parameters, window functions, ``ON CONFLICT``). This module gives
a PostgreSQL connection the few calls the store makes of a DuckDB one:
``execute(...)`` with ``.df()``, ``.fetchone()`` and ``.fetchall()`` on the
result, and ``register``/``unregister`` of a frame as a table (a temporary
table filled by ``COPY``).

Every write is a transaction. Verdicts only insert rows, so analysts never
overwrite each other; the commit of a run takes a transaction-scoped advisory
lock, so two runs recording at once are written one after the other. The
schema is created and migrated by Alembic (``cases/store_revisions``), under
a session advisory lock, so two processes opening a new store at once do not
both create it.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from anomaly.database.connection import (
    DatabaseError,
    DatabaseURL,
    connect_rows,
    connection_string,
    server_said,
)

MIGRATION_LOCK = 7_240_117  # advisory lock keys of this store (any constant both sides share)
RUN_COMMIT_LOCK = 7_240_118
DATE_OIDS = {1082: "date", 1114: "timestamp", 1184: "timestamptz"}
NUMBER_OIDS = {20, 21, 23, 700, 701, 1700}
SQL_OF_DTYPE = (
    (pd.api.types.is_bool_dtype, "boolean"),
    (pd.api.types.is_integer_dtype, "bigint"),
    (pd.api.types.is_float_dtype, "double precision"),
    (pd.api.types.is_datetime64_any_dtype, "timestamp"),
)


class PostgresResult:
    """What a query gave, read the ways the store reads a DuckDB result."""

    def __init__(self, columns: list[str], oids: list[int], rows: list[tuple]) -> None:
        self.columns, self.oids, self.rows = columns, oids, rows

    def fetchone(self) -> tuple | None:
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list[tuple]:
        return self.rows

    def df(self) -> pd.DataFrame:
        frame = pd.DataFrame(self.rows, columns=self.columns)
        for name, oid in zip(self.columns, self.oids, strict=True):
            if oid in DATE_OIDS:
                frame[name] = pd.to_datetime(frame[name], utc=oid == 1184)
            elif oid in NUMBER_OIDS and not frame.empty:
                frame[name] = pd.to_numeric(frame[name])
        return frame


class PostgresStoreDatabase:
    """A PostgreSQL connection that answers as the store's DuckDB connection does."""

    insertion_order = "verdict_seq"  # DuckDB's is rowid

    def __init__(self, url: DatabaseURL) -> None:
        self.url = url
        self.connection = connect_rows(url)
        migrate_to_head(self)

    def execute(self, sql: str, parameters: list | tuple | None = None) -> PostgresResult:
        """Run one statement (``?`` parameters) and keep what it returned."""
        import psycopg

        try:
            with self.connection.cursor() as cursor:
                cursor.execute(sql.replace("?", "%s"), parameters or None)
                if cursor.description is None:
                    return PostgresResult([], [], [])
                names = [d.name for d in cursor.description]
                oids = [d.type_code for d in cursor.description]
                return PostgresResult(names, oids, cursor.fetchall())
        except psycopg.Error as error:
            raise DatabaseError(
                f"{self.url}: the case store refused: {server_said(error)}"
            ) from error

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """``frame`` as the temporary table ``name`` of this session, until ``unregister``."""
        columns = [str(c) for c in frame.columns]
        types = [_sql_type(frame[c]) for c in frame.columns]
        declared = ", ".join(f'"{c}" {t}' for c, t in zip(columns, types, strict=True))
        self.execute(f'CREATE TEMPORARY TABLE "{name}" ({declared})')
        listed = ", ".join(f'"{c}"' for c in columns)
        values = [_python_values(frame[c], t) for c, t in zip(frame.columns, types, strict=True)]
        with self.connection.cursor() as cursor:
            with cursor.copy(f'COPY "{name}" ({listed}) FROM STDIN') as copy:
                for row in zip(*values, strict=True):
                    copy.write_row(row)

    def unregister(self, name: str) -> None:
        self.execute(f'DROP TABLE IF EXISTS "{name}"')

    def lock_for_run_commit(self) -> None:
        """Inside a transaction: wait until no other run is being written, hold until commit."""
        self.execute("SELECT pg_advisory_xact_lock(?)", [RUN_COMMIT_LOCK])

    def close(self) -> None:
        self.connection.close()


def _sql_type(values: pd.Series) -> str:
    for test, sql in SQL_OF_DTYPE:
        if test(values.dtype):
            return sql
    return "text"


def _python_values(values: pd.Series, sql: str) -> list[Any]:
    """A column as plain Python values for COPY (None for every kind of missing)."""
    if sql == "timestamp":
        return [None if pd.isna(v) else pd.Timestamp(v).to_pydatetime() for v in values]
    out: list[Any] = []
    for value in values.tolist():
        if value is None or value is pd.NA or value is pd.NaT:
            out.append(None)
        elif isinstance(value, float) and math.isnan(value):
            out.append(None)
        else:
            out.append(str(value) if sql == "text" else value)
    return out


def migrate_to_head(store: PostgresStoreDatabase) -> None:
    """Create or migrate the store's schema with Alembic, one process at a time."""
    import psycopg
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from anomaly.cases import store_revisions

    engine = create_engine(
        "postgresql+psycopg://",
        creator=lambda: psycopg.connect(connection_string(store.url)),
        poolclass=NullPool,
    )
    config = Config()
    config.set_main_option("script_location", store_revisions.__path__[0])
    try:
        with engine.begin() as connection:
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except Exception as error:
        raise DatabaseError(
            f"{store.url}: cannot create or migrate the case store: {server_said(error)}"
        ) from error
    finally:
        engine.dispose()
