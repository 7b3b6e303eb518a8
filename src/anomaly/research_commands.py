"""The researchers' commands: generate a synthetic world, score a run against its truth.

Registered on the ``anomaly`` command by ``anomaly.cli``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def synth(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the drop into.")],
    labels: Annotated[
        Path | None, typer.Option(help="Where to write the truth (CSV), outside the drop.")
    ] = None,
    scale: Annotated[str, typer.Option(help="tiny, small, national or large.")] = "small",
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same world.")] = 1,
    clean: Annotated[bool, typer.Option(help="Generate without planted schemes.")] = False,
    noise: Annotated[
        float, typer.Option(help="Share of event rows to break like real exports (e.g. 0.002).")
    ] = 0.0,
    noise_truth: Annotated[
        Path | None, typer.Option(help="Where to list the broken rows (CSV), outside the drop.")
    ] = None,
    export_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="spec (UTF-8, ',', ISO dates) or legacy (Windows-1251, ';', DD.MM.YYYY);"
            " by default the dialect's.",
        ),
    ] = None,
    dialect: Annotated[
        str,
        typer.Option(
            help="Registry conventions: standard, hospitals, court_trips, staff_moves,"
            " long_histories, other_ids, legacy_export or mixed_conventions.",
        ),
    ] = "standard",
) -> None:
    """Generate a synthetic penal system with planted corruption schemes.

    The drop (every table of the record spec and a manifest) goes to OUT; the
    ground truth (planted scheme instances and legitimate oddities, with the
    records involved) to LABELS, which must not be inside the drop.
    """
    import time

    from anomaly.synthetic.drop_writing import EXPORT_FORMATS, write_world
    from anomaly.synthetic.registry_dialects import DIALECTS
    from anomaly.synthetic.scales import SCALES
    from anomaly.synthetic.scheme_registry import build_world

    if dialect not in DIALECTS:
        raise typer.BadParameter(f"one of {', '.join(DIALECTS)}", param_hint="--dialect")
    if scale not in SCALES:
        raise typer.BadParameter(f"scale must be one of {', '.join(SCALES)}", param_hint="--scale")
    for truth, hint in ((labels, "--labels"), (noise_truth, "--noise-truth")):
        if truth is not None and out.resolve() in truth.resolve().parents:
            raise typer.BadParameter("truth must not be written inside the drop", param_hint=hint)
    if export_format is not None and export_format not in EXPORT_FORMATS:
        raise typer.BadParameter(f"one of {', '.join(EXPORT_FORMATS)}", param_hint="--format")
    if not 0 <= noise < 0.5:
        raise typer.BadParameter("noise must be a share in [0, 0.5)", param_hint="--noise")
    if noise > 0 and noise_truth is None:
        raise typer.BadParameter("--noise needs --noise-truth", param_hint="--noise-truth")
    began = time.perf_counter()
    world = build_world(scale, seed, schemes=not clean, dialect=dialect)
    broken = write_world(world, out, labels, noise, noise_truth, export_format)
    rows = sum(len(t) for t in world.tables.values())
    planted = sum(1 for x in world.labels if x["kind"] == "scheme")
    typer.echo(
        f"Wrote {rows} rows in {len(world.tables)} tables to {out} "
        f"({planted} planted instances, {broken} broken rows) "
        f"in {time.perf_counter() - began:.1f} s"
    )


def evaluate(
    labels: Annotated[Path, typer.Option(help="Truth file written by `anomaly synth --labels`.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Run folder holding cases.csv, flags.csv.")
    ],
    k: Annotated[
        int | None, typer.Option(help="Cases to read (default: 2 x planted instances).")
    ] = None,
    noise: Annotated[
        Path | None, typer.Option(help="Broken-row truth from `anomaly synth --noise-truth`.")
    ] = None,
) -> None:
    """Score a run's cases against a synthetic world's truth; print and write OUT/evaluation.csv.

    With --noise, also count how many of the broken rows OUT/quarantine holds,
    how many were kept with the broken cell reported (OUT/validation_findings.csv),
    and how many clean rows were quarantined (there should be none).
    """
    import dataclasses

    import pandas as pd

    from anomaly.evaluation import evaluate as score
    from anomaly.evaluation import noise_outcome
    from anomaly.office.files import read_csv, write_csv
    from anomaly.runs.catalogue import RunFiles

    files = RunFiles.of(out)
    cases_file, flags_file = files.cases, files.flags
    for needed in (labels, cases_file):
        if not needed.exists():
            typer.echo(f"error: {needed} not found", err=True)
            raise typer.Exit(code=2)
    flags = read_csv(flags_file, dtype=str) if flags_file.exists() else None
    cases = read_csv(cases_file, dtype={"subject_id": str, "evidence": str})
    result = score(cases, pd.read_csv(labels, dtype=str), flags, k)
    if noise is not None:
        broken = pd.read_csv(noise, dtype={"record_id": str})
        held = {p.stem: read_csv(p, dtype=str) for p in files.quarantine.glob("*.csv")}
        findings = read_csv(files.validation_findings, dtype=str)
        result = dataclasses.replace(result, noise=noise_outcome(broken, held, findings))
    write_csv(result.table, files.evaluation)
    typer.echo(result.text(), nl=False)
