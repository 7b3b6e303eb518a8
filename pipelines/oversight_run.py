"""The top-level flow: ingest, validate, score, report. Run locally without a server::

    python -m pipelines.oversight_run DROP OUT

or serve the deployments of ``prefect.yaml``. ``anomaly run`` calls the same flow.

A run is atomic. Everything is written into a staging folder beside OUT,
which replaces OUT only when complete; the case store is written last, in
one transaction. Killed at any moment, a run leaves OUT and the store as
they were before it or as they are after it, and running it again gives the
same files, byte for byte.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from prefect import flow

from anomaly.contracts.suites import load_contracts
from anomaly.ingest.registry_source import check_source
from anomaly.known_failures import OutputError, run_as_script
from anomaly.office.files import private_umask
from anomaly.rulebook import load_rulebook
from anomaly.runs.folder import latest_drop, staged_run
from pipelines.ingest import ingest_flow
from pipelines.report_run import (
    checked_key,
    commit_store,
    publish_summary,
    report_flow,
    run_summary_markdown,
)
from pipelines.run_settings import RunSettings
from pipelines.score_records import dask_runner, score_flow, score_partitioned_flow
from pipelines.validate_drop import validate_drop_flow


def preflight(settings: RunSettings) -> None:
    """Refuse at once what would fail later: the drop's files and headers, rules, contracts, key.

    Reads no rows, so a broken drop, rule book, contract folder, key or
    store is reported in about a second, before any work is done."""
    check_source(latest_drop(settings.drop))
    load_rulebook(settings.rules)
    load_contracts(settings.contracts)
    with private_umask():
        _check_writable(settings.out.parent)
        checked_key(settings)


def _check_writable(folder: Path) -> None:
    """The folder that will hold the run folder exists (or is made) and can be written."""
    for above in (folder, *folder.parents):
        if above.exists():
            if not above.is_dir():
                raise OutputError(f"{above}: not a folder, the run folder cannot go inside it")
            break
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"{folder}: cannot write the run folder here (permission denied)")


@flow(name="oversight-run")
def oversight_run(settings: RunSettings) -> dict[str, Any]:
    """Process one drop end to end; return the counts and where the report is."""
    settings = settings.for_the_day()
    with private_umask():
        preflight(settings)
        drop = ingest_flow(settings.drop)
        run_id = f"{settings.day.isoformat()}-{drop.name}"
        with staged_run(settings.out) as staging:
            work = settings.model_copy(update={"out": staging})  # store and key fixed by the day
            summary = validate_drop_flow(drop, work.out, work.contracts)
            scoring = _score(work, run_id)
            report = report_flow(work, run_id)
        commit_store(settings, report.pop("plan"))  # last: the folder is in place
    publish_summary(run_summary_markdown(run_id, summary, scoring, report))
    report["report"] = str(settings.out / report["report"])
    return {"run_id": run_id, "drop": str(drop), **scoring, **report}


def _score(settings: RunSettings, run_id: str) -> dict[str, Any]:
    """Score the staged run, ranked with what the store's verdicts (and the feedback) taught."""
    store, feedback = settings.store_path, settings.feedback
    if settings.partitions > 1:
        runner = dask_runner(settings.dask_address, settings.dask_workers)
        return score_partitioned_flow.with_options(task_runner=runner)(
            settings.out, settings.rules, settings.partitions, store, feedback, run_id
        )
    return score_flow(settings.out, settings.rules, store, feedback, run_id)


if __name__ == "__main__":
    run_as_script(lambda: oversight_run(RunSettings(drop=Path(sys.argv[1]), out=Path(sys.argv[2]))))
