"""Columns computed before a suite runs: references, quarantined parents, repeated keys.

GX checks that a boolean companion column is true; this module computes the
companions with hash joins, which is what keeps validation fast:

- ``<column>__refers``: empty, or an id that exists in the drop. References
  are checked against every row *read* from the table they name, accepted or
  not, so that a row is never quarantined for another row's defect.
- ``<column>__parent_kept``: empty, or an id that is not the key of a
  quarantined row of the table it names (a soft check: the row is kept and
  the finding names the parent row and its defect).
- ``__first_copy``: not a later line repeating the key of an earlier one (a
  later copy is quarantined, the first one kept); ``__only_copy``: the key is
  on no other line (a soft finding on the first copy).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from anomaly.contracts.suites import (
    FIRST_COPY,
    ONLY_COPY,
    PARENT_SUFFIX,
    REFERENCE_SUFFIX,
    ContractSuite,
)
from anomaly.ingest.drop_loading import LoadedTable
from anomaly.registry.id_codes import among


@dataclass(frozen=True)
class ParentRows:
    """What children need to know of a table with a single key, once it is judged.

    ``ids``: every key read (accepted or quarantined). ``quarantined``: for
    each key of a quarantined row, where that row is and why it went
    (``facilities.csv line 14, quarantined: facility_id_unique``).
    """

    ids: pd.Series
    quarantined: pd.Series  # key -> text

    @classmethod
    def of(cls, loaded: LoadedTable, quarantine: pd.DataFrame) -> ParentRows:
        key = loaded.spec.key[0]
        lines = pd.to_numeric(quarantine["source_line"], errors="coerce")
        held = quarantine[lines.isin(loaded.typed.index).to_numpy()]
        held_lines = lines[held.index].astype(int).to_numpy()
        texts = pd.Series(
            [
                f"{loaded.raw.where(line)}, quarantined: {checks}"
                for line, checks in zip(held_lines, held["failed_checks"].astype(str), strict=True)
            ],
            index=loaded.typed[key].reindex(held_lines).to_numpy(),
        )
        texts = texts[texts.index.notna()]
        return cls(loaded.typed[key].dropna(), texts[~texts.index.duplicated()])


def with_companions(
    frame: pd.DataFrame,
    suite: ContractSuite,
    parents: dict[str, ParentRows],
    loaded: LoadedTable,
) -> pd.DataFrame:
    """The frame with every companion column its suite checks."""
    columns: dict[str, np.ndarray] = {}
    for column, reference in suite.references:
        values = frame[column]
        if reference.split(".")[0] == loaded.spec.name:  # self-reference: any id of this table
            targets = loaded.typed[reference.split(".")[1]].dropna()
        else:  # a table not delivered (optional) or without rows has no ids
            targets = parents[reference].ids if reference in parents else _no_ids()
        columns[column + REFERENCE_SUFFIX] = values.isna().to_numpy(dtype=bool) | among(
            values, targets
        )
    for column, reference in suite.parents:
        held = parents[reference].quarantined if reference in parents else pd.Series()
        found = among(frame[column], pd.Series(held.index, dtype="string"))
        columns[column + PARENT_SUFFIX] = ~found
    if suite.unique_key:
        later, repeated = repeated_keys(frame, suite.unique_key)
        columns[FIRST_COPY] = ~later
        columns[ONLY_COPY] = ~repeated
    return frame.assign(**columns) if columns else frame


def repeated_keys(frame: pd.DataFrame, key: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(later copies, every copy) of keys that more than one line holds; empty keys never count."""
    complete = frame[list(key)].notna().all(axis=1).to_numpy()
    keyed = frame.loc[complete, list(key)]
    later = np.zeros(len(frame), dtype=bool)
    repeated = np.zeros(len(frame), dtype=bool)
    later[complete] = keyed.duplicated(keep="first").to_numpy()
    repeated[complete] = keyed.duplicated(keep=False).to_numpy()
    return later, repeated


def first_lines(frame: pd.DataFrame, columns: tuple[str, ...], lines: pd.Index) -> pd.Series:
    """For each of ``lines``, the first line of ``frame`` with the same values in ``columns``.

    Only rows whose values repeat are grouped (nulls count as equal), so this
    is cheap when few do.
    """
    cells = frame[list(columns)]
    involved = cells[cells.duplicated(keep=False)]
    first = (
        involved.reset_index()
        .groupby(list(columns), dropna=False)[involved.index.name or "index"]
        .transform("min")
    )
    first.index = involved.index
    return first.reindex(lines)


def _no_ids() -> pd.Series:
    return pd.Series([], dtype="string")
