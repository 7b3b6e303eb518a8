"""Flow: check a registry drop against the data contracts and write the quarantine.

Run locally without a server::

    python -m pipelines.validate_drop examples/tiny_drop out/validation

or serve the deployment declared in ``prefect.yaml``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from anomaly.contracts.validation_outputs import summary_text
from anomaly.ingest.registry_source import RegistrySource, source_of
from anomaly.known_failures import retry_transient_only, run_as_script
from anomaly.runs.stages import validate_into


@task(retries=2, retry_delay_seconds=10, retry_condition_fn=retry_transient_only)
def check_drop(drop: RegistrySource, out: Path, contracts: Path | None) -> dict[str, Any]:
    """Load, validate and write; return the run summary (counts only, no personal data)."""
    return validate_into(drop, out, contracts)


@flow(name="validate-drop", log_prints=False)
def validate_drop_flow(
    drop: str | RegistrySource, out: Path, contracts: Path | None = None
) -> dict[str, Any]:
    """Validate one drop; publish the counts as a markdown artifact."""
    summary = check_drop(source_of(drop), Path(out), Path(contracts) if contracts else None)
    totals = summary["totals"]
    get_run_logger().info(
        "read %s rows, accepted %s, quarantined %s",
        totals["rows_read"],
        totals["accepted"],
        totals["quarantined"],
    )
    create_markdown_artifact(
        key="validation-summary",
        markdown="```\n" + summary_text(summary) + "```",
        description="Rows read, accepted and quarantined per table",
    )
    return summary


if __name__ == "__main__":
    run_as_script(lambda: validate_drop_flow(Path(sys.argv[1]), Path(sys.argv[2]))["totals"])
