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
from anomaly.database.connection import DatabaseURL
from anomaly.known_failures import retry_transient_only
from anomaly.rulebook import load_rulebook
from anomaly.runs.catalogue import RunFiles
from anomaly.runs.folder import read_snapshot
from anomaly.runs.stages import score_into
from anomaly.scoring.case_scoring import Scored
from anomaly.scoring.rule_engine import RuleRun
from anomaly.scoring.verdict_learning import VerdictLabels


@task(retries=2, retry_delay_seconds=5, retry_condition_fn=retry_transient_only)
def read_verdicts(
    store: Path | DatabaseURL | None, feedback: Path | None, run_id: str
) -> VerdictLabels | None:
    """What the case store's verdicts, and a feedback file's, teach this run (None: no store)."""
    if store is None:
        return None
    from anomaly.cases.store import CaseStore
    from anomaly.cases.verdicts import read_feedback

    with CaseStore(store) as cases:
        return cases.verdict_labels(run_id, read_feedback(feedback) if feedback else None)


@task(retries=1, retry_delay_seconds=10, retry_condition_fn=retry_transient_only)
def score_run(out: Path, rules: Path | None, verdicts: VerdictLabels | None) -> dict[str, Any]:
    """Read out/accepted/*.parquet, score, write cases and flags; return counts."""
    return _counts(score_into(out, rules, verdicts))


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
        "weights_learned": len(scored.learned),
    }


@flow(name="score")
def score_flow(
    out: Path,
    rules: Path | None = None,
    store: Path | DatabaseURL | None = None,
    feedback: Path | None = None,
    run_id: str = "",
) -> dict[str, Any]:
    """Score a validated run; with a case store, ranked with what its verdicts taught."""
    verdicts = read_verdicts(store, feedback, run_id)
    counts = score_run(Path(out), Path(rules) if rules else None, verdicts)
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
    out: Path,
    rules: Path | None = None,
    partitions: int = 4,
    store: Path | DatabaseURL | None = None,
    feedback: Path | None = None,
    run_id: str = "",
) -> dict[str, Any]:
    """Score with the per-convict rules spread over partitions (run it with a Dask task runner)."""
    from anomaly.scoring.partitions import combine, plan_partitions

    verdicts = read_verdicts(store, feedback, run_id)
    out, rulebook = Path(out), load_rulebook(rules)
    whole = read_snapshot(out, rulebook)
    stays_file = RunFiles.of(out).stays  # computed once, read by every partition
    whole.stays.to_parquet(stays_file, index=False)
    plan = plan_partitions(whole["convicts"], partitions)
    futures = [score_partition_task.submit(out, rules, regions, stays_file) for regions in plan]
    scored = combine(whole, [f.result() for f in futures], verdicts)
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
