"""Findings on incomplete records: cells validation nulled, rows it quarantined.

Validation keeps what it can (``contracts.validation``): a broken cell of a kept row is
nulled, a row that cannot be understood is quarantined. A rule that judges a
subject without such a cell or row may be wrong in either direction: a
"missing" penalty or registration may be the one that was quarantined. So,
per rule, a subject is judged on incomplete records when

- a cell the rule reads (``Rule.reads``) was nulled on one of the subject's
  rows, or on a master row its records name (an institution's level, a
  visitor's death date); or
- a row of the subject was quarantined from a table in which a missing row
  can make the rule flag wrongly (``Rule.needs_complete``: an unseen penalty
  or registration can; an unseen visit cannot push visits over a quota).

Such a subject is listed as insufficient data under that rule, with the
reason, and never counted as clear; a finding the rule still makes on it is
kept, its score multiplied by ``scoring.incomplete_evidence_factor`` and its
explanation saying why. Nothing is dropped silently.
"""

from __future__ import annotations

import pandas as pd

from anomaly.cases.assembly import SUBJECT_COLUMN  # the flag column naming a subject
from anomaly.ingest.record_schema import TABLES_BY_NAME, entered_by
from anomaly.registry.id_codes import among
from anomaly.registry.snapshot import Snapshot
from anomaly.rules.rule import INSUFFICIENT_COLUMNS, Rule, insufficient

SUBJECT_COLUMNS = {"convict": "convict_id", "staff": "staff_id", "facility": "facility_id",
                   "person": "person_id"}  # fmt: skip
MASTER_TABLES = {"regions", "facilities", "staff", "convicts", "persons"}


def nulled_for(rule: Rule, snapshot: Snapshot) -> pd.DataFrame:
    """The subjects of ``rule`` whose records it reads had a cell nulled by validation.

    A nulled cell of an event row touches the row's own subject; one of a
    master row (an institution's level, a person's death date) touches every
    subject whose records under this rule name that row. ``spreads``: the
    cell can make the rule wrong about other records than its own (a master
    row, or a row of a table the rule needs complete).
    """
    parts = [pd.DataFrame(columns=[*INSUFFICIENT_COLUMNS, "spreads"])]
    for read in rule.reads:
        table, column = read.split(".")
        rows = snapshot.nulled_rows(table, column) if snapshot.has(table) else pd.DataFrame()
        if rows.empty:
            continue
        why = f"{read} nulled by validation on a record this rests on (validation_findings.csv)"
        touched = insufficient(_touched(rule, snapshot, table, rows), why, rule.subject)
        parts.append(touched.assign(spreads=_spreads(rule, table)))
    return pd.concat(parts, ignore_index=True)


def _spreads(rule: Rule, table: str) -> bool:
    return table in MASTER_TABLES or table in _needs_complete(rule)


def _needs_complete(rule: Rule) -> tuple[str, ...]:
    if rule.needs_complete is None:
        return (*rule.tables, *rule.optional_tables)
    return rule.needs_complete


def _nulled_records(rule: Rule, snapshot: Snapshot) -> dict[str, dict[str, str]]:
    """Per table, the record ids whose own cell that the rule reads was nulled, with why."""
    found: dict[str, dict[str, str]] = {}
    for read in rule.reads:
        table, column = read.split(".")
        if table in MASTER_TABLES or not snapshot.has(table):
            continue
        rows = snapshot.nulled_rows(table, column)
        key = TABLES_BY_NAME[table].key[0]
        for record in rows[key].astype(str):
            found.setdefault(table, {})[record] = f"{column} nulled by validation"
    return found


def _touched(rule: Rule, snapshot: Snapshot, table: str, rows: pd.DataFrame) -> pd.Series:
    """The rule's subjects that the ``rows`` of ``table`` concern."""
    own = _subject_column(rule, table)
    if own in rows.columns:
        return rows[own]
    spec = TABLES_BY_NAME[table]
    target = f"{table}.{spec.key[0]}"
    found = [pd.Series([], dtype="string")]
    for name in (*rule.tables, *rule.optional_tables):
        column = _subject_column(rule, name)
        if not snapshot.has(name) or column not in snapshot[name].columns:
            continue
        frame = snapshot[name]
        for referring in TABLES_BY_NAME[name].columns:
            if referring.references == target:
                hit = among(frame[referring.name], rows[spec.key[0]].astype("string"))
                found.append(frame.loc[hit, column].astype("string"))
    return pd.concat(found, ignore_index=True)


def _subject_column(rule: Rule, table: str) -> str:
    if rule.subject == "staff" and table != "staff":
        return entered_by(table)
    return SUBJECT_COLUMNS[rule.subject]


def quarantined_for(rule: Rule, snapshot: Snapshot) -> pd.DataFrame:
    """The rule's subjects with rows quarantined from a table the rule reads."""
    held = snapshot.quarantined
    held = held[held["table"].isin(_needs_complete(rule))]
    column = SUBJECT_COLUMNS[rule.subject]
    if column not in held.columns:  # the quarantine keeps convict, institution and staff cells
        return pd.DataFrame(columns=INSUFFICIENT_COLUMNS)
    held = held.dropna(subset=[column])
    if held.empty:
        return pd.DataFrame(columns=INSUFFICIENT_COLUMNS)
    counts = held.drop_duplicates([column, "table"])
    table = counts["table"]
    reason = "rows quarantined from " + table + " (quarantine/" + table + ".csv)"
    return pd.DataFrame(
        {
            "subject_type": rule.subject,
            "subject_id": counts[column].to_numpy(),
            "reason": reason.to_numpy(),
        }  # fmt: skip
    )


def weighed_for_gaps(
    rule: Rule, snapshot: Snapshot, flags: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rule's flags, weighed down where they may rest on a record validation could not
    keep whole, and the subjects judged on incomplete records (insufficient data, with why).

    A flag is weighed down when its own record had a cell the rule reads
    nulled, or when its subject is touched by a quarantined row or a nulled
    cell that can spread (``nulled_for``).
    """
    held = quarantined_for(rule, snapshot)
    nulled = nulled_for(rule, snapshot)
    gaps = pd.concat([nulled[INSUFFICIENT_COLUMNS], held], ignore_index=True)
    if gaps.empty or flags.empty:
        return flags, gaps
    spreading = pd.concat([nulled.loc[nulled["spreads"].astype(bool), INSUFFICIENT_COLUMNS], held])
    why = spreading.groupby("subject_id")["reason"].agg(lambda r: "; ".join(dict.fromkeys(r)))
    note = flags[SUBJECT_COLUMN[rule.subject]].astype("string").map(why).astype(object)
    for table, records in _nulled_records(rule, snapshot).items():
        own = flags["table"].eq(table) & flags["record_id"].isin(records)
        note = note.where(~own, flags["record_id"].map(records).astype(object))
    hit = note.notna().to_numpy(dtype=bool)
    if not hit.any():
        return flags, gaps
    factor = snapshot.rulebook.scoring.incomplete_evidence_factor.value
    out = flags.copy()
    out.loc[hit, "score"] = out.loc[hit, "score"].astype(float) * factor
    out.loc[hit, "explanation"] = (
        out.loc[hit, "explanation"] + " [on incomplete records: " + note[hit] + "]"
    )
    return out, gaps
