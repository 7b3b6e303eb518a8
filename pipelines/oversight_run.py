"""The top-level flow: ingest, validate, score, report. Run locally without a server::

    python -m pipelines.oversight_run DROP OUT

or serve the deployments of ``prefect.yaml``. ``anomaly run`` calls the same flow.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from prefect import flow

from pipelines.ingest import ingest_flow
from pipelines.report_run import publish_summary, report_flow, run_summary_markdown
from pipelines.run_settings import RunSettings
from pipelines.score_records import dask_runner, score_flow, score_partitioned_flow
from pipelines.validate_drop import validate_drop_flow


@flow(name="oversight-run")
def oversight_run(settings: RunSettings) -> dict[str, Any]:
    """Process one drop end to end; return the counts and where the report is."""
    drop = ingest_flow(settings.drop)
    run_id = f"{settings.day.isoformat()}-{drop.name}"
    summary = validate_drop_flow(drop, settings.out, settings.contracts)
    if settings.partitions > 1:
        runner = dask_runner(settings.dask_address, settings.dask_workers)
        scoring = score_partitioned_flow.with_options(task_runner=runner)(
            settings.out, settings.rules, settings.partitions
        )
    else:
        scoring = score_flow(settings.out, settings.rules)
    report = report_flow(settings, run_id)
    publish_summary(run_summary_markdown(run_id, summary, scoring, report))
    return {"run_id": run_id, "drop": str(drop), **scoring, **report}


if __name__ == "__main__":
    print(oversight_run(RunSettings(drop=Path(sys.argv[1]), out=Path(sys.argv[2]))))
