"""The stages of a run as plain functions over a run folder.

The Prefect tasks of ``pipelines/`` and the ``anomaly validate`` and
``anomaly score`` commands call these same functions: a stage reads what the
stage before it wrote (``runs.catalogue``), so a flow and a command give the
same files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from anomaly.cases.outputs import write_scored
from anomaly.contracts.suites import load_contracts
from anomaly.contracts.validation import validate_drop
from anomaly.contracts.validation_outputs import write_validation
from anomaly.ingest.registry_source import RegistrySource, load_source
from anomaly.rulebook import load_rulebook
from anomaly.runs.folder import read_snapshot
from anomaly.scoring.case_scoring import Scored, score
from anomaly.scoring.verdict_learning import VerdictLabels


def validate_into(drop: RegistrySource, out: Path, contracts: Path | None = None) -> dict[str, Any]:
    """Load and validate a drop (or a database schema); write accepted tables, quarantine
    and summary; return it."""
    result = validate_drop(load_source(drop), load_contracts(contracts))
    return write_validation(result, out)


def score_into(
    out: Path, rules: Path | None = None, verdicts: VerdictLabels | None = None
) -> Scored:
    """Score the accepted records of a validated run folder; write cases and flags there.

    ``verdicts``: what the analysts' verdicts teach the ranking (``CaseStore.verdict_labels``)."""
    scored = score(read_snapshot(out, load_rulebook(rules)), verdicts)
    write_scored(scored, out)
    return scored
