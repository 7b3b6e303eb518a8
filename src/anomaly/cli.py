"""The ``anomaly`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from anomaly.contracts import ContractError
from anomaly.drop_reading import DropFormatError

app = typer.Typer(
    help="Anti-corruption anomaly detection over penal-system registries.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main() -> None:
    """Ingest registry drops, check them against data contracts, flag what looks corrupt."""


@app.command()
def validate(
    drop: Annotated[Path, typer.Argument(help="Folder of a registry drop (one file per table).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")],
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
    read at all (missing table or column).
    """
    from anomaly.contracts import load_contracts
    from anomaly.records import load_drop
    from anomaly.validation import validate_drop
    from anomaly.validation_report import summary_text, write_validation

    try:
        loaded = load_drop(drop)
        result = validate_drop(loaded, load_contracts(contracts))
    except (DropFormatError, ContractError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(code=2) from error
    summary = write_validation(result, out)
    typer.echo(summary_text(summary), nl=False)
    typer.echo(f"Quarantine and summary written to {out}")


if __name__ == "__main__":  # pragma: no cover
    app()
