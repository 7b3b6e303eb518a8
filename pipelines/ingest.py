"""Flow: find the drop to process (one drop, or the newest in a folder of drops)."""

from __future__ import annotations

from prefect import flow, get_run_logger, task

from anomaly.ingest.registry_source import RegistrySource
from anomaly.known_failures import retry_transient_only
from anomaly.runs.folder import latest_drop


@task(retries=3, retry_delay_seconds=20, retry_condition_fn=retry_transient_only)
def find_drop(location: RegistrySource) -> RegistrySource:
    """The drop folder (or database schema) to read (retried: network shares come and go)."""
    return latest_drop(location)


@flow(name="ingest")
def ingest_flow(location: RegistrySource) -> RegistrySource:
    drop = find_drop(location)
    get_run_logger().info("drop to process: %s", drop.name)
    return drop
