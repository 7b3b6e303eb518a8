"""Validate a loaded drop against its data contracts: accept or quarantine every row.

A row is quarantined when it fails a ``hard`` check; it is kept, and the
finding reported, when it fails only ``soft`` ones. Besides the GX suites,
three checks belong to reading itself and are always hard:

- ``malformed_row``: the line could not be split into the header's columns;
- ``unreadable_<column>``: a cell held something that is not of its kind
  (a date that is not a date, an integer that is not an integer);
- ``repeated_row``: the same cells as an earlier line of the file (an export
  written twice); the first copy is kept.

Tables are validated in reference order, so a foreign key is checked against
the *accepted* rows of the table it names: a visit of a quarantined convict is
quarantined too, and its reason says so.

Invariant, checked on every table: rows read = rows accepted + rows quarantined.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from anomaly.contracts import (
    REFERENCE_SUFFIX,
    Check,
    ContractRunner,
    ContractSuite,
)
from anomaly.id_codes import among
from anomaly.record_schema import TABLES, Kind, Table
from anomaly.records import Drop, LoadedTable

READING_CHECKS = {
    "malformed_row": "the line does not split into the header's columns",
    "repeated_row": "the same cells as an earlier line (kept once)",
}
QUARANTINE_META = ["source_file", "source_line", "failed_checks", "reasons"]
FINDING_COLUMNS = ["table", "source_file", "source_line", "record", "check", "reason"]


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
    soft_findings: pd.DataFrame
    failures: pd.DataFrame  # source_line, check, severity: every failure, hard and soft
    extra_columns: tuple[str, ...]


@dataclass(frozen=True)
class ValidationResult:
    """Accepted frames, quarantine and findings of a whole drop."""

    drop: Drop
    tables: dict[str, TableOutcome]

    @property
    def accepted(self) -> dict[str, pd.DataFrame]:
        return {name: outcome.accepted for name, outcome in self.tables.items()}


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
    keys: dict[str, pd.Series] = {}
    for spec in TABLES:
        if spec.name not in drop.tables:
            continue
        if spec.name not in suites:
            raise KeyError(f"no data contract for table {spec.name}")
        loaded = drop.tables[spec.name]
        outcome = validate_table(loaded, suites[spec.name], runner, _parameters(drop), keys)
        outcomes[spec.name] = outcome
        for column in spec.key if len(spec.key) == 1 else ():
            keys[f"{spec.name}.{column}"] = outcome.accepted[column]
    return ValidationResult(drop, outcomes)


def _parameters(drop: Drop) -> dict[str, Any]:
    return {"extracted_at": drop.extracted_at.isoformat()}


def _with_reference_flags(
    frame: pd.DataFrame, suite: ContractSuite, keys: dict[str, pd.Series], loaded: LoadedTable
) -> pd.DataFrame:
    """The frame with a ``<column>__refers`` companion per referential check (a hash join)."""
    flags = {}
    for column, reference in suite.references:
        table, key = reference.split(".")
        if table == loaded.spec.name:  # self-reference: any id of this table
            targets = loaded.typed[key]
        else:  # a table not delivered (optional) or without rows has no keys
            targets = keys.get(reference, pd.Series([], dtype="string"))
        values = frame[column]
        found = among(values, targets.dropna())
        flags[column + REFERENCE_SUFFIX] = values.isna().to_numpy(dtype=bool) | found
    return frame.assign(**flags) if flags else frame


def validate_table(
    loaded: LoadedTable,
    suite: ContractSuite,
    runner: ContractRunner,
    parameters: dict[str, Any],
    keys: dict[str, pd.Series],
) -> TableOutcome:
    """Judge every row of one table; ``keys`` are the accepted keys of the tables before it."""
    repeated = _repeated_lines(loaded)
    frame = _with_reference_flags(_without(loaded.typed, repeated.index), suite, keys, loaded)
    contract_failures = runner.run(suite, frame, parameters)
    contract_failures = _without_unreadable_cells(contract_failures, loaded, suite)
    failures = pd.concat(
        [
            _unreadable_failures(loaded),
            pd.DataFrame({"source_line": repeated.index, "check": "repeated_row"}),
            contract_failures,
        ],
        ignore_index=True,
    )
    checks = _all_checks(suite, loaded.spec)
    failures["severity"] = failures["check"].map(lambda name: checks[name].severity)
    reasons = _reasons(failures, checks, loaded, repeated)
    hard_lines = pd.Index(failures.loc[failures["severity"] == "hard", "source_line"].unique())
    accepted = _typed_for_analysis(_without(loaded.typed, hard_lines), loaded.spec)
    quarantine = _quarantine(loaded, reasons, hard_lines)
    soft = reasons[(reasons["severity"] == "soft") & ~reasons["source_line"].isin(hard_lines)]
    outcome = TableOutcome(
        table=loaded.spec.name,
        source_file=loaded.raw.path.name,
        rows_read=loaded.rows_read,
        accepted=accepted,
        quarantine=quarantine,
        soft_findings=_findings(soft, loaded),
        failures=pd.concat(
            [
                failures,
                pd.DataFrame(
                    {
                        "source_line": loaded.raw.malformed["source_line"],
                        "check": "malformed_row",
                        "severity": "hard",
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


def _repeated_lines(loaded: LoadedTable) -> pd.Series:
    """Lines repeating an earlier line cell for cell, mapped to that earlier line."""
    cells = loaded.raw.cells
    duplicated = cells.duplicated(keep="first")
    if not duplicated.any():
        return pd.Series([], dtype="int64", index=pd.Index([], dtype="int64"))
    involved = cells[cells.duplicated(keep=False)]
    first_line = (
        involved.reset_index()
        .groupby(list(cells.columns), dropna=False)["source_line"]
        .transform("min")
    )
    first_line.index = involved.index
    return first_line[duplicated[duplicated].index]


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


def _reasons(
    failures: pd.DataFrame, checks: dict[str, Check], loaded: LoadedTable, repeated: pd.Series
) -> pd.DataFrame:
    """One readable sentence per failure: the check, what it demands, the values."""
    cells = loaded.raw.cells
    unreadable = loaded.unreadable.set_index(["source_line", "column"])["expected"]
    texts = []
    for line, name in zip(failures["source_line"], failures["check"], strict=True):
        check = checks[name]
        if name == "repeated_row":
            texts.append(f"repeated_row: same cells as line {repeated[line]} (that line is kept)")
            continue
        shown = ", ".join(f"{c}={_shown(cells.at[line, c])}" for c in check.columns)
        if name.startswith("unreadable_"):
            column = check.columns[0]
            texts.append(f"{name}: {shown} is not {unreadable[(line, column)]}")
        else:
            texts.append(f"{name}: {check.description} ({shown})")
    out = failures.copy()
    out["reason"] = texts
    return out


def _shown(value: object) -> str:
    return "empty" if pd.isna(value) else repr(str(value))


def _quarantine(loaded: LoadedTable, reasons: pd.DataFrame, hard_lines: pd.Index) -> pd.DataFrame:
    """Rejected rows as they came in, with file, line, failed checks and reasons."""
    hard = reasons[reasons["source_line"].isin(hard_lines)]
    grouped = hard.groupby("source_line", sort=True).agg(
        failed_checks=("check", lambda s: ";".join(dict.fromkeys(s))),
        reasons=("reason", lambda s: "; ".join(dict.fromkeys(s))),
    )
    rows = loaded.raw.cells.loc[grouped.index].astype("string")
    rows.insert(0, "source_line", grouped.index)
    rows.insert(0, "source_file", loaded.raw.path.name)
    rows["failed_checks"] = grouped["failed_checks"].to_numpy()
    rows["reasons"] = grouped["reasons"].to_numpy()
    malformed = loaded.raw.malformed
    if not malformed.empty:
        broken = pd.DataFrame(
            {
                "source_file": loaded.raw.path.name,
                "source_line": malformed["source_line"].to_numpy(),
                "raw_text": malformed["raw_text"].to_numpy(),
                "failed_checks": "malformed_row",
                "reasons": malformed["reason"].to_numpy(),
            }
        )
        rows = pd.concat([rows, broken], ignore_index=True)
    ordered = QUARANTINE_META[:2] + [c for c in rows.columns if c not in QUARANTINE_META]
    return rows.reset_index(drop=True)[ordered + QUARANTINE_META[2:]]


def _findings(soft: pd.DataFrame, loaded: LoadedTable) -> pd.DataFrame:
    if soft.empty:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    key = loaded.typed.loc[soft["source_line"], list(loaded.spec.key)].astype("string")
    record = key.fillna("").agg("|".join, axis=1).to_numpy()
    return pd.DataFrame(
        {
            "table": loaded.spec.name,
            "source_file": loaded.raw.path.name,
            "source_line": soft["source_line"].to_numpy(),
            "record": record,
            "check": soft["check"].to_numpy(),
            "reason": soft["reason"].to_numpy(),
        }
    )


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
