"""The accepted records of one drop, as the rules and detectors read them.

A snapshot holds the typed, accepted rows of every delivered table, the rule
book in force and the extraction time, plus the derived views several rules
share (where each convict was, which condition and degree held on a date,
id columns as integer codes). Derived views are computed once, on first use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import pandas as pd

from anomaly.ingest.record_schema import TABLES_BY_NAME, entered_by
from anomaly.registry.id_codes import IdCodes
from anomaly.registry.institution_roles import infer_roles
from anomaly.registry.placement_history import stays_from_transfers
from anomaly.rulebook import Rulebook

NULLED_COLUMNS = ["table", "source_line", "column"]
QUARANTINED_COLUMNS = ["table", "source_line", "convict_id", "facility_id", "staff_id"]


def quarantined_subjects(quarantine: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Whose rows were quarantined, from the quarantine frames by table (raw cells)."""
    parts = [pd.DataFrame(columns=QUARANTINED_COLUMNS)]
    for table, frame in quarantine.items():
        if frame.empty:
            continue
        staff = entered_by(table)
        part = pd.DataFrame({"table": table, "source_line": frame["source_line"].to_numpy()})
        for column, source in (("convict_id", "convict_id"), ("facility_id", "facility_id"),
                               ("staff_id", staff)):  # fmt: skip
            values = frame[source] if source in frame.columns else pd.Series(pd.NA, frame.index)
            part[column] = values.astype("string").str.strip().to_numpy()
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


@dataclass(frozen=True)
class Snapshot:
    """Accepted tables (name -> typed frame) of one drop, with the rule book."""

    tables: dict[str, pd.DataFrame]
    rulebook: Rulebook
    extracted_at: pd.Timestamp
    missing: frozenset[str] = field(default=frozenset())
    nulled: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=NULLED_COLUMNS))
    """Cells validation nulled on kept rows (table, source_line, column): a rule that reads
    one judges its subject as insufficient data, never as clear (``scoring.rule_engine``)."""
    quarantined: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=QUARANTINED_COLUMNS)
    )
    """Whose rows validation quarantined (table, source_line and the raw convict_id,
    facility_id and staff cells): a rule judges those subjects on incomplete records."""

    @classmethod
    def of(
        cls,
        tables: dict[str, pd.DataFrame],
        rulebook: Rulebook,
        extracted_at: pd.Timestamp,
        missing: tuple[str, ...] | frozenset[str] = (),
        nulled: pd.DataFrame | None = None,
        quarantined: pd.DataFrame | None = None,
    ) -> Snapshot:
        """A snapshot of accepted tables; coded columns become plain strings for the rules."""
        plain = {name: _plain_codes(frame) for name, frame in tables.items()}
        cells = pd.DataFrame(columns=NULLED_COLUMNS) if nulled is None else nulled[NULLED_COLUMNS]
        held = (
            pd.DataFrame(columns=QUARANTINED_COLUMNS)
            if quarantined is None
            else quarantined.reindex(columns=QUARANTINED_COLUMNS)
        )
        return cls(plain, rulebook, pd.Timestamp(extracted_at), frozenset(missing), cells, held)

    def nulled_rows(self, table: str, column: str) -> pd.DataFrame:
        """The accepted rows of ``table`` whose ``column`` validation nulled."""
        cells = self.nulled[self.nulled["table"].eq(table) & self.nulled["column"].eq(column)]
        frame = self.tables.get(table)
        if frame is None or cells.empty:
            return pd.DataFrame(columns=[] if frame is None else frame.columns)
        return frame[frame.index.isin(cells["source_line"].astype(int).to_numpy())]

    def was_nulled(self, table: str, column: str, ids: pd.Series) -> pd.Series:
        """Whether the row of ``table`` each id names had its ``column`` nulled (single keys)."""
        key = TABLES_BY_NAME[table].key[0]
        nulled = self.nulled_rows(table, column)[key].astype(str)
        return ids.astype("string").isin(set(nulled)).fillna(False).astype(bool)

    def by_record(self, table: str, column: str) -> pd.Series:
        """``column`` of ``table`` indexed by the record id as text (single keys; the first
        row of a repeated id), to look up the records a set of flags names."""
        cache = self.__dict__.setdefault("_by_record", {})
        if (table, column) not in cache:
            frame = self.tables[table]
            values = pd.Series(
                frame[column].to_numpy(), index=frame[TABLES_BY_NAME[table].key[0]].astype(str)
            )
            cache[(table, column)] = values[~values.index.duplicated()]
        return cache[(table, column)]

    def has(self, *names: str) -> bool:
        """Whether every named table was delivered."""
        return all(name in self.tables and name not in self.missing for name in names)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    @cached_property
    def ids(self) -> IdCodes:
        """Id columns as shared integer codes (``s.ids("visit_logs", "convict_id")``), for joins."""
        return IdCodes(self.tables)

    @cached_property
    def level(self) -> pd.Series:
        """Security level by facility_id."""
        f = self.tables["facilities"]
        return pd.Series(f["security_level"].to_numpy(), index=f["facility_id"].to_numpy())

    @cached_property
    def stays(self) -> pd.DataFrame:
        """Where each convict was: convict_id, facility_id, start, end (days inclusive)."""
        return stays_from_transfers(
            self.tables["transfers"], self.tables["convicts"], self.extracted_at
        )

    @cached_property
    def roles(self) -> pd.DataFrame:
        """What each institution is, inferred from its records (``registry.institution_roles``)."""
        return infer_roles(
            self.tables["facilities"],
            self.tables["transfers"],
            self.stays,
            self.tables["convicts"],
            self.rulebook,
        )

    def with_stays(self, stays: pd.DataFrame) -> Snapshot:
        """This snapshot with ``stays`` given, not derived from its own transfers.

        For a partition of convicts: an institution's occupancy counts every
        convict in it, so the stays of the whole registry are handed in.
        """
        snapshot = Snapshot(
            self.tables, self.rulebook, self.extracted_at, self.missing, self.nulled,
            self.quarantined,
        )  # fmt: skip
        snapshot.__dict__["stays"] = stays  # fills the cached property
        return snapshot

    def rule_level(self, facility_ids: pd.Series) -> pd.Series:
        """The level whose rules apply (mixed institutions follow medium, as assumed)."""
        level = facility_ids.map(self.level)
        if self.rulebook.conditions.mixed_as_medium.value:
            level = level.where(level.ne("mixed"), "medium")
        return level


def as_of(
    events: pd.DataFrame,
    on: str,
    history: pd.DataFrame,
    history_on: str,
    columns: list[str],
    by: str = "convict_id",
) -> pd.DataFrame:
    """For each event row, the latest history row of the same ``by`` dated on or before it.

    Returns a frame indexed like ``events`` with ``columns`` (null where none).
    """
    left = events[[by, on]].reset_index(names="_row")
    left["_at"] = left[on].astype("datetime64[us]")
    right = history[[by, *columns]].assign(_at_history=history[history_on].astype("datetime64[us]"))
    if not pd.api.types.is_integer_dtype(left[by]):  # ids, unless given as integer codes
        left[by] = left[by].astype(str)
        right = right.assign(**{by: history[by].astype(str)})
    right = right.dropna(subset=["_at_history"])
    merged = pd.merge_asof(
        left.drop(columns=[on]).sort_values("_at", kind="stable"),
        right.sort_values("_at_history", kind="stable"),
        left_on="_at",
        right_on="_at_history",
        by=by,
        direction="backward",
    )
    return merged.set_index("_row").reindex(events.index)[columns]


def _plain_codes(frame: pd.DataFrame) -> pd.DataFrame:
    coded = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    if not coded:
        return frame
    return frame.assign(**{c: frame[c].astype("string") for c in coded})
