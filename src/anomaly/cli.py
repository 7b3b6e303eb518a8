"""The ``anomaly`` command.

Every known failure (``anomaly.known_failures``: a drop that cannot be read,
a bad rule book, an output that cannot be written, a key or a store that
cannot be used) is printed as ``error: ...`` in one or two lines, naming the
file, row, column or path, with exit code 2. ``--debug`` (or
``ANOMALY_DEBUG=1``) shows the traceback instead. SIGTERM ends a run like
Ctrl-C does, so that Prefect's temporary server ends with it.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

from anomaly.analyst_commands import feedback, review_queue_command
from anomaly.database_commands import load_db
from anomaly.known_failures import EXIT_KNOWN_FAILURE, as_known_failure
from anomaly.research_commands import evaluate, synth

DEBUG_ENV = "ANOMALY_DEBUG"


class _Commands(TyperGroup):
    """The command group: a known failure becomes ``error: ...`` and exit code 2."""

    def invoke(self, ctx):  # typer vendors its own click: no Context type to name here
        try:
            return super().invoke(ctx)
        except (typer.TyperException, typer.Exit, typer.Abort):
            raise
        except Exception as error:
            known = as_known_failure(error)
            if known is None or os.environ.get(DEBUG_ENV) == "1":
                raise
            typer.echo(f"error: {known}", err=True)
            raise typer.Exit(code=EXIT_KNOWN_FAILURE) from None


app = typer.Typer(
    cls=_Commands,
    help="Anti-corruption anomaly detection over penal-system registries.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def main() -> None:
    """The console entry point; SIGTERM unwinds a run as Ctrl-C does."""
    signal.signal(signal.SIGTERM, _terminated)
    app()


@app.callback()
def options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of known failures too.")
    ] = False,
) -> None:
    """Ingest registry drops, check them against data contracts, flag what looks corrupt."""
    if debug:
        os.environ[DEBUG_ENV] = "1"
    # Prefect reads these when it first logs. Its console shows only what the
    # command does not say itself (a failed task's traceback is the CLI's to show).
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    quiet = "WARNING" if os.environ.get(DEBUG_ENV) == "1" else "CRITICAL"
    os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", quiet)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no network here


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # unwinds the run: atexit handlers stop Prefect's temporary server


SOURCE_HELP = (
    "Folder of a registry drop (one file per table), or a database: "
    "postgresql://USER[:PASSWORD]@HOST:PORT/DB (the password is better in PGPASSWORD or ~/.pgpass)."
)


@app.command()
def validate(
    drop: Annotated[str, typer.Argument(help=SOURCE_HELP)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    schema: Annotated[
        str, typer.Option(help="With a postgresql:// source: the schema holding the tables.")
    ] = "registry",
    contracts: Annotated[
        Path | None,
        typer.Option(
            help="Folder of data contract suites (default: the project's data_contracts/)."
        ),
    ] = None,
) -> None:
    """Check a drop against the data contracts; write accepted tables and the quarantine.

    Every row read ends up in OUT/accepted/<table>.parquet or in
    OUT/quarantine/<table>.csv with the checks it failed. A summary goes to
    OUT/validation_summary.json and .txt. Exit code 2 when the drop cannot be
    read at all (missing table or column, unreadable file).
    """
    from anomaly.contracts.validation_outputs import summary_text
    from anomaly.ingest.registry_source import source_of
    from anomaly.runs.folder import staged_run
    from anomaly.runs.stages import validate_into

    source = source_of(drop, schema)
    with staged_run(out) as staging:
        summary = validate_into(source, staging, contracts)
    typer.echo(summary_text(summary), nl=False)
    typer.echo(f"Quarantine and summary written to {out}")


@app.command()
def score(
    drop: Annotated[str, typer.Argument(help=SOURCE_HELP)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
    schema: Annotated[
        str, typer.Option(help="With a postgresql:// source: the schema holding the tables.")
    ] = "registry",
    rules: Annotated[
        Path | None, typer.Option(help="YAML file overriding values of the shipped rule book.")
    ] = None,
) -> None:
    """Validate a drop, then flag and rank what looks corrupt.

    Writes the validation outputs (quarantine/, accepted/, summaries) and
    OUT/cases.csv, cases.parquet, flags.csv, watchlist.csv, rule_outcomes.csv
    and insufficient_data.csv. Only accepted rows are scored.
    """
    import time

    from anomaly.ingest.registry_source import source_of
    from anomaly.rulebook import load_rulebook
    from anomaly.runs.catalogue import RunFiles
    from anomaly.runs.folder import staged_run
    from anomaly.runs.stages import score_into, validate_into

    began = time.perf_counter()
    load_rulebook(rules)  # a broken rule book is refused before the drop is read
    source = source_of(drop, schema)
    with staged_run(out) as staging:
        summary = validate_into(source, staging)
        validated = time.perf_counter()
        scored = score_into(staging, rules)
    totals = summary["totals"]
    typer.echo(
        f"Read {totals['rows_read']} rows, quarantined {totals['quarantined']}; "
        f"{len(scored.flags)} findings, {len(scored.cases)} cases, "
        f"{len(scored.watchlist)} on the watch list. "
        f"Validation {validated - began:.1f} s, scoring {time.perf_counter() - validated:.1f} s."
    )
    for row in scored.cases.head(5).itertuples():  # no identifiers on the console
        typer.echo(f"  {row.rank:>3}. [{row.risk_score:.2f}] {row.subject_type}: {row.rules}")
    loud = scored.rule_summary[scored.rule_summary["damping"].lt(1)]
    for row in loud.itertuples():
        typer.echo(f"  rule {row.rule} damped for this run: {row.health}")
    typer.echo(f"Cases written to {RunFiles.of(out).cases}")


@app.command()
def run(
    drop: Annotated[
        str,
        typer.Argument(help="A drop folder, a folder of drops (the newest), or postgresql://..."),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder of this run.")],
    schema: Annotated[
        str, typer.Option(help="With a postgresql:// source: the schema holding the tables.")
    ] = "registry",
    rules: Annotated[
        Path | None, typer.Option(help="YAML file overriding values of the shipped rule book.")
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            help="Case store: a DuckDB file (default: case_store.duckdb beside OUT), or a team's"
            " PostgreSQL database, postgresql://USER@HOST:PORT/DB."
        ),
    ] = None,
    feedback: Annotated[
        Path | None, typer.Option(help="Verdicts to record first (case_id, verdict, reason).")
    ] = None,
    key: Annotated[
        Path | None,
        typer.Option(help="The office key (default: $ANOMALY_KEY_FILE, else beside the store)."),
    ] = None,
    run_date: Annotated[
        str | None, typer.Option(help="Date of the run, YYYY-MM-DD (default: today).")
    ] = None,
    partitions: Annotated[
        int, typer.Option(help="Score on this many partitions of convicts, on a Dask cluster.")
    ] = 1,
    dask_address: Annotated[
        str | None, typer.Option(help="Dask scheduler to use (default: a local cluster).")
    ] = None,
    dask_workers: Annotated[int, typer.Option(help="Workers of the local Dask cluster.")] = 2,
) -> None:
    """Run the whole pipeline (ingest, validate, score, report) as a local Prefect flow.

    No server is needed: Prefect starts a temporary one for the run. Prints
    where the report is.
    """
    from pipelines.oversight_run import oversight_run, preflight
    from pipelines.run_settings import RunSettings

    from anomaly.ingest.registry_source import source_of, store_of
    from anomaly.runs.catalogue import RunFiles

    settings = RunSettings(
        drop=source_of(drop, schema),
        db_schema=schema,
        out=out,
        rules=rules,
        store=store_of(store),
        feedback=feedback,
        key=key,
        run_date=_day(run_date),
        partitions=partitions,
        dask_address=dask_address,
        dask_workers=dask_workers,
    )
    had_key = settings.key_path.exists()
    preflight(settings)  # a drop, key or store that cannot be used is refused before Prefect starts
    if not had_key:
        typer.echo(
            f"Created the office key {settings.key_path}. Every later run of this store must use "
            "it (--key or ANOMALY_KEY_FILE): keep it, back it up, never send it."
        )
    result = _run_flow(oversight_run, settings)
    typer.echo(
        f"{result['raised']} cases raised ({result['quiet']} dismissed ones kept quiet), "
        f"{result['findings']} findings."
    )
    typer.echo(f"Report: {result['report']}")
    typer.echo(f"Pseudonymised export: {RunFiles.of(Path(result['report']).parent).export}")


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the demo.")] = Path(
        "out/demo"
    ),
    scale: Annotated[str, typer.Option(help="Scale of the synthetic world.")] = "small",
    seed: Annotated[int, typer.Option(help="Seed of the synthetic world.")] = 1,
) -> None:
    """Generate a synthetic world and run the whole pipeline on it; print where the report is."""
    import pandas as pd
    from pipelines.oversight_run import oversight_run
    from pipelines.run_settings import RunSettings

    from anomaly.evaluation import evaluate as score_cases
    from anomaly.office.files import read_csv, write_csv
    from anomaly.runs.catalogue import RunFiles
    from anomaly.synthetic.drop_writing import write_world
    from anomaly.synthetic.scheme_registry import build_world

    typer.echo(f"[1/3] generating a {scale} synthetic penal system (seed {seed}) ...")
    write_world(build_world(scale, seed), out / "drop", out / "labels.csv")
    typer.echo("[2/3] running the pipeline: validate, score, report ...")
    settings = RunSettings(drop=out / "drop", out=out / "run")
    result = _run_flow(oversight_run, settings)
    typer.echo("[3/3] scoring the cases against the planted truth ...")
    run_files = RunFiles.of(out / "run")
    flags = read_csv(run_files.flags, dtype=str)
    cases = read_csv(run_files.cases, dtype={"subject_id": str, "evidence": str})
    evaluation = score_cases(cases, pd.read_csv(out / "labels.csv", dtype=str), flags)
    write_csv(evaluation.table, run_files.evaluation)
    all_row = evaluation.table.iloc[-1]
    typer.echo(
        f"{result['raised']} cases; planted instances caught in the top {evaluation.k}: "
        f"{all_row['caught_top_k']} of {all_row['instances']}; "
        f"precision@{evaluation.k} {evaluation.precision_at_k:.2f}"
    )
    typer.echo(f"Report: {result['report']}")


def _day(text: str | None):
    import datetime as dt

    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise typer.BadParameter("a date YYYY-MM-DD", param_hint="--run-date") from error


def _run_flow(flow, settings):
    """Run a flow quietly; say which rules were damped (Prefect's console says nothing)."""
    import logging

    for name in ("prefect", "great_expectations"):
        logging.getLogger(name).setLevel(os.environ.get("PREFECT_LOGGING_LEVEL", "WARNING"))
    result = flow(settings)
    if result.get("rules_damped"):
        typer.echo(
            "Rules firing alike in most institutions, damped for this run "
            f"(see rule_outcomes.csv): {', '.join(result['rules_damped'])}"
        )
    return result


@app.command()
def rulebook(
    rules: Annotated[
        Path | None, typer.Option(help="YAML file overriding values of the shipped rule book.")
    ] = None,
) -> None:
    """Print every value of the rule book in force: key, value, source, and what is assumed."""
    from anomaly.rulebook import OFFICE_OVERRIDE, load_rulebook

    for key, param in load_rulebook(rules).params():
        mark = " (assumed)" if param.assumed else ""
        if param.source == OFFICE_OVERRIDE:
            mark = f" (set by {param.set_by or '?'} on {param.set_on or '?'}: {param.reason})"
        typer.echo(f"{key} = {param.value!r}{mark}\n    {param.source}")


app.command()(feedback)
app.command("review-queue")(review_queue_command)
app.command()(synth)
app.command()(evaluate)
app.command("load-db")(load_db)


if __name__ == "__main__":  # pragma: no cover
    main()
