"""The data contracts: Great Expectations suites stored as files, run on typed tables.

One suite per table lives in ``data_contracts/<table>.json`` in the GX Core 1.x
suite format, so that a reviewer reads and versions them like code. Every
expectation carries in its ``meta``:

- ``check``: a short name, unique in its suite, used in quarantine reasons;
- ``severity``: ``hard`` (the cell is broken: unreadable, impossible, an
  unknown code, a repeated id...) or ``soft`` (merely unusual: kept, reported);
- ``description``: one sentence a data provider understands;
- ``why``: why the check is hard or soft.

The suite's own ``meta`` names the ``identity_columns`` of the table: a hard
failure quarantines a row only when every cell it concerns is one of them;
otherwise the broken cell is nulled and the row kept (``contracts.validation``).

Suite parameters are filled in at run time from the drop's extraction date:
``extracted_at``, ``a_century_before_extraction`` and ``oldest_birth`` (120
years before it). Referential integrity and repeated keys are joins, not
value sets: before a suite runs, each referencing column ``c`` gets boolean
companions ``c__refers`` (empty, or an id present in the drop) and
``c__parent_kept`` (empty, or not the id of a quarantined row), and a keyed
table ``__first_copy`` and ``__only_copy`` (``contracts.companions``); the
suite expects them to be true. Such an expectation says in its meta which
column it ``reads`` and which ``table.column`` it ``references`` (or is the
``parent`` of). (Passing the keys as a value set made GX copy a list of up to
hundreds of thousands of ids for every metric it built: the join is over 100
times faster on a national drop.)
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from anomaly.known_failures import KnownFailure
from anomaly.shipped_files import shipped_folder

Severity = Literal["hard", "soft"]
REFERENCE_SUFFIX = "__refers"
PARENT_SUFFIX = "__parent_kept"
FIRST_COPY = "__first_copy"
ONLY_COPY = "__only_copy"
DEFAULT_CONTRACTS = shipped_folder("data_contracts")
FAILURE_COLUMNS = ["source_line", "check"]


class ContractError(KnownFailure, RuntimeError):
    """A suite that cannot be loaded, or an expectation that could not run."""


@dataclass(frozen=True)
class Check:
    """What one expectation of a suite checks, as the quarantine reports it."""

    name: str
    severity: Severity
    columns: tuple[str, ...]
    description: str
    parent: str | None = None  # "table.column" whose quarantined rows this check reports
    companion: str | None = None  # the computed column the expectation reads, if any


@dataclass(frozen=True)
class ContractSuite:
    """A table's suite: the GX suite definition and its checks by name."""

    table: str
    path: Path
    definition: dict[str, Any]
    checks: dict[str, Check]

    @property
    def references(self) -> tuple[tuple[str, str], ...]:
        """(column, ``table.column`` it points to) of every referential check."""
        return self._meta_pairs("references")

    @property
    def parents(self) -> tuple[tuple[str, str], ...]:
        """(column, ``table.column``) of every check that reports a quarantined parent row."""
        return self._meta_pairs("parent")

    @property
    def unique_key(self) -> tuple[str, ...]:
        """The columns that must identify one row (empty when nothing must)."""
        for expectation in self.definition["expectations"]:
            if expectation["kwargs"].get("column") == FIRST_COPY:
                return _reads(expectation["meta"])
        return ()

    @property
    def identity_columns(self) -> frozenset[str]:
        """Cells a row cannot be understood without: a hard failure on them quarantines it."""
        return frozenset(self.definition.get("meta", {}).get("identity_columns", {}))

    def _meta_pairs(self, key: str) -> tuple[tuple[str, str], ...]:
        found = []
        for expectation in self.definition["expectations"]:
            meta = expectation.get("meta", {})
            if key in meta:
                found.append((meta["reads"], meta[key]))
        return tuple(found)


def contracts_folder(folder: Path | str | None = None) -> Path:
    """The folder of suites: the argument, ``$ANOMALY_CONTRACTS``, or the shipped ones."""
    chosen = Path(folder or os.environ.get("ANOMALY_CONTRACTS") or DEFAULT_CONTRACTS)
    if not chosen.is_dir():
        raise ContractError(f"{chosen}: data contracts folder not found")
    return chosen


def load_contracts(folder: Path | str | None = None) -> dict[str, ContractSuite]:
    """Read every ``<table>.json`` suite of the folder."""
    suites = {}
    for path in sorted(contracts_folder(folder).glob("*.json")):
        suite = _load_suite(path)
        suites[suite.table] = suite
    return suites


def _load_suite(path: Path) -> ContractSuite:
    try:
        definition = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ContractError(f"{path}: not a readable suite: {error}") from error
    checks: dict[str, Check] = {}
    for number, expectation in enumerate(definition.get("expectations", []), start=1):
        meta = expectation.get("meta", {})
        name, severity = meta.get("check"), meta.get("severity")
        if not name or severity not in ("hard", "soft"):
            raise ContractError(
                f"{path}: expectation {number} needs meta.check and meta.severity hard|soft"
            )
        if name in checks:
            raise ContractError(f"{path}: check {name!r} is defined twice")
        columns = _reads(meta) if "reads" in meta else _columns(expectation["kwargs"])
        description = meta.get("description", "")
        column = expectation["kwargs"].get("column", "")
        companion = column if "__" in column else None  # computed before the suite runs
        checks[name] = Check(name, severity, columns, description, meta.get("parent"), companion)
    table = definition.get("meta", {}).get("table") or path.stem
    if "identity_columns" not in definition.get("meta", {}):
        raise ContractError(f"{path}: the suite's meta needs identity_columns")
    return ContractSuite(table, path, definition, checks)


def _reads(meta: Mapping[str, Any]) -> tuple[str, ...]:
    reads = meta["reads"]
    return (reads,) if isinstance(reads, str) else tuple(reads)


def _columns(kwargs: Mapping[str, Any]) -> tuple[str, ...]:
    if "column" in kwargs:
        return (kwargs["column"],)
    if "column_A" in kwargs:
        return (kwargs["column_A"], kwargs["column_B"])
    return tuple(kwargs.get("column_list", ()))


class ContractRunner:
    """An ephemeral Great Expectations context that runs suites on frames."""

    def __init__(self) -> None:
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx  # heavy: imported only when contracts run

        for name, logger in logging.root.manager.loggerDict.items():
            if name.startswith("great_expectations.") and isinstance(logger, logging.Logger):
                logger.setLevel(logging.NOTSET)  # GX sets some to INFO: follow the parent's level

        self._gx = gx
        self._context = gx.get_context(mode="ephemeral")
        self._context.variables.progress_bars = {"globally": False}  # type: ignore[assignment]
        self._source = self._context.data_sources.add_pandas("drop")

    def run(
        self, suite: ContractSuite, frame: pd.DataFrame, parameters: Mapping[str, Any]
    ) -> pd.DataFrame:
        """Run a suite on a frame indexed by source line.

        Returns
        -------
        pandas.DataFrame
            One row per (source_line, check) that failed.

        Raises
        ------
        ContractError
            When an expectation raised instead of answering: a check that
            could not run is never taken as passed.
        """
        if frame.empty:
            return pd.DataFrame(columns=FAILURE_COLUMNS)
        gx_suite = self._gx.ExpectationSuite(**json.loads(json.dumps(suite.definition)))
        frame = gx_ready(frame)
        asset = self._source.add_dataframe_asset(f"{suite.table}_{id(frame)}")
        batch = asset.add_batch_definition_whole_dataframe("whole").get_batch(
            # an unnamed index makes GX report bare index values (source lines)
            batch_parameters={"dataframe": frame.rename_axis(None)}
        )
        result = batch.validate(
            gx_suite,
            result_format={
                "result_format": "COMPLETE",
                "partial_unexpected_count": 0,
                "return_unexpected_index_query": False,
            },
            expectation_parameters=dict(parameters),
        )
        self._source.delete_asset(asset.name)
        return _failures(suite, result.results)


NS_RANGE = (pd.Timestamp("1678-01-01"), pd.Timestamp("2262-01-01"))


def gx_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame in the dtypes GX checks with vectorised code instead of a Python loop per row.

    GX compares ``datetime64[ns]`` and plain ``int``/``float`` columns in bulk
    but calls a Python function per value for anything else (our dates are
    ``datetime64[us]``, our integers nullable ``Int64``). Dates outside the
    nanosecond range are clipped to its ends, which lie outside every range
    the suites allow, so such rows still fail.
    """
    changed = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_dtype(values.dtype) and values.dtype != "datetime64[ns]":
            changed[column] = values.clip(*NS_RANGE).astype("datetime64[ns]")
        elif isinstance(values.dtype, pd.Int64Dtype):
            changed[column] = values.astype("float64")
    return frame.assign(**changed) if changed else frame


def _failures(suite: ContractSuite, results: list[Any]) -> pd.DataFrame:
    parts = []
    for outcome in results:
        check = outcome.expectation_config.meta["check"]
        if message := _exception_message(outcome.exception_info):
            raise ContractError(f"{suite.path.name}: check {check} could not run: {message}")
        if outcome.success:
            continue
        lines = outcome.result.get("unexpected_index_list") or []
        parts.append(pd.DataFrame({"source_line": list(lines), "check": check}))
    if not parts:
        return pd.DataFrame(columns=FAILURE_COLUMNS)
    return pd.concat(parts, ignore_index=True)


def _exception_message(info: Mapping[str, Any]) -> str | None:
    """The error an expectation raised, if any.

    GX reports it either flat or nested by the metric that failed.
    """
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for nested in info.values():
        if isinstance(nested, Mapping) and nested.get("raised_exception"):
            return str(nested.get("exception_message"))
    return None
