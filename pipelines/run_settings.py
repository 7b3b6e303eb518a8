"""The typed parameters of the oversight flows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from anomaly.office.key import key_location


class RunSettings(BaseModel):
    """Where a run reads and writes, and with which rules.

    ``drop`` is one drop folder or a folder of drops (the newest is taken).
    ``out`` may hold ``{day}``, the run's date (``runs/nightly/{day}``): a
    scheduled deployment then writes each run to its own folder and keeps
    yesterday's report. The case store and the pseudonymisation key live
    beside the run folders unless given: they are kept across runs.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    drop: Path
    out: Path
    rules: Path | None = None
    contracts: Path | None = None
    run_date: dt.date | None = None
    store: Path | None = None
    key: Path | None = None
    feedback: Path | None = None
    partitions: int = Field(default=1, ge=1)  # > 1: per-convict rules on a Dask cluster
    dask_address: str | None = None  # an existing scheduler; else a local cluster
    dask_workers: int = Field(default=2, ge=1)

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
    def store_path(self) -> Path:
        return self.store or self.out.parent / "case_store.duckdb"

    @property
    def key_path(self) -> Path:
        """``key``, else ``ANOMALY_KEY_FILE``, else pseudonym.key beside the store."""
        return key_location(self.key, self.store_path.parent)
