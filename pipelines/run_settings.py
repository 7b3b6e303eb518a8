"""The typed parameters of the oversight flows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from anomaly.database.connection import DatabaseURL, is_database_url
from anomaly.database.registry_reading import RegistryDatabase
from anomaly.ingest.registry_source import DEFAULT_SCHEMA
from anomaly.office.key import key_location


class RunSettings(BaseModel):
    """Where a run reads and writes, and with which rules.

    ``drop`` is one drop folder or a folder of drops (the newest is taken), or
    a database schema: a ``postgresql://USER@HOST:PORT/DB`` URL, read in the
    schema ``db_schema``. A URL here holds no password (``PGPASSWORD`` or
    ``~/.pgpass`` give it): flow parameters are kept by the Prefect server.
    ``out`` may hold ``{day}``, the run's date (``runs/nightly/{day}``): a
    scheduled deployment then writes each run to its own folder and keeps
    yesterday's report. The case store and the pseudonymisation key live
    beside the run folders unless given: they are kept across runs.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    drop: Path | RegistryDatabase
    db_schema: str = DEFAULT_SCHEMA
    out: Path
    rules: Path | None = None
    contracts: Path | None = None
    run_date: dt.date | None = None
    store: Path | DatabaseURL | None = None
    key: Path | None = None
    feedback: Path | None = None
    partitions: int = Field(default=1, ge=1)  # > 1: per-convict rules on a Dask cluster
    dask_address: str | None = None  # an existing scheduler; else a local cluster
    dask_workers: int = Field(default=2, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _database_url(cls, data: object) -> object:
        """A ``postgresql://`` text as a database source (a path would collapse its ``//``)."""
        if isinstance(data, dict) and is_database_url(data.get("drop")):
            schema = data.get("db_schema") or DEFAULT_SCHEMA
            data = {**data, "drop": RegistryDatabase(DatabaseURL(str(data["drop"])), schema)}
        if isinstance(data, dict) and is_database_url(data.get("store")):
            data = {**data, "store": DatabaseURL(str(data["store"]))}
        return data

    @property
    def day(self) -> dt.date:
        return self.run_date or dt.date.today()

    def for_the_day(self) -> RunSettings:
        """These settings with the day fixed and ``{day}`` in ``out`` replaced by it.

        A flow calls this when it starts, so that a deployment's parameters keep
        the template and every run resolves its own date."""
        day = self.day
        out = Path(str(self.out).replace("{day}", day.isoformat()))
        # the store and the key stay beside the dated folders, shared by every night
        return self.model_copy(
            update={"run_date": day, "out": out, "store": self.store_path, "key": self.key_path}
        )

    @property
    def store_path(self) -> Path | DatabaseURL:
        """The DuckDB file (case_store.duckdb beside the run folders), or a PostgreSQL store."""
        return self.store or self.out.parent / "case_store.duckdb"

    @property
    def key_path(self) -> Path:
        """``key``, else ``ANOMALY_KEY_FILE``, else pseudonym.key beside the store (beside the
        run folders, for a PostgreSQL store)."""
        store = self.store_path
        return key_location(
            self.key, self.out.parent if isinstance(store, DatabaseURL) else store.parent
        )
