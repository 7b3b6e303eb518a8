"""What a rule is, and the shape of what it finds.

A rule reads a snapshot and returns one row per finding on one record
(``FLAG_COLUMNS``). A rule also says which subjects it could not judge
(insufficient data): those are reported, never counted as clear.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from anomaly.ingest.record_schema import TABLES_BY_NAME, entered_by
from anomaly.registry.snapshot import Snapshot
from anomaly.rulebook import RuleParameters

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
    notes: str = ""  # what the rule inferred from the records to judge them, with evidence


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
    needs_complete: tuple[str, ...] | None = None  # tables in which a missing row of the
    # subject can make the rule flag wrongly (an unseen penalty, incentive, registration or
    # transfer); None: all its tables. A missing visit cannot make visits exceed a quota.
    reads: tuple[str, ...] = ()  # "table.column" of every cell the judgement rests on: a cell
    # validation nulled makes the subjects it touches insufficient data (``scoring.rule_engine``)
    judges: tuple[str, ...] = ()  # tables whose records it flags, its population for rule
    # health (``scoring.rule_health``); empty: the first of ``tables``
    parameters: type[RuleParameters] = RuleParameters  # its rule-book section, with defaults


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
    return pd.DataFrame(
        {
            "rule": [rule] * len(rows),
            "table": [table] * len(rows),
            "record_id": _text(rows, TABLES_BY_NAME[table].key[0]),
            "convict_id": _text(rows, "convict_id"),
            "staff_id": _text(rows, entered_by(table)),
            "facility_id": _text(rows, facility),
            "score": _values(score, rows, float),
            "explanation": _values(explanation, rows, str),
            "evidence": _values(evidence, rows, str),
        },
        columns=FLAG_COLUMNS,
    )


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
    return [None if pd.isna(v) else str(v) for v in rows[column].tolist()]


def _values(value, rows: pd.DataFrame, kind) -> list:
    if isinstance(value, pd.Series):
        return value.reindex(rows.index).astype(kind).tolist()
    return [kind(value)] * len(rows)


class Reasons:
    """What is wrong with which rows of a frame: masks first, texts only for the rows found.

    Most rows break nothing, so a rule costs little more than its masks; the
    reason texts are joined only for the rows flagged. Masks and text series
    are aligned with the rows (same index, same order).
    """

    def __init__(self, rows: pd.DataFrame) -> None:
        self._index = rows.index
        self._parts: list[tuple[np.ndarray, pd.Series | str]] = []

    def add(self, mask: pd.Series | np.ndarray, text: pd.Series | str) -> None:
        """``text`` is a reason against the rows where ``mask`` holds (null counts as not)."""
        if isinstance(text, pd.Series):
            self._aligned(text)
        self._parts.append((self._positions(mask), text))

    @property
    def found(self) -> np.ndarray:
        """Which rows have at least one reason."""
        out = np.zeros(len(self._index), dtype=bool)
        for mask, _ in self._parts:
            out |= mask
        return out

    def explain(self, what: pd.Series) -> pd.Series:
        """``what: reason; reason`` for the rows found (``what`` holds one entry per found row)."""
        found = np.flatnonzero(self.found)
        if len(what) != len(found):
            raise ValueError(f"{len(what)} descriptions for {len(found)} rows found")
        text = np.full(len(found), "", dtype=object)
        for mask, part in self._parts:
            chosen = mask[found]
            if chosen.any():
                text[chosen] += _texts(part, found[chosen]) + "; "
        reasons = np.array([t.rstrip("; ") for t in text], dtype=object)
        return pd.Series(_texts(what) + ": " + reasons, index=what.index)

    def _positions(self, mask: pd.Series | np.ndarray) -> np.ndarray:
        if isinstance(mask, pd.Series):
            self._aligned(mask)
            return mask.fillna(False).astype(bool).to_numpy()
        if len(mask) != len(self._index):
            raise ValueError(f"a mask of {len(mask)} for {len(self._index)} rows")
        return np.asarray(mask, dtype=bool)

    def _aligned(self, series: pd.Series) -> None:
        if not (series.index is self._index or series.index.equals(self._index)):
            raise ValueError("a reason's mask or text must be aligned with the rule's rows")


def _texts(values: pd.Series | str, positions: np.ndarray | None = None) -> np.ndarray | str:
    """Text of each value (at ``positions``, or all), ``?`` for a null, as an object array."""
    if isinstance(values, str):
        return values
    chosen = values if positions is None else values.iloc[positions]
    return chosen.astype("string").fillna("?").to_numpy(dtype=object)
