"""Findings about a person outside the penal system: the network rules' common shape.

The record flagged is the person's row (``persons:person_id``), so that the
subject of the case is the person (``subject_type`` ``person``); the kinship
rows, registrations and visits that prove it are its evidence.
"""

from __future__ import annotations

import pandas as pd

from anomaly.registry.snapshot import Snapshot
from anomaly.rules.rule import Findings, flags, no_flags, none_insufficient


def person_flags(code: str, found: pd.DataFrame) -> pd.DataFrame:
    """One finding per row of ``found`` (person_id, explanation, score, evidence)."""
    if found.empty:
        return no_flags()
    rows = found.reset_index(drop=True)
    return flags(code, "persons", rows, rows["explanation"], rows["score"], rows["evidence"],
                 facility="facility_id")  # fmt: skip


def nothing_found() -> Findings:
    """A network rule that found no person: no flags, no subject left unjudged."""
    return Findings(no_flags(), none_insufficient())


def kin_ref(convict_id: pd.Series, person_id: pd.Series) -> pd.Series:
    """The reference of a kinship row, as the spec keys it (convict|person)."""
    return "kinship:" + convict_id.astype(str) + "|" + person_id.astype(str)


def long_visit_records(s: Snapshot, strangers: pd.DataFrame) -> pd.Series:
    """Per person, the long visits and registrations of the (person_id, convict_id) pairs of
    ``strangers`` (``;``-joined refs)."""
    pairs = pd.MultiIndex.from_arrays([strangers["person_id"], strangers["convict_id"]])
    parts = []
    for table, key in (("visit_logs", "visit_id"), ("long_visit_registrations", "registration_id")):
        if not s.has(table):
            continue
        frame = s[table]
        if "visit_type" in frame:
            frame = frame[frame["visit_type"].eq("long")]
        at = pd.MultiIndex.from_arrays([frame["visitor_person_id"].astype(str),
                                        frame["convict_id"].astype(str)])  # fmt: skip
        mine = frame[at.isin(pairs)]
        refs = pd.DataFrame({"person_id": mine["visitor_person_id"].astype(str),
                             "ref": table + ":" + mine[key].astype(str)})  # fmt: skip
        parts.append(refs.sort_values("ref", kind="stable"))  # in id order, as in any registry
    refs = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["person_id", "ref"])
    )
    return refs.groupby("person_id")["ref"].agg(";".join)
