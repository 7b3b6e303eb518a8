"""Rows broken the way real registry exports break, with their own truth file.

Real exports carry typos in dates, codes the exporter never heard of,
references to records that were deleted, and ids reused by a later entry. A
share of the event rows, and of the convict and staff rows, of a synthetic
drop is broken in one of these ways after the drop is rendered as text, and
each broken row is listed (table, source line, defect, column) so that
``anomaly evaluate`` can count how many validation caught (quarantined, or
kept with the broken cell nulled and reported) and check that no clean row
was quarantined.

Rows cited by a planted scheme or a hard negative, and the convicts and staff
they concern, are never broken: noise is meant to test validation, not to
hide the schemes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.ingest.record_schema import TABLES_BY_NAME, Kind, entered_by

NOISE_COLUMNS = ["table", "source_line", "record_id", "defect", "column", "written"]

NOISY_TABLES = (
    "convicts",
    "staff",
    "visit_logs",
    "long_visit_registrations",
    "degree_assignments",
    "condition_changes",
    "disciplinary_events",
    "transfers",
)
"""Event tables, and the master rows of people. A master row never gets a reused id: the
id it loses would leave every record of its own person pointing nowhere."""
MASTER_TABLES = {"convicts", "staff"}


HARD_REFERENCES = {"convicts", "facilities", "persons"}
"""Tables a dangling reference to must quarantine the row. A dangling staff or
registration reference is a soft finding in our contracts (the row is kept and
reported), so it is not used as noise that the quarantine should catch."""


def add_export_noise(
    texts: dict[str, pd.DataFrame],
    share: float,
    rng: np.random.Generator,
    protected: set[str],
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Break about ``share`` of the event rows; return the new text tables and the truth.

    ``texts`` are tables as written (strings, one row per CSV line in order);
    ``protected`` holds ``table:record_id`` references that must stay intact.
    """
    out = dict(texts)
    truth: list[dict] = []
    protected = protected | _people_of(texts, protected)
    for table in NOISY_TABLES:
        frame = texts[table].copy()
        key = TABLES_BY_NAME[table].key[0]
        refs = table + ":" + frame[key].astype(str)
        candidates = np.flatnonzero(~refs.isin(protected).to_numpy())
        n = min(len(candidates) // 2, int(round(share * len(frame))))
        if n == 0:
            continue
        chosen = rng.choice(candidates, size=n, replace=False)
        untouched = np.setdiff1d(candidates, chosen)  # ids to copy must stay as they are
        targets = _targets(table)
        defects = rng.choice(sorted(targets), size=n)
        for position, defect in zip(chosen, defects, strict=True):
            if defect == "duplicate_id" and not (untouched < position).any():
                defect = "bad_date"  # no earlier row whose number a later entry could reuse
            columns = targets[defect]
            column = columns[int(rng.integers(len(columns)))]
            written = _break(frame, table, int(position), defect, column, untouched, rng)
            truth.append(
                {
                    "table": table,
                    "source_line": int(position) + 2,  # line 1 is the header
                    "record_id": texts[table].iat[int(position), frame.columns.get_loc(key)],
                    "defect": defect,
                    "column": column,
                    "written": written,
                }
            )
        out[table] = frame
    return out, pd.DataFrame(truth, columns=NOISE_COLUMNS)


def _people_of(texts: dict[str, pd.DataFrame], protected: set[str]) -> set[str]:
    """``convicts:ID`` and ``staff:ID`` of every convict and staff member a protected row names."""
    people: set[str] = set()
    for table in NOISY_TABLES:
        if table in MASTER_TABLES:
            continue
        frame = texts[table]
        key = TABLES_BY_NAME[table].key[0]
        cited = frame[(table + ":" + frame[key].astype(str)).isin(protected)]
        people |= set("convicts:" + cited["convict_id"].dropna().astype(str))
        people |= set("staff:" + cited[entered_by(table)].dropna().astype(str))
    return people


def _targets(table: str) -> dict[str, list[str]]:
    """The columns each defect can hit in ``table`` (defects with none are left out)."""
    spec = TABLES_BY_NAME[table]
    master = table in MASTER_TABLES
    targets = {
        "bad_date": [c.name for c in spec.columns if c.kind in (Kind.DATE, Kind.TIMESTAMP)],
        "unknown_code": [c.name for c in spec.columns if c.kind == Kind.ENUM],
        "dangling_reference": [
            c.name
            for c in spec.columns
            if c.references and (master or c.references.split(".")[0] in HARD_REFERENCES)
        ],
        "duplicate_id": [] if master else [spec.key[0]],
    }
    return {defect: columns for defect, columns in targets.items() if columns}


def _break(
    frame: pd.DataFrame,
    table: str,
    position: int,
    defect: str,
    column: str,
    untouched: np.ndarray,
    rng: np.random.Generator,
) -> str:
    """Write one defect into one cell of one row; return the text written."""
    key = TABLES_BY_NAME[table].key[0]
    if defect == "bad_date":
        written = rng.choice(["2023-02-30", "31/12/2023", "2023-13-01", "00.00.0000"])
    elif defect == "unknown_code":
        written = rng.choice(["UNKNOWN", "n/a", "другое", "9"])
    elif defect == "dangling_reference":
        written = f"DELETED-{int(rng.integers(10**6)):06d}"
    else:  # the id of an earlier row left intact: a later entry reusing a number
        earlier = untouched[untouched < position]
        other = int(rng.choice(earlier)) if len(earlier) else int(rng.choice(untouched))
        written = frame.iat[other, frame.columns.get_loc(key)]
    frame.iat[position, frame.columns.get_loc(column)] = str(written)
    return str(written)
