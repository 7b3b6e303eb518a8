"""Validate a loaded drop against its data contracts: accept or quarantine every row.

A **hard** check finds a broken cell: unreadable, impossible, an unknown code,
a repeated key, after the extraction, an end before its start, an id that
exists nowhere in the drop. A **soft** check finds something merely unusual.
What a hard failure costs depends on the cell (the suite's
``identity_columns``):

- a cell the row cannot be understood without (its key, the convict, the
  institution, the event's own date...): the row is quarantined;
- any other cell: the cell is nulled (for a pair of dates, the one expected
  to be the later), the row is kept and the finding reported, naming the cell
  and its raw value. A required cell that came empty is reported the same
  way. Master rows (regions, facilities, staff, convicts, persons) therefore
  leave only when their key is missing or repeated.

A soft failure keeps the row as it is and reports the finding. Besides the GX
suites, three checks belong to reading: ``malformed_row`` (the line does not
split into the header's columns; always quarantined), ``unreadable_<column>``
(a cell that is not of its kind, such as ``31.02.1975``; hard),
``damaged_cell`` (a cell over a million characters, or holding a NUL byte;
always quarantined) and ``repeated_row`` (an exact copy of an earlier line;
the first is kept).

References are checked against every row *read* from the table they name,
so no row is quarantined for another row's defect: a row whose parent was
quarantined is kept, with a soft finding naming the parent row and why it
went. Of a key held by several lines the first line is kept.

Invariant, checked on every table: rows read = rows accepted + rows quarantined.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from anomaly.contracts.companions import ParentRows, first_lines, with_companions
from anomaly.contracts.failure_reasons import (
    failure_reasons,
    kept_findings,
    quarantined_rows,
)
from anomaly.contracts.suites import Check, ContractRunner, ContractSuite
from anomaly.ingest.drop_loading import Drop, LoadedTable
from anomaly.ingest.record_schema import TABLES, Kind, Table

READING_CHECKS = {
    "malformed_row": "the line does not split into the header's columns",
    "repeated_row": "the same cells as an earlier line (kept once)",
    "damaged_cell": "a cell too large, or holding a NUL byte: the line is broken",
}
WHOLE_ROW_CHECKS = ("repeated_row", "damaged_cell")  # quarantine the row, whatever the cell

QUARANTINED = "quarantined"
NULLED = "cell_nulled"  # a hard failure on a cell the row can do without: the cell is nulled
MISSING = "cell_missing"  # a required cell that came empty, on a row kept
REPORTED = "reported"  # a soft finding: the row is kept as it is


class InvariantError(AssertionError):
    """Rows were lost or counted twice: a bug, never a data problem."""


@dataclass(frozen=True)
class TableOutcome:
    """The verdict on one table's rows."""

    table: str
    source_file: str
    rows_read: int
    accepted: pd.DataFrame
    quarantine: pd.DataFrame
    findings: pd.DataFrame  # FINDING_COLUMNS: every finding on a row that was kept
    failures: pd.DataFrame  # source_line, check, severity, action: every failure
    extra_columns: tuple[str, ...]

    @property
    def nulled_cells(self) -> pd.DataFrame:
        """The cells nulled on kept rows (one line per cell, its first finding)."""
        nulled = self.findings[self.findings["action"].eq(NULLED)]
        return nulled.drop_duplicates(["source_line", "column"])

    @property
    def rows_kept_with_parent_quarantined(self) -> int:
        parent = self.findings["check"].astype(str).str.endswith("_parent_not_quarantined")
        return int(self.findings.loc[parent, "source_line"].nunique())


@dataclass(frozen=True)
class ValidationResult:
    """Accepted frames, quarantine and findings of a whole drop."""

    drop: Drop
    tables: dict[str, TableOutcome]

    @property
    def accepted(self) -> dict[str, pd.DataFrame]:
        return {name: outcome.accepted for name, outcome in self.tables.items()}

    @property
    def quarantine(self) -> dict[str, pd.DataFrame]:
        return {name: outcome.quarantine for name, outcome in self.tables.items()}

    @property
    def nulled_cells(self) -> pd.DataFrame:
        """Every cell nulled on a kept row: table, source_line, column."""
        parts = [o.nulled_cells[["table", "source_line", "column"]] for o in self.tables.values()]
        return pd.concat(parts, ignore_index=True)


def validate_drop(
    drop: Drop, suites: dict[str, ContractSuite], runner: ContractRunner | None = None
) -> ValidationResult:
    """Run the contracts on every table of a loaded drop.

    Parameters
    ----------
    drop
        The loaded drop.
    suites
        The contract suites by table (``contracts.load_contracts``).
    runner
        A GX context to reuse; a new ephemeral one by default.
    """
    runner = runner or ContractRunner()
    outcomes: dict[str, TableOutcome] = {}
    parents: dict[str, ParentRows] = {}
    parameters = contract_parameters(drop.extracted_at)
    for spec in TABLES:
        if spec.name not in drop.tables:
            continue
        if spec.name not in suites:
            raise KeyError(f"no data contract for table {spec.name}")
        loaded = drop.tables[spec.name]
        outcome = validate_table(loaded, suites[spec.name], runner, parameters, parents)
        outcomes[spec.name] = outcome
        if len(spec.key) == 1:
            parents[f"{spec.name}.{spec.key[0]}"] = ParentRows.of(loaded, outcome.quarantine)
    return ValidationResult(drop, outcomes)


def contract_parameters(extracted_at: pd.Timestamp) -> dict[str, Any]:
    """The suite parameters of a drop extracted at ``extracted_at``."""
    return {
        "extracted_at": extracted_at.isoformat(),
        "a_century_before_extraction": (extracted_at - pd.DateOffset(years=100)).isoformat(),
        "oldest_birth": (extracted_at - pd.DateOffset(years=120)).isoformat(),
    }


def validate_table(
    loaded: LoadedTable,
    suite: ContractSuite,
    runner: ContractRunner,
    parameters: dict[str, Any],
    parents: dict[str, ParentRows],
) -> TableOutcome:
    """Judge every row of one table; ``parents`` are the judged tables before it."""
    repeated = _repeated_lines(loaded)
    frame = with_companions(_without(loaded.typed, repeated.index), suite, parents, loaded)
    contract_failures = runner.run(suite, frame, parameters)
    contract_failures = _without_unreadable_cells(contract_failures, loaded, suite)
    failures = pd.concat(
        [
            _unreadable_failures(loaded),
            pd.DataFrame({"source_line": repeated.index, "check": "repeated_row"}),
            pd.DataFrame(
                {
                    "source_line": loaded.damaged["source_line"],
                    "check": "damaged_cell",
                    "detail": loaded.damaged["detail"],
                }
            ),  # fmt: skip
            contract_failures,
        ],
        ignore_index=True,
    )
    checks = _all_checks(suite, loaded.spec)
    failures = _without_echoes(_judged(failures, checks, suite, loaded), checks)
    reasons = failure_reasons(failures, checks, loaded, repeated, frame, parents)
    hard_lines = pd.Index(failures.loc[failures["action"] == QUARANTINED, "source_line"].unique())
    kept = reasons[~reasons["source_line"].isin(hard_lines)]
    accepted = _without(loaded.typed, hard_lines)
    accepted = _typed_for_analysis(_nulled(accepted, kept[kept["action"] == NULLED]), loaded.spec)
    quarantine = quarantined_rows(loaded, reasons, hard_lines)
    outcome = TableOutcome(
        table=loaded.spec.name,
        source_file=loaded.raw.path.name,
        rows_read=loaded.rows_read,
        accepted=accepted,
        quarantine=quarantine,
        findings=kept_findings(kept, loaded),
        failures=pd.concat(
            [
                failures[["source_line", "check", "severity", "action"]],
                pd.DataFrame(
                    {
                        "source_line": loaded.raw.malformed["source_line"],
                        "check": "malformed_row",
                        "severity": "hard",
                        "action": QUARANTINED,
                    }
                ),
            ],
            ignore_index=True,
        ),
        extra_columns=loaded.extra_columns,
    )
    if outcome.rows_read != len(accepted) + len(quarantine):
        raise InvariantError(
            f"{outcome.source_file}: read {outcome.rows_read} rows but accepted "
            f"{len(accepted)} and quarantined {len(quarantine)}"
        )
    return outcome


def _judged(
    failures: pd.DataFrame, checks: dict[str, Check], suite: ContractSuite, loaded: LoadedTable
) -> pd.DataFrame:
    """Each failure with its severity, the cell it concerns and what it costs the row.

    A hard failure quarantines the row when every cell it concerns is an
    identity cell; otherwise it costs its first other cell (of a pair of
    dates, the one expected to be the later): nulled, or reported missing
    when the cell came empty.
    """
    identity = suite.identity_columns
    cells = loaded.raw.cells
    severity, action, column = [], [], []
    for line, name in zip(failures["source_line"], failures["check"], strict=True):
        check = checks[name]
        others = [c for c in check.columns if c not in identity]
        severity.append(check.severity)
        column.append(others[0] if others else (check.columns[0] if check.columns else ""))
        if check.severity == "soft":
            action.append(REPORTED)
        elif name in WHOLE_ROW_CHECKS or not others:
            action.append(QUARANTINED)
        else:
            action.append(MISSING if pd.isna(cells.at[line, others[0]]) else NULLED)
    return failures.assign(severity=severity, action=action, column=column)


def _without_echoes(failures: pd.DataFrame, checks: dict[str, Check]) -> pd.DataFrame:
    """Drop pair failures that only echo a cell a single-cell failure of the line nulled.

    A birth date after the extraction also puts the sentence start "before
    the birth": the birth date is nulled, and the sentence start keeps its value.
    """
    pair = failures["check"].map(lambda name: len(checks[name].columns) > 1).to_numpy(dtype=bool)
    single_nulled = failures[~pair & failures["action"].eq(NULLED).to_numpy()]
    if single_nulled.empty or not pair.any():
        return failures
    paid = set(zip(single_nulled["source_line"], single_nulled["column"], strict=True))
    echo = np.zeros(len(failures), dtype=bool)
    for position in np.flatnonzero(pair):
        line, name = failures["source_line"].iat[position], failures["check"].iat[position]
        echo[position] = any((line, column) in paid for column in checks[name].columns)
    return failures[~echo]


def _repeated_lines(loaded: LoadedTable) -> pd.Series:
    """Lines repeating an earlier line cell for cell, mapped to that earlier line."""
    cells = loaded.raw.cells
    duplicated = cells.duplicated(keep="first")
    if not duplicated.any():
        return pd.Series([], dtype="int64", index=pd.Index([], dtype="int64"))
    return first_lines(cells, tuple(cells.columns), cells.index[duplicated.to_numpy()])


def _unreadable_failures(loaded: LoadedTable) -> pd.DataFrame:
    bad = loaded.unreadable
    return pd.DataFrame({"source_line": bad["source_line"], "check": "unreadable_" + bad["column"]})


def _without_unreadable_cells(
    failures: pd.DataFrame, loaded: LoadedTable, suite: ContractSuite
) -> pd.DataFrame:
    """Drop contract failures that only echo an unreadable cell (it became null)."""
    if failures.empty or loaded.unreadable.empty:
        return failures
    unreadable = set(
        zip(loaded.unreadable["source_line"], loaded.unreadable["column"], strict=True)
    )
    echoes = [
        any((line, column) in unreadable for column in suite.checks[check].columns)
        for line, check in zip(failures["source_line"], failures["check"], strict=True)
    ]
    return failures[~pd.Series(echoes, index=failures.index)]


def _all_checks(suite: ContractSuite, spec: Table) -> dict[str, Check]:
    checks = dict(suite.checks)
    for name, text in READING_CHECKS.items():
        checks[name] = Check(name, "hard", (), text)
    for column in spec.columns:
        if column.kind not in (Kind.ID, Kind.TEXT, Kind.ENUM):
            name = f"unreadable_{column.name}"
            checks[name] = Check(name, "hard", (column.name,), f"{column.name} could not be read")
    return checks


def _nulled(frame: pd.DataFrame, nulled: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the nulled cells empty; untouched columns are shared, not copied."""
    if nulled.empty:
        return frame
    changed = {}
    for column, group in nulled.groupby("column"):
        values = frame[str(column)]
        changed[str(column)] = values.mask(values.index.isin(group["source_line"].to_numpy()))
    return frame.assign(**changed)


def _without(typed: pd.DataFrame, lines: pd.Index) -> pd.DataFrame:
    """The typed rows but ``lines``; the frame itself when none go (``drop`` would copy it)."""
    return typed.drop(index=lines) if len(lines) else typed


def _typed_for_analysis(frame: pd.DataFrame, spec: Table) -> pd.DataFrame:
    """Accepted rows with enum columns as categoricals of the spec's codes.

    The other columns are shared with ``frame``, not copied (copy on write).
    """
    return frame.assign(
        **{
            column.name: pd.Categorical(frame[column.name], categories=list(column.codes))
            for column in spec.columns
            if column.kind == Kind.ENUM
        }
    )
