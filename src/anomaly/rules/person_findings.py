"""Findings about a person outside the penal system: the network rules' common shape.

The record flagged is the person's row (``persons:person_id``), so that the
subject of the case is the person (``subject_type`` ``person``); the kinship
rows, registrations and visits that prove it are its evidence.
"""

from __future__ import annotations

import pandas as pd

from anomaly.rules.rule import flags, no_flags


def person_flags(code: str, found: pd.DataFrame) -> pd.DataFrame:
    """One finding per row of ``found`` (person_id, explanation, score, evidence)."""
    if found.empty:
        return no_flags()
    rows = found.reset_index(drop=True)
    return flags(code, "persons", rows, rows["explanation"], rows["score"], rows["evidence"],
                 facility="facility_id")  # fmt: skip


def kin_ref(convict_id: pd.Series, person_id: pd.Series) -> pd.Series:
    """The reference of a kinship row, as the spec keys it (convict|person)."""
    return "kinship:" + convict_id.astype(str) + "|" + person_id.astype(str)
