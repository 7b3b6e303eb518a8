"""The analysts' commands: record a verdict, propose the next cases to review.

Registered on the ``anomaly`` command by ``anomaly.cli``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def feedback(
    case: Annotated[str, typer.Argument(help="case_id, as in cases.csv or the report.")],
    verdict: Annotated[
        str,
        typer.Argument(
            help="On a case: confirmed, dismissed or needs_more; on a finding: agree or disagree;"
            " withdrawn takes back the analyst's own earlier verdict."
        ),
    ],
    store: Annotated[
        str, typer.Option(help="The case store: its DuckDB file, or postgresql://...")
    ],
    reason: Annotated[str, typer.Option(help="Why, in words.")] = "",
    analyst: Annotated[str, typer.Option(help="Who decides.")] = "",
    finding: Annotated[
        str, typer.Option(help="flag_id of one finding of the case, to judge it alone.")
    ] = "",
    code: Annotated[
        str,
        typer.Option(
            help="Reason code: lawful_medical_stay, court_order, paper_record_exists,"
            " entry_delay_office, data_error or other (default: other)."
        ),
    ] = "",
) -> None:
    """Record an analyst's verdict on a case, or on one of its findings.

    A dismissed case stays quiet until new evidence. A dismissal or a
    disagreement needs a reason: a code other than ``other``, or words. The
    next run learns from it (docs/learning.md); ``withdrawn`` undoes that.
    """
    from anomaly.cases.store import CaseStore
    from anomaly.ingest.registry_source import store_of

    location = store_of(store)
    with CaseStore(location) as cases:  # type: ignore[arg-type]
        cases.record_verdict(case, verdict, reason, analyst, finding, code)
    on = f"{case} finding {finding}" if finding else case
    typer.echo(f"{on}: {verdict} recorded in {location}")


def review_queue_command(
    out: Annotated[Path, typer.Argument(help="A run folder (written by anomaly run).")],
    size: Annotated[int, typer.Option(min=1, help="How many cases to propose.")] = 20,
    rules: Annotated[
        Path | None, typer.Option(help="The rule book override the run used, if any.")
    ] = None,
) -> None:
    """Propose the next cases to review, each with why: the top not yet judged, what no
    verdict has taught yet, scores near the threshold, and a blind sample below it."""
    from anomaly.cases.assembly import findings_by_case
    from anomaly.cases.review_queue import review_queue
    from anomaly.known_failures import OutputError
    from anomaly.office.files import read_csv
    from anomaly.rulebook import load_rulebook
    from anomaly.runs.catalogue import RunFiles
    from anomaly.runs.folder import read_scored
    from anomaly.scoring.case_scoring import SUBJECTS

    files = RunFiles.of(out)
    if not files.raised_cases.exists():
        raise OutputError(f"{out}: no raised_cases.csv; run `anomaly run` into it first")
    scored = read_scored(out)
    queue = review_queue(
        read_csv(files.raised_cases, dtype={"subject_id": str}),
        read_csv(files.watchlist, dtype={"subject_id": str}),
        findings_by_case(scored["flags"], SUBJECTS),
        scored["learned"],
        load_rulebook(rules).scoring.case_threshold.value,
        size,
    )
    for row in queue.itertuples():  # case ids only: no person on the console
        typer.echo(f"{row.position:>3}. {row.case_id}  {row.kind:<9} {row.why}")
