"""Time scoring and measure quality on synthetic drops of every registry dialect; print the figures.

    python benchmarks/score_drop.py --scale national --seeds 2026 2027 --dialects all

For each dialect and seed: generates the world if its drop is not already in
OUT, loads it, validates it, scores the accepted rows and evaluates the cases
against the truth. Prints wall and CPU seconds per stage, peak resident
memory and, at the end, the quality table (one row per dialect and seed:
macro recall in the top K, precision@K, lawful-but-unusual records flagged),
and appends the figures to OUT/score_drop.csv.
Targets: scoring a national drop in under 60 seconds on 2 cores; on every
dialect, macro recall@K >= 0.95, precision@K >= 0.85, at most 0.5% of the
lawful-but-unusual records flagged.
"""

from __future__ import annotations

import argparse
import csv
import resource
import time
from pathlib import Path

TARGETS = {"macro_recall_top_k": 0.95, "precision_at_k": 0.85}
LAWFUL_FLAGGED_AT_MOST = 0.005


def main() -> None:
    from anomaly.synthetic.registry_dialects import DIALECTS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="national")
    parser.add_argument("--seeds", type=int, nargs="+", default=[2026])
    parser.add_argument("--dialects", nargs="+", default=["all"], help=f"all, or {list(DIALECTS)}")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    dialects = list(DIALECTS) if args.dialects == ["all"] else args.dialects
    table = [measure(args.scale, seed, d, args.out) for d in dialects for seed in args.seeds]
    print(quality_table(table))


def world_drop(scale: str, seed: int, dialect: str, out: Path) -> tuple[Path, Path]:
    """The drop and labels of a synthetic world in OUT, generated if not there yet."""
    from anomaly.synthetic.drop_writing import write_world
    from anomaly.synthetic.scheme_registry import build_world

    drop = out / f"{scale}_{dialect}_{seed}_drop"
    labels = out / f"{scale}_{dialect}_{seed}_labels.csv"
    if not (drop / "manifest.json").exists():
        write_world(build_world(scale, seed, dialect=dialect), drop, labels)
    return drop, labels


def snapshot_of(loaded, result):
    """The snapshot the rules read, from a loaded drop and its validation."""
    from anomaly.registry.snapshot import Snapshot, quarantined_subjects
    from anomaly.rulebook import load_rulebook

    return Snapshot.of(
        result.accepted,
        load_rulebook(),
        loaded.extracted_at,
        loaded.missing_optional,
        result.nulled_cells,
        quarantined_subjects(result.quarantine),
    )


def measure(scale: str, seed: int, dialect: str, out: Path) -> dict:
    import pandas as pd

    from anomaly.contracts.suites import load_contracts
    from anomaly.contracts.validation import validate_drop
    from anomaly.evaluation import evaluate
    from anomaly.ingest.drop_loading import load_drop
    from anomaly.scoring.case_scoring import score

    drop, labels = world_drop(scale, seed, dialect, out)
    figures: dict = {"scale": scale, "dialect": dialect, "seed": seed}
    stage = Stage(figures)
    with stage("load"):
        loaded = load_drop(drop)
    with stage("validate"):
        result = validate_drop(loaded, load_contracts())
    with stage("score"):
        scored = score(snapshot_of(loaded, result))
    evaluation = evaluate(scored.cases, pd.read_csv(labels, dtype=str), scored.flags)
    figures.update(
        rows=sum(o.rows_read for o in result.tables.values()),
        quarantined=sum(len(q) for q in result.quarantine.values()),
        findings=len(scored.flags),
        cases=len(scored.cases),
        macro_recall_top_k=round(evaluation.macro_recall_top_k, 3),
        recall_top_k=round(float(evaluation.table["recall_top_k"].iloc[-1]), 3),
        precision_at_k=round(evaluation.precision_at_k, 3),
        lawful_flagged=f"{evaluation.hard_negatives_flagged}/{evaluation.hard_negatives}",
        lawful_flagged_share=round(evaluation.hard_negative_share, 4),
        damped_rules=";".join(scored.rule_summary.loc[scored.rule_summary["damping"] < 1, "rule"]),
        peak_rss_gb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    )
    print(f"== {scale} / {dialect} / seed {seed}")
    print(evaluation.text())
    for key, value in figures.items():
        print(f"{key:>24}: {value}")
    target = "met" if figures["score_wall_s"] < 60 else "MISSED"
    print(f"Scoring target (< 60 s at national scale): {target}\n")
    append_figures(out / "score_drop.csv", figures)
    return figures


def append_figures(path: Path, figures: dict) -> None:
    """One row of figures appended to a CSV, its header written first if it is new."""
    new = not path.exists()
    with path.open("a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(figures))
        if new:
            writer.writeheader()
        writer.writerow(figures)


def quality_table(rows: list[dict]) -> str:
    """The per-dialect quality table, as Markdown, with whether each row meets the targets."""
    lines = [
        "| dialect | seed | macro recall@K | precision@K | lawful flagged | damped rules"
        " | targets |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        met = all(r[k] >= v for k, v in TARGETS.items())
        met = met and r["lawful_flagged_share"] <= LAWFUL_FLAGGED_AT_MOST
        lines.append(
            f"| {r['dialect']} | {r['seed']} | {r['macro_recall_top_k']:.3f} |"
            f" {r['precision_at_k']:.3f} | {r['lawful_flagged']} ({r['lawful_flagged_share']:.2%})"
            f" | {r['damped_rules'] or '-'} | {'met' if met else 'MISSED'} |"
        )
    return "\n".join(lines)


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
