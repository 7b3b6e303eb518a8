"""Time scoring (rules, statistical detectors, cases) on a synthetic drop; print the figures.

    python benchmarks/score_drop.py --scale national --seed 2026 --out benchmarks/results

Generates the world if its drop is not already in OUT, loads it, validates
it, then scores the accepted rows and evaluates the cases against the truth.
Prints wall and CPU seconds per stage, peak resident memory and the
evaluation table, and appends the figures to OUT/score_drop.csv.
Target (issue 4): scoring a national drop in under 60 seconds on 2 cores.
"""

from __future__ import annotations

import argparse
import csv
import resource
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="national")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()

    from anomaly.contracts import load_contracts
    from anomaly.evaluation import evaluate
    from anomaly.records import load_drop
    from anomaly.registry_snapshot import Snapshot, quarantined_subjects
    from anomaly.rulebook import load_rulebook
    from anomaly.scoring import score
    from anomaly.synthetic.drop_writing import write_world
    from anomaly.synthetic.scheme_registry import build_world

    drop = args.out / f"{args.scale}_{args.seed}_drop"
    labels = args.out / f"{args.scale}_{args.seed}_labels.csv"
    if not (drop / "visit_logs.csv").exists():
        write_world(build_world(args.scale, args.seed), drop, labels)
    figures = {"scale": args.scale, "seed": args.seed}
    stage = Stage(figures)
    with stage("load"):
        loaded = load_drop(drop)
    from anomaly.validation import validate_drop

    with stage("validate"):
        result = validate_drop(loaded, load_contracts())
    with stage("score"):
        snapshot = Snapshot.of(
            result.accepted,
            load_rulebook(),
            loaded.extracted_at,
            loaded.missing_optional,
            result.nulled_cells,
            quarantined_subjects(result.quarantine),
        )
        scored = score(snapshot)
    import pandas as pd

    evaluation = evaluate(scored.cases, pd.read_csv(labels, dtype=str), scored.flags)
    figures.update(
        rows=sum(o.rows_read for o in result.tables.values()),
        findings=len(scored.flags),
        cases=len(scored.cases),
        recall_top_k=round(float(evaluation.table["recall_top_k"].iloc[-1]), 3),
        precision_at_k=round(evaluation.precision_at_k, 3),
        hard_negatives_flagged=f"{evaluation.hard_negatives_flagged}/{evaluation.hard_negatives}",
        peak_rss_gb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    )
    print(evaluation.text())
    for key, value in figures.items():
        print(f"{key:>24}: {value}")
    target = "met" if figures["score_wall_s"] < 60 else "MISSED"
    print(f"Scoring target (< 60 s at national scale): {target}")
    path = args.out / "score_drop.csv"
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(figures))
        if new:
            writer.writeheader()
        writer.writerow(figures)


class Stage:
    """Context manager factory recording wall and CPU seconds of a named stage."""

    def __init__(self, figures: dict) -> None:
        self.figures = figures

    def __call__(self, name: str) -> Stage:
        self.name = name
        return self

    def __enter__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def __exit__(self, *exc: object) -> None:
        self.figures[f"{self.name}_wall_s"] = round(time.perf_counter() - self.wall, 1)
        self.figures[f"{self.name}_cpu_s"] = round(time.process_time() - self.cpu, 1)


if __name__ == "__main__":
    main()
