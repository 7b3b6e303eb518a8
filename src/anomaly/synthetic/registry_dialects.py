"""Registry dialects: lawful conventions a real registry may have and ours by default has not.

A real registry differs from our generator in ways no list can foresee. A
dialect varies one convention at a time (or several, ``mixed_conventions``)
while the same schemes are planted in every world, so that the quality figures
show whether the detectors hold up on conventions they were not built on. No
detector reads the dialect: it only changes what the records look like.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from anomaly.ingest.record_schema import TABLES, TABLES_BY_NAME


@dataclass(frozen=True)
class Dialect:
    """The conventions of one registry."""

    name: str
    description: str
    hospitals: bool = False  # hospitals with a security level receive medical stays, which return
    court_trips: bool = False  # convicts go to the pre-trial centre for a hearing and come back
    staff_moves: bool = False  # staff move between institutions; the staff table keeps the latest
    history_years: float = 12.0  # how far back the records of the convicts in custody go
    old_institutions: bool = False  # most institutions opened in the 1930s to 1950s
    court_level_current: bool = False  # court_security_level holds the court's latest decision
    late_offices: bool = False  # a few records offices enter everything 5 to 10 weeks late
    id_shape: str = "prefixed"  # prefixed (CV123), digits (000123) or uuid
    export_format: str = "spec"  # drop_writing.EXPORT_FORMATS


STANDARD = Dialect("standard", "the generator's own conventions")
DIALECTS: dict[str, Dialect] = {
    d.name: d
    for d in (
        STANDARD,
        Dialect("hospitals", "prison hospitals carrying a security level", hospitals=True),
        Dialect(
            "court_trips", "trips to a pre-trial centre for a hearing, and back", court_trips=True
        ),
        Dialect("staff_moves", "staff posted from one institution to another", staff_moves=True),
        Dialect(
            "long_histories",
            "records since intake decades back, institutions of the 1930s",
            history_years=30.0,
            old_institutions=True,
        ),
        Dialect(
            "court_level_current",
            "the court's type on file is its latest decision, after any change of type",
            court_level_current=True,
        ),
        Dialect(
            "late_offices",
            "a few institutions' records offices enter everything 5 to 10 weeks late",
            late_offices=True,
        ),
        Dialect("other_ids", "identifiers of other shapes (digits, uuids)", id_shape="mixed"),
        Dialect("legacy_export", "Windows-1251, ';', DD.MM.YYYY, 1/0", export_format="legacy"),
        Dialect(
            "mixed_conventions",
            "all of the above at once",
            hospitals=True,
            court_trips=True,
            staff_moves=True,
            history_years=30.0,
            old_institutions=True,
            court_level_current=True,
            id_shape="mixed",
            export_format="legacy",
        ),
    )
}


def dialect_named(name: str | Dialect) -> Dialect:
    if isinstance(name, Dialect):
        return name
    if name not in DIALECTS:
        raise KeyError(f"unknown dialect {name!r}; one of {', '.join(DIALECTS)}")
    return DIALECTS[name]


def with_export_format(dialect: Dialect, export_format: str) -> Dialect:
    return replace(dialect, export_format=export_format)


# -- ids of other shapes -------------------------------------------------------

SHAPE_BY_TABLE = {  # what an "other_ids" registry writes for each key
    "convicts": "digits",
    "persons": "digits",
    "staff": "digits",
    "facilities": "digits",
    "regions": "digits",
    "visit_logs": "uuid",
    "long_visit_registrations": "uuid",
    "transfers": "digits",
    "condition_changes": "uuid",
    "degree_assignments": "digits",
    "disciplinary_events": "uuid",
}


def reshaped_ids(
    tables: dict[str, pd.DataFrame], labels: list[dict], shape: str, rng: np.random.Generator
) -> None:
    """Give every key a new id of ``shape`` (``mixed``: per table as ``SHAPE_BY_TABLE``), in
    place: references and labels follow. Digit ids keep their leading zeros, as strings."""
    if shape == "prefixed":
        return
    renamed: dict[str, dict[str, str]] = {}
    for table in TABLES:
        if table.name not in tables or len(table.key) != 1:
            continue
        key = table.key[0]
        frame = tables[table.name]
        old = frame[key].astype(str).unique()
        new = _ids(SHAPE_BY_TABLE.get(table.name, "digits") if shape == "mixed" else shape,
                   len(old), rng)  # fmt: skip
        renamed[table.name] = dict(zip(old, new, strict=True))
    for name, frame in tables.items():
        for column in TABLES_BY_NAME[name].columns:
            target = column.references.split(".")[0] if column.references else None
            if column.name in TABLES_BY_NAME[name].key and len(TABLES_BY_NAME[name].key) == 1:
                target = name
            if target in renamed and column.name in frame.columns:
                frame[column.name] = _mapped(frame[column.name], renamed[target])
    subject_tables = {"convict": "convicts", "staff": "staff", "facility": "facilities",
                      "person": "persons"}  # fmt: skip
    for label in labels:
        subject = subject_tables.get(label["subject_type"], "")
        if subject in renamed:
            label["subject_id"] = renamed[subject].get(label["subject_id"], label["subject_id"])
        label["records"] = ";".join(
            _renamed_ref(ref, renamed) for ref in label["records"].split(";") if ref
        )


def _renamed_ref(ref: str, renamed: dict[str, dict[str, str]]) -> str:
    """A label's ``table:record``, with the new ids; a record keyed by two columns
    (``kinship:convict|person``) has each part renamed by the table it refers to."""
    table, _, record = ref.partition(":")
    spec = TABLES_BY_NAME.get(table)
    if spec is not None and len(spec.key) > 1:
        columns = {c.name: c for c in spec.columns}
        parts = record.split("|")
        targets = [(columns[k].references or "").split(".")[0] for k in spec.key]
        record = "|".join(
            renamed.get(t, {}).get(v, v) for t, v in zip(targets, parts, strict=False)
        )
        return f"{table}:{record}"
    return f"{table}:{renamed.get(table, {}).get(record, record)}"


def _mapped(values: pd.Series, mapping: dict[str, str]) -> pd.Series:
    text = values.astype(object)
    present = text.notna()
    out = text.copy()
    out[present] = text[present].astype(str).map(mapping).fillna(text[present].astype(str))
    return out


def _ids(shape: str, n: int, rng: np.random.Generator) -> list[str]:
    if shape == "uuid":
        raw = rng.integers(0, 2**63, size=(n, 2), dtype=np.int64)
        return [str(uuid.UUID(int=(int(a) << 64) | int(b), version=4)) for a, b in raw]
    width = max(6, len(str(10 * n)))
    numbers = rng.choice(10 ** min(width, 9), size=n, replace=False)
    return [f"{k:0{width}d}" for k in numbers]
