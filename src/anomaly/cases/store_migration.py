"""Bring a case store written by an earlier version up to the current schema.

Schema 1 (no ``store_meta`` row): a case was a subject *and its rule codes*,
so one subject could hold several cases, one per set of rules seen. Schema 2:
a case is its subject (``cases.assembly.case_id``). Schema 3: a verdict may be
on one finding (``flag_id``) and carries a reason code (``cases.verdicts``);
the verdicts of earlier schemas are on whole cases, their free text coded
``other`` (or the code itself, where the text is one). Migrating to 2, in one
transaction:

- every old case becomes a version of its subject's case (``case_versions``),
  in the order first seen, with the rules and evidence it had;
- score history and verdicts move to the subject's case, so the history and
  the latest verdict follow the subject;
- each old id is kept in ``case_aliases``, so a feedback file written against
  an old report still names its case;
- the subject's case keeps the first ``first_seen`` and the latest row of the
  rest.

A store already at the current schema is left alone; a failure leaves it as
it was.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from anomaly.cases.assembly import case_id
from anomaly.cases.verdicts import REASON_CODES

SCHEMA_VERSION = 3


def schema_version(db: duckdb.DuckDBPyConnection) -> int:
    """The schema a store was written with (1: before ``store_meta`` existed)."""
    row = db.execute("SELECT max(schema_version) FROM store_meta").fetchone()
    return 1 if row is None or row[0] is None else int(row[0])


def migrate(db: duckdb.DuckDBPyConnection) -> None:
    """Migrate the store to ``SCHEMA_VERSION`` if it is older (all or nothing)."""
    if schema_version(db) >= SCHEMA_VERSION:
        return
    version = schema_version(db)
    db.execute("BEGIN TRANSACTION")
    try:
        if version < 2:
            _cases_by_subject(db)
        _coded_verdicts(db)
        db.execute("DELETE FROM store_meta")
        db.execute("INSERT INTO store_meta VALUES (?)", [SCHEMA_VERSION])
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _cases_by_subject(db: duckdb.DuckDBPyConnection) -> None:
    db.execute("ALTER TABLE cases ADD COLUMN IF NOT EXISTS version INTEGER")
    old = db.execute("SELECT * FROM cases").df()
    if old.empty:
        return
    first_runs = db.execute(
        "SELECT case_id, arg_min(run_id, run_date) AS run_id FROM score_history GROUP BY case_id"
    ).df()
    old["new_id"] = [
        case_id(t, s) for t, s in zip(old["subject_type"], old["subject_id"], strict=True)
    ]
    aliases = old.loc[old["case_id"].ne(old["new_id"]), ["case_id", "new_id"]]
    aliases = aliases.rename(columns={"case_id": "old_case_id", "new_id": "case_id"})
    db.register("migrated_aliases", aliases)
    for table in ("score_history", "verdicts"):
        db.execute(
            f"""UPDATE {table} SET case_id = a.case_id FROM migrated_aliases a
                WHERE {table}.case_id = a.old_case_id"""
        )
    db.execute("INSERT INTO case_aliases SELECT old_case_id, case_id FROM migrated_aliases")
    db.unregister("migrated_aliases")
    versions = _versions(old.merge(first_runs, on="case_id", how="left"))
    db.register("migrated_versions", versions)
    db.execute(
        """INSERT INTO case_versions SELECT case_id, version, run_id, CAST(run_date AS DATE),
                  rules, evidence FROM migrated_versions"""
    )
    db.unregister("migrated_versions")
    merged = _one_case_per_subject(old, versions)
    db.execute("DELETE FROM cases")
    db.register("migrated_cases", merged)
    db.execute(
        """INSERT INTO cases SELECT case_id, subject_type, subject_id, rules,
                  CAST(first_seen AS DATE), CAST(last_seen AS DATE), last_risk, last_rank,
                  status, evidence, summary, version FROM migrated_cases"""
    )
    db.unregister("migrated_cases")


def _coded_verdicts(db: duckdb.DuckDBPyConnection) -> None:
    """Verdicts of schemas 1 and 2: on whole cases, their reason coded."""
    db.execute("ALTER TABLE verdicts ADD COLUMN IF NOT EXISTS flag_id VARCHAR")
    db.execute("ALTER TABLE verdicts ADD COLUMN IF NOT EXISTS reason_code VARCHAR")
    db.execute("UPDATE verdicts SET flag_id = '' WHERE flag_id IS NULL")
    db.execute(
        """UPDATE verdicts SET reason_code = CASE WHEN list_contains(?, trim(reason))
               THEN trim(reason) ELSE 'other' END WHERE reason_code IS NULL""",
        [list(REASON_CODES)],
    )


def _versions(old: pd.DataFrame) -> pd.DataFrame:
    """One version per old case of a subject, numbered in the order they were first seen."""
    ordered = old.sort_values(["new_id", "first_seen", "case_id"], kind="stable")
    return pd.DataFrame(
        {
            "case_id": ordered["new_id"].to_numpy(),
            "version": ordered.groupby("new_id").cumcount().to_numpy() + 1,
            "run_id": ordered["run_id"].fillna("").to_numpy(),
            "run_date": ordered["first_seen"].to_numpy(),
            "rules": ordered["rules"].to_numpy(),
            "evidence": ordered["evidence"].to_numpy(),
        }
    )


def _one_case_per_subject(old: pd.DataFrame, versions: pd.DataFrame) -> pd.DataFrame:
    latest = old.sort_values(["new_id", "last_seen", "last_rank"], ascending=[True, False, True])
    merged = latest.drop_duplicates("new_id").set_index("new_id")
    merged["first_seen"] = old.groupby("new_id")["first_seen"].min()
    merged["version"] = versions.groupby("case_id")["version"].max()
    return merged.drop(columns="case_id").rename_axis("case_id").reset_index()
