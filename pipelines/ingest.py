"""Flow: find the drop to process (one drop, or the newest in a folder of drops)."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task

from anomaly.known_failures import retry_transient_only
from anomaly.runs.folder import latest_drop


@task(retries=3, retry_delay_seconds=20, retry_condition_fn=retry_transient_only)
def find_drop(location: Path) -> Path:
    """The drop folder to read (retried: network shares come and go)."""
    return latest_drop(location)


@flow(name="ingest")
def ingest_flow(location: Path) -> Path:
    drop = find_drop(Path(location))
    get_run_logger().info("drop to process: %s", drop.name)
    return drop
