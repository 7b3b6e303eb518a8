"""What a rule is, and the shape of what it finds.

A rule reads a snapshot and returns one row per finding on one record
(``FLAG_COLUMNS``). A rule also says which subjects it could not judge
(insufficient data): those are reported, never counted as clear.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from anomaly.record_schema import TABLES_BY_NAME
from anomaly.registry_snapshot import Snapshot

FLAG_COLUMNS = [
    "rule",
    "table",
    "record_id",
    "convict_id",
    "staff_id",
    "facility_id",
    "score",
    "explanation",
    "evidence",
]
"""``evidence``: further ``table:record_id`` references (``;``-separated) behind the finding."""


@dataclass(frozen=True)
class Findings:
    """What one rule found: flags, and the subjects it could not judge, with why."""

    flags: pd.DataFrame  # FLAG_COLUMNS
    insufficient: pd.DataFrame  # subject_type, subject_id, reason


INSUFFICIENT_COLUMNS = ["subject_type", "subject_id", "reason"]


@dataclass(frozen=True)
class Rule:
    """One legal red-flag rule.

    ``check`` returns a ``Findings``; ``severity`` (0..1) is the weight of one
    finding in the case score, from the rule book's scoring section.
    """

    code: str
    statement: str
    legal_basis: str
    tables: tuple[str, ...]
    check: Callable[[Snapshot], Findings]
    subject: str = "convict"  # who a finding is about: convict, staff or facility
    optional_tables: tuple[str, ...] = ()  # read when delivered; the part needing them is
    # otherwise reported as insufficient data
    per_convict: bool = True  # judges each convict from that convict's records alone (plus
    # reference tables and where everyone was): such a rule can run on partitions of convicts


ENTERED_BY = {"visit_logs": "logged_by"}
"""The staff column of an event table, where it is not ``decided_by``."""


def flags(
    rule: str,
    table: str,
    rows: pd.DataFrame,
    explanation: pd.Series | str,
    score: pd.Series | float = 1.0,
    evidence: pd.Series | str = "",
    facility: str = "facility_id",
) -> pd.DataFrame:
    """Flag rows of ``table`` (one finding per row) in the common shape.

    The record id is the table's key and the staff member the one who made
    the entry (``logged_by`` or ``decided_by``); ``facility`` names the
    column of the institution concerned (a transfer: where it led, or left).
    """
    n = len(rows)
    out = pd.DataFrame(
        {
            "rule": [rule] * n,
            "table": [table] * n,
            "record_id": rows[TABLES_BY_NAME[table].key[0]].astype(str).to_numpy(),
            "convict_id": _text(rows, "convict_id"),
            "staff_id": _text(rows, ENTERED_BY.get(table, "decided_by")),
            "facility_id": _text(rows, facility),
        }
    )
    out["score"] = _values(score, rows, float)
    out["explanation"] = _values(explanation, rows, str)
    out["evidence"] = _values(evidence, rows, str)
    return out[FLAG_COLUMNS]


def no_flags() -> pd.DataFrame:
    return pd.DataFrame(columns=FLAG_COLUMNS)


def none_insufficient() -> pd.DataFrame:
    return pd.DataFrame(columns=INSUFFICIENT_COLUMNS)


def insufficient(subjects: pd.Series, reason: str, subject_type: str = "convict") -> pd.DataFrame:
    ids = pd.Series(subjects.dropna().astype(str).unique())
    return pd.DataFrame({"subject_type": subject_type, "subject_id": ids, "reason": reason})


def _text(rows: pd.DataFrame, column: str | None) -> list:
    if column is None or column not in rows.columns:
        return [None] * len(rows)
    values = rows[column]
    return values.astype("string").astype(object).where(values.notna(), None).tolist()


def _values(value, rows: pd.DataFrame, kind) -> list:
    if isinstance(value, pd.Series):
        return value.reindex(rows.index).astype(kind).tolist()
    return [kind(value)] * len(rows)


def add_reason(reasons: pd.Series, mask: pd.Series, text: pd.Series | str) -> pd.Series:
    """Append ``text`` to the reasons of the rows where ``mask`` holds.

    Only the masked rows are touched (most rows break nothing), so a rule
    costs little more than its masks.
    """
    mask = mask.fillna(False).astype(bool)
    if not mask.any():
        return reasons
    out = reasons.copy()
    chosen = mask[mask].index
    addition = text.reindex(chosen).astype(str) if isinstance(text, pd.Series) else text
    out.loc[chosen] = reasons.loc[chosen] + addition + "; "
    return out


def explained(rows: pd.DataFrame, reasons: pd.Series, what: pd.Series) -> pd.Series:
    """``what: reason; reason`` for the rows given."""
    text = reasons.reindex(rows.index).astype("string").str.rstrip("; ")
    return what.reindex(rows.index).astype("string") + ": " + text
