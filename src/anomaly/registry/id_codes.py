"""Id columns as integer codes, shared by every table that names the same thing.

Hashing id strings is most of the cost of a join on them. A snapshot interns
an id column once, on first use, and every rule after that joins convicts,
persons and institutions on integers.

The code of an id is its row in the table that defines it (``convicts``,
``persons``, ``facilities``, ``staff``), so any two columns of one domain are
coded alike without hashing them together. An id that table lacks (a
dangling reference; validation quarantines those, but a hand-made snapshot
may hold them) gets a code after the table's rows, the same code in every
column. A null id is -1 and never equals another id.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from anomaly.ingest.record_schema import TABLES_BY_NAME

NULL = -1
PAIR_WIDTH = 1 << 31  # codes stay below this (two billion ids per domain)


class IdCodes:
    """Interned id columns of a set of tables (name -> frame), coded on first request."""

    def __init__(self, tables: dict[str, pd.DataFrame]) -> None:
        self._tables = tables
        self._codes: dict[tuple[str, str], np.ndarray] = {}
        self._known: dict[str, pa.Array] = {}
        self._strays: dict[str, dict[str, int]] = {}

    def __call__(self, table: str, column: str) -> np.ndarray:
        """int64 codes of ``table.column``, row for row (-1 where null)."""
        if (table, column) not in self._codes:
            self._codes[table, column] = self._intern(table, column)
        return self._codes[table, column]

    def pair(self, table: str, first: str, second: str) -> np.ndarray:
        """One int64 code per (first, second) pair of ``table``'s columns; -1 if either is null."""
        a, b = self(table, first), self(table, second)
        return np.where((a == NULL) | (b == NULL), NULL, a * PAIR_WIDTH + b)

    def _intern(self, table: str, column: str) -> np.ndarray:
        domain = _domain(table, column)
        values = _arrow(self._tables[table][column])
        known = self._domain_keys(domain)
        found = pc.index_in(values, value_set=known.cast(values.type))
        out = pc.fill_null(found, NULL).to_numpy().astype(np.int64)
        stray = (out == NULL) & pc.is_valid(values).to_numpy(zero_copy_only=False)
        if stray.any():
            out[stray] = self._stray_codes(domain, values.filter(pa.array(stray)), len(known))
        return out

    def _stray_codes(self, domain: str, values: pa.ChunkedArray, offset: int) -> np.ndarray:
        strays = self._strays.setdefault(domain, {})
        listed = values.to_pylist()  # few: validation quarantines dangling references
        for value in listed:
            strays.setdefault(value, offset + len(strays))
        return np.array([strays[v] for v in listed], dtype=np.int64)

    def _domain_keys(self, domain: str) -> pa.Array:
        if domain not in self._known:
            table, column = domain.split(".")
            frame = self._tables.get(table)
            keys = _arrow(frame[column]) if frame is not None else pa.chunked_array([], pa.string())
            self._known[domain] = keys.combine_chunks()
        return self._known[domain]


def among(values: pd.Series, keys: pd.Series) -> np.ndarray:
    """Whether each id in ``values`` is one of ``keys`` (a null never is), as a bool array.

    A pyarrow hash lookup: pandas' ``isin`` on arrow strings converts the keys
    one by one in Python, seconds for a million keys.
    """
    values_arrow = _arrow(values)
    key_set = _arrow(keys).combine_chunks().cast(values_arrow.type)
    found = pc.is_in(values_arrow, value_set=key_set, skip_nulls=True)
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


def _domain(table: str, column: str) -> str:
    """``"table.column"`` of the key a column holds: where it refers to, or itself."""
    spec = TABLES_BY_NAME[table].column(column)
    return spec.references or f"{table}.{column}"


def _arrow(values: pd.Series) -> pa.ChunkedArray:
    if not isinstance(values.dtype, pd.StringDtype) or values.dtype.storage != "pyarrow":
        values = values.astype("string[pyarrow]")
    return pa.chunked_array(values)
