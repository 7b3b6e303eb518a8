"""Flow: score the accepted records of a validated run (rules, outliers, cases).

With ``partitions`` > 1 the per-convict rules run on partitions of convicts
(``anomaly.scoring.partitions``) as Prefect tasks on a Dask cluster: the one
at ``dask_address``, or a local cluster of ``dask_workers`` processes. The
result is the same as in one process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from anomaly.cases.outputs import write_scored
from anomaly.known_failures import retry_transient_only
from anomaly.rulebook import load_rulebook
from anomaly.runs.catalogue import RunFiles
from anomaly.runs.folder import read_snapshot
from anomaly.runs.stages import score_into
from anomaly.scoring.case_scoring import Scored
from anomaly.scoring.rule_engine import RuleRun


@task(retries=1, retry_delay_seconds=10, retry_condition_fn=retry_transient_only)
def score_run(out: Path, rules: Path | None) -> dict[str, Any]:
    """Read out/accepted/*.parquet, score, write cases and flags; return counts."""
    return _counts(score_into(out, rules))


@task(retries=1, retry_delay_seconds=10, retry_condition_fn=retry_transient_only)
def score_partition_task(
    out: Path, rules: Path | None, regions: list[str], stays_file: Path
) -> RuleRun:
    """Per-convict rules for the convicts of ``regions`` (read from Parquet on the worker)."""
    import pandas as pd

    from anomaly.scoring.partitions import partition_snapshot, score_partition

    stays = pd.read_parquet(stays_file)
    return score_partition(partition_snapshot(out, load_rulebook(rules), regions, stays))


def _counts(scored: Scored) -> dict[str, Any]:
    return {
        "findings": len(scored.flags),
        "cases": len(scored.cases),
        "watchlist": len(scored.watchlist),
        "rules_not_run": int(scored.rule_summary["status"].ne("ran").sum()),
        "rules_damped": scored.rule_summary.loc[
            scored.rule_summary["damping"].lt(1), "rule"
        ].tolist(),
    }


@flow(name="score")
def score_flow(out: Path, rules: Path | None = None) -> dict[str, Any]:
    counts = score_run(Path(out), Path(rules) if rules else None)
    get_run_logger().info(
        "%s findings, %s cases, %s on the watch list", counts["findings"], counts["cases"],
        counts["watchlist"],
    )  # fmt: skip
    if counts["rules_damped"]:
        get_run_logger().warning(
            "rules firing alike in most institutions, damped for this run (see rule_outcomes.csv):"
            " %s", ", ".join(counts["rules_damped"]),
        )  # fmt: skip
    return counts


@flow(name="score-partitioned")
def score_partitioned_flow(
    out: Path, rules: Path | None = None, partitions: int = 4
) -> dict[str, Any]:
    """Score with the per-convict rules spread over partitions (run it with a Dask task runner)."""
    from anomaly.scoring.partitions import combine, plan_partitions

    out, rulebook = Path(out), load_rulebook(rules)
    whole = read_snapshot(out, rulebook)
    stays_file = RunFiles.of(out).stays  # computed once, read by every partition
    whole.stays.to_parquet(stays_file, index=False)
    plan = plan_partitions(whole["convicts"], partitions)
    futures = [score_partition_task.submit(out, rules, regions, stays_file) for regions in plan]
    scored = combine(whole, [f.result() for f in futures])
    write_scored(scored, out)
    counts = _counts(scored)
    get_run_logger().info("%s partitions; %s findings, %s cases", len(plan), counts["findings"],
                          counts["cases"])  # fmt: skip
    return counts


def dask_runner(address: str | None = None, workers: int = 2):
    """Prefect's Dask task runner: an existing scheduler, or a local cluster of processes."""
    from prefect_dask import DaskTaskRunner

    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1,
                                          "processes": True})  # fmt: skip
