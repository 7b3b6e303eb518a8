"""The tables of a registry drop, as fixed by the record exchange specification v1.

This module says what columns each table has and of which logical kind; it is
what the loader needs to turn cells into typed values. The checks on the values
(nullability, ranges, enum sets, date order, references) are the data
contracts in ``data_contracts/``; ``tests/test_data_contracts.py`` keeps the two
in agreement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """Logical kind of a column, which decides how a cell is parsed."""

    ID = "id"  # opaque identifier, kept as a string (never parsed)
    TEXT = "text"
    ENUM = "enum"
    INT = "int"
    FLOAT = "float"
    DATE = "date"
    TIMESTAMP = "timestamp"
    BOOL = "bool"


SECURITY_LEVELS = ("minimum", "medium", "maximum", "extreme", "complete", "mixed", "juvenile")
CONDITIONS = ("regular", "strict", "light", "preferential")
SEX = ("M", "F")
INCENTIVE_MEASURES = (
    "gratitude",
    "extra_parcel",
    "extra_short_visit",
    "extra_long_visit",
    "early_lift",
    "other",
)
PENALTY_MEASURES = (
    "warning",
    "reprimand",
    "isolation",
    "cell_type_premises",
    "malicious_violator",
    "other",
)

# Other spellings of enum codes met in real exports, mapped explicitly. Anything
# not listed here and not a code is left as it came and fails its contract.
ENUM_ALIASES: dict[str, dict[str, str]] = {
    "security_level": {"high security": "extreme", "high_security": "extreme"},
    "court_security_level": {"high security": "extreme", "high_security": "extreme"},
}


@dataclass(frozen=True)
class Column:
    """One column of a table: its name, kind and, for enums, the codes."""

    name: str
    kind: Kind
    codes: tuple[str, ...] = ()
    nullable: bool = False
    references: str | None = None  # "table.column" this column points to


@dataclass(frozen=True)
class Table:
    """One table of a drop."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    optional: bool = False

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name} has no column {name}")


def _c(name: str, kind: Kind, *codes: str, null: bool = False, ref: str | None = None) -> Column:
    return Column(name, kind, tuple(codes), null, ref)


ID, TEXT, ENUM, INT, FLOAT = Kind.ID, Kind.TEXT, Kind.ENUM, Kind.INT, Kind.FLOAT
DATE, TS, BOOL = Kind.DATE, Kind.TIMESTAMP, Kind.BOOL

TABLES: tuple[Table, ...] = (
    Table(
        "regions",
        (_c("region_id", ID), _c("name", TEXT), _c("lat", FLOAT), _c("lon", FLOAT)),
        key=("region_id",),
    ),
    Table(
        "facilities",
        (
            _c("facility_id", ID),
            _c("name", TEXT),
            _c("region_id", ID, ref="regions.region_id"),
            _c("security_level", ENUM, *SECURITY_LEVELS),
            _c("capacity", INT),
            _c("long_visit_rooms", INT),
            _c("opened_on", DATE),
            _c("closed_on", DATE, null=True),
        ),
        key=("facility_id",),
    ),
    Table(
        "staff",
        (
            _c("staff_id", ID),
            _c("facility_id", ID, ref="facilities.facility_id"),
            _c(
                "role",
                ENUM,
                "head",
                "deputy_head",
                "commission_member",
                "duty_officer",
                "visits_officer",
                "records_officer",
                "committee",
            ),
            _c("from_date", DATE),
            _c("to_date", DATE, null=True),
        ),
        key=("staff_id",),
    ),
    Table(
        "convicts",
        (
            _c("convict_id", ID),
            _c("sex", ENUM, *SEX),
            _c("birth_date", DATE),
            _c("home_region_id", ID, ref="regions.region_id"),
            _c("sentence_start", DATE),
            _c("sentence_end", DATE, null=True),
            _c("court_security_level", ENUM, *SECURITY_LEVELS),
            _c("offense_gravity", ENUM, "minor", "medium", "grave", "especially_grave"),
            _c("released_on", DATE, null=True),
        ),
        key=("convict_id",),
    ),
    Table(
        "persons",
        (
            _c("person_id", ID),
            _c("sex", ENUM, *SEX),
            _c("birth_date", DATE, null=True),
            _c("region_id", ID, null=True, ref="regions.region_id"),
            _c("death_date", DATE, null=True),
            _c("convict_id", ID, null=True, ref="convicts.convict_id"),
        ),
        key=("person_id",),
    ),
    Table(
        "kinship",
        (
            _c("convict_id", ID, ref="convicts.convict_id"),
            _c("person_id", ID, ref="persons.person_id"),
            _c(
                "relation",
                ENUM,
                "spouse",
                "parent",
                "child",
                "sibling",
                "grandparent",
                "grandchild",
                "common_child_parent",
                "other",
            ),
            _c("registered_on", DATE),
            _c("registered_by", ID, null=True, ref="staff.staff_id"),
            _c("document_no", TEXT, null=True),
        ),
        key=("convict_id", "person_id"),
    ),
    Table(
        "disciplinary_events",
        (
            _c("event_id", ID),
            _c("convict_id", ID, ref="convicts.convict_id"),
            _c("facility_id", ID, ref="facilities.facility_id"),
            _c("occurred_on", DATE),
            _c("kind", ENUM, "incentive", "penalty"),
            _c("measure", ENUM, *dict.fromkeys(INCENTIVE_MEASURES + PENALTY_MEASURES)),
            _c("isolation_days", INT, null=True),
            _c("lifts_event_id", ID, null=True, ref="disciplinary_events.event_id"),
            _c("decided_by", ID, ref="staff.staff_id"),
            _c("recorded_at", TS),
        ),
        key=("event_id",),
    ),
    Table(
        "long_visit_registrations",
        (
            _c("registration_id", ID),
            _c("convict_id", ID, ref="convicts.convict_id"),
            _c("facility_id", ID, ref="facilities.facility_id"),
            _c("visitor_person_id", ID, ref="persons.person_id"),
            _c("requested_on", DATE),
            _c("decided_on", DATE, null=True),
            _c("decision", ENUM, "approved", "rejected", "pending"),
            _c("decided_by", ID, null=True, ref="staff.staff_id"),
            _c("planned_start", DATE),
            _c("planned_days", INT),
            _c("basis", ENUM, "quota", "incentive"),
            _c("incentive_event_id", ID, null=True, ref="disciplinary_events.event_id"),
            _c("recorded_at", TS),
        ),
        key=("registration_id",),
    ),
    Table(
        "visit_logs",
        (
            _c("visit_id", ID),
            _c("convict_id", ID, ref="convicts.convict_id"),
            _c("facility_id", ID, ref="facilities.facility_id"),
            _c("visitor_person_id", ID, null=True, ref="persons.person_id"),
            _c("accompanying", INT),
            _c("visit_type", ENUM, "short", "long"),
            _c("started_at", TS),
            _c("ended_at", TS),
            _c("room", TEXT, null=True),
            _c(
                "registration_id",
                ID,
                null=True,
                ref="long_visit_registrations.registration_id",
            ),
            _c("logged_by", ID, ref="staff.staff_id"),
            _c("recorded_at", TS),
        ),
        key=("visit_id",),
    ),
    Table(
        "transfers",
        (
            _c("transfer_id", ID),
            _c("convict_id", ID, ref="convicts.convict_id"),
            _c("from_facility_id", ID, null=True, ref="facilities.facility_id"),
            _c("to_facility_id", ID, ref="facilities.facility_id"),
            _c("departed_on", DATE),
            _c("arrived_on", DATE, null=True),
            _c(
                "ground",
                ENUM,
                "intake",
                "own_safety",
                "reorganization",
                "operational_need",
                "order_maintenance",
                "security_level_change",
                "medical",
                "court_order",
                "other",
                null=True,
            ),
            _c("consent", BOOL, null=True),
            _c("order_no", TEXT, null=True),
            _c("decided_by", ID, null=True, ref="staff.staff_id"),
            _c("recorded_at", TS),
        ),
        key=("transfer_id",),
    ),
    Table(
        "condition_changes",
        (
            _c("change_id", ID),
            _c("convict_id", ID, ref="convicts.convict_id"),
            _c("facility_id", ID, ref="facilities.facility_id"),
            _c("changed_on", DATE),
            _c("from_condition", ENUM, *CONDITIONS, null=True),
            _c("to_condition", ENUM, *CONDITIONS),
            _c("protocol_no", TEXT, null=True),
            _c("decided_by", ID, ref="staff.staff_id"),
            _c("recorded_at", TS),
        ),
        key=("change_id",),
    ),
    Table(
        "degree_assignments",
        (
            _c("assignment_id", ID),
            _c("convict_id", ID, ref="convicts.convict_id"),
            _c("facility_id", ID, ref="facilities.facility_id"),
            _c("assigned_on", DATE),
            _c("degree", INT),
            _c("decided_by", ID, ref="staff.staff_id"),
            _c("recorded_at", TS),
        ),
        key=("assignment_id",),
    ),
    Table(
        "memberships",
        (
            _c("convict_id", ID, ref="convicts.convict_id"),
            _c("facility_id", ID, ref="facilities.facility_id"),
            _c("joined_on", DATE),
            _c("left_on", DATE, null=True),
        ),
        key=("convict_id", "facility_id", "joined_on"),
        optional=True,
    ),
    Table(
        "work_assignments",
        (
            _c("convict_id", ID, ref="convicts.convict_id"),
            _c("facility_id", ID, ref="facilities.facility_id"),
            _c("started_on", DATE),
            _c("ended_on", DATE, null=True),
            _c("kind", ENUM, "work", "study"),
        ),
        key=("convict_id", "facility_id", "started_on", "kind"),
        optional=True,
    ),
)
"""Every table, in an order where a table comes after the tables it references
(apart from the self-reference of disciplinary events to the penalty an early
lift lifts)."""

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}


def entered_by(table: str) -> str:
    """The staff column of an event table: who logged or decided the entry."""
    return "logged_by" if table == "visit_logs" else "decided_by"


EVENT_DATES: dict[str, str] = {
    "degree_assignments": "assigned_on",
    "condition_changes": "changed_on",
    "disciplinary_events": "occurred_on",
    "visit_logs": "started_at",
    "transfers": "departed_on",
    "long_visit_registrations": "requested_on",
    "kinship": "registered_on",
}
"""The date each event table's entry describes (when the decision, move or visit happened)."""


def institution_of(table: str) -> str | None:
    """The column naming the institution an entry concerns (a transfer: where it led)."""
    if table == "transfers":
        return "to_facility_id"
    columns = TABLES_BY_NAME[table].column_names
    return "facility_id" if "facility_id" in columns else None


_EVIDENCE_SEPARATOR = re.compile(";(?=(?:" + "|".join(re.escape(t.name) for t in TABLES) + "):)")


def evidence_refs(evidence: object) -> list[str]:
    """The ``table:record`` references of an evidence string, in order.

    References are joined by ``;``. A record id may itself hold a ``;``
    (a registry's habit, or an attack): only a ``;`` followed by a table name
    and ``:`` starts a new reference.
    """
    if not isinstance(evidence, str) or not evidence:
        return []
    return [ref for ref in _EVIDENCE_SEPARATOR.split(evidence) if ref]
