"""Tiny registries written out by hand: the base of every rule example, typed as a drop is.

``docs/rules/examples/base_registry.yaml`` is one institution, one convict and
his wife; a rule's example (``docs/rules/examples/<CODE>.yaml``) adds rows to
it. Cells are typed by the record schema, as the loader types a file's cells.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from anomaly.ingest.record_schema import TABLES, Kind
from anomaly.registry.snapshot import Snapshot
from anomaly.rulebook import Rulebook, load_rulebook

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "rules" / "examples"
EXTRACTED_AT = pd.Timestamp("2025-01-05")
TYPES = {
    Kind.DATE: "datetime64[us]",
    Kind.TIMESTAMP: "datetime64[us]",
    Kind.INT: "Int64",
    Kind.FLOAT: "float64",
    Kind.BOOL: "boolean",
}


def base_registry() -> dict[str, list[dict[str, Any]]]:
    """The rows of every table of the base registry (a fresh copy: the file is read once)."""
    return copy.deepcopy(_base_rows())


@functools.cache
def _base_rows() -> dict[str, list[dict[str, Any]]]:
    return yaml.safe_load((EXAMPLES / "base_registry.yaml").read_text(encoding="utf-8"))


def literal_snapshot(
    *extras: dict[str, list[dict[str, Any]]], rulebook: Rulebook | None = None
) -> Snapshot:
    """The base registry plus the rows of ``extras``, as a snapshot of accepted records."""
    tables = base_registry()
    for extra in extras:
        for name, rows in extra.items():
            tables[name] = tables[name] + rows
    frames = {}
    for spec in TABLES:
        frame = pd.DataFrame(tables[spec.name], columns=list(spec.column_names))
        for column in spec.columns:
            frame[column.name] = frame[column.name].astype(TYPES.get(column.kind, "string"))
        frames[spec.name] = frame
    return Snapshot.of(frames, rulebook or load_rulebook(), EXTRACTED_AT)


def rule_example(code: str) -> dict[str, Any]:
    """A rule's worked example: ``flags`` and ``clear``, each with ``add`` and ``findings``."""
    return yaml.safe_load((EXAMPLES / f"{code}.yaml").read_text(encoding="utf-8"))
