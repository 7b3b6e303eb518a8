"""``anomaly load-db``: a drop into a PostgreSQL schema, to try the tool against a database.

Registered on the ``anomaly`` command by ``anomaly.cli``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def load_db(
    drop: Annotated[Path, typer.Argument(help="A drop folder (anomaly synth writes one).")],
    url: Annotated[
        str, typer.Argument(help="postgresql://USER[:PASSWORD]@HOST:PORT/DB to load into.")
    ],
    schema: Annotated[str, typer.Option(help="The schema to create the tables in.")] = "registry",
    replace: Annotated[
        bool, typer.Option(help="Replace the registry tables the schema already holds.")
    ] = False,
) -> None:
    """Load a drop into typed tables (text, bigint, date, timestamp, boolean) of a schema.

    One transaction: a failure leaves the schema as it was. A drop holding a
    cell that no typed table can hold (a date that is no date) is refused with
    every such cell named. Then: ``anomaly run postgresql://... --schema S``.
    """
    import time

    from anomaly.database.registry_loading import load_into_database
    from anomaly.database.registry_reading import RegistryDatabase
    from anomaly.ingest.registry_source import source_of

    target = source_of(url, schema)
    if not isinstance(target, RegistryDatabase):
        raise typer.BadParameter("a postgresql:// URL", param_hint="URL")
    began = time.perf_counter()
    rows = load_into_database(drop, target, replace)
    typer.echo(f"Loaded {rows} rows of {drop} into {target} in {time.perf_counter() - began:.1f} s")
