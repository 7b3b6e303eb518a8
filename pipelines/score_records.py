"""Flow: score the accepted records of a validated run (rules, outliers, cases)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from anomaly.case_outputs import write_scored
from anomaly.rulebook import load_rulebook
from anomaly.run_folder import read_snapshot
from anomaly.scoring import score


@task(retries=1, retry_delay_seconds=10)
def score_run(out: Path, rules: Path | None) -> dict[str, Any]:
    """Read out/accepted/*.parquet, score, write cases and flags; return counts."""
    scored = score(read_snapshot(out, load_rulebook(rules)))
    write_scored(scored, out)
    return {
        "findings": len(scored.flags),
        "cases": len(scored.cases),
        "watchlist": len(scored.watchlist),
        "rules_not_run": int(scored.rule_summary["status"].ne("ran").sum()),
    }


@flow(name="score")
def score_flow(out: Path, rules: Path | None = None) -> dict[str, Any]:
    counts = score_run(Path(out), Path(rules) if rules else None)
    get_run_logger().info(
        "%s findings, %s cases, %s on the watch list", counts["findings"], counts["cases"],
        counts["watchlist"],
    )  # fmt: skip
    return counts
