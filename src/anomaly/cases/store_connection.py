"""Opening the case store: one process at a time, the others wait, then are told why.

DuckDB lets one process hold a file. Another that opens it waits up to
``ANOMALY_STORE_WAIT`` seconds (30 by default), then gets a ``StoreBusyError``
naming the holder, instead of a lock error.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import duckdb

from anomaly.known_failures import KnownFailure, StoreBusyError

WAIT_ENV = "ANOMALY_STORE_WAIT"
DEFAULT_WAIT_SECONDS = 30.0


def _wait_seconds(given: float | None) -> float:
    if given is not None:
        return given
    try:
        return float(os.environ.get(WAIT_ENV, DEFAULT_WAIT_SECONDS))
    except ValueError:
        return DEFAULT_WAIT_SECONDS


def connect_waiting(path: Path, wait: float | None = None) -> duckdb.DuckDBPyConnection:
    """Open the store, waiting while another process holds it (``wait`` s, or the default)."""
    wait_seconds = _wait_seconds(wait)

    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as error:
            if "lock" not in str(error).lower():
                raise KnownFailure(f"{path}: cannot open the case store: {error}") from error
            if time.monotonic() >= deadline:
                holder = re.search(r"PID (\d+)", str(error))
                by = f" (process {holder.group(1)})" if holder else ""
                raise StoreBusyError(
                    f"{path}: the case store is in use by another process{by}; waited "
                    f"{wait_seconds:g} s. Try again when it is done, or wait longer with "
                    f"{WAIT_ENV}=SECONDS"
                ) from error
            time.sleep(0.25)
        except duckdb.Error as error:
            raise KnownFailure(f"{path}: cannot open the case store: {error}") from error
