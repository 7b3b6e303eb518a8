"""Versions of a case: new evidence makes a new version of the same case, not a new case."""

from __future__ import annotations

import pandas as pd

from anomaly.ingest.record_schema import evidence_refs


def cites_more(evidence: pd.Series, earlier: pd.Series) -> pd.Series:
    """Where ``evidence`` cites a record ``earlier`` did not (no earlier evidence: True)."""
    more = [
        not isinstance(old, str) or bool(set(evidence_refs(e)) - set(evidence_refs(old)))
        for e, old in zip(evidence, earlier, strict=True)
    ]
    return pd.Series(more, index=evidence.index, dtype=bool)


def versioned(frame: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """``version`` of each case, and ``new_version`` where it cites evidence its latest did not."""
    frame = frame.merge(stored, on="case_id", how="left")
    frame["new_version"] = cites_more(frame["evidence"], frame["version_evidence"])
    version = frame["stored_version"].fillna(0).astype(int) + frame["new_version"].astype(int)
    frame["version"] = version
    return frame.drop(columns=["stored_version", "version_evidence"])
