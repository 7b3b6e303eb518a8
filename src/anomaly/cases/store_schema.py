"""The case store's tables and the one dialect of SQL its queries keep to.

DuckDB (``cases.store``) and PostgreSQL (``cases.store_postgresql``, created
by the Alembic revisions of ``cases.store_revisions``) hold the same tables::

    cases(case_id, subject_type, subject_id, rules, first_seen, last_seen,
          last_risk, last_rank, status, evidence, summary, version)
    case_versions(case_id, version, run_id, run_date, rules, evidence)
    score_history(case_id, run_id, run_date, risk_score, rank)
    verdicts(case_id, verdict, reason, analyst, recorded_at, evidence_at_verdict)
    case_aliases(old_case_id, case_id)   ids of an earlier schema (``store_migration``)
    office(key_fingerprint)   the office key the store's pseudonyms were made with
    store_meta(schema_version)

The queries use ``?`` parameters, window functions rather than DuckDB's
``arg_max`` or ``QUALIFY``, ``ON CONFLICT`` rather than ``INSERT OR REPLACE``,
and ``ANY_OF`` for a list parameter, so that both read them.
"""

from __future__ import annotations

from anomaly.cases.verdicts import Verdict

VERDICT_COLUMNS = [*Verdict._fields, "evidence_at_verdict"]
VERDICT_TABLE_COLUMNS = ["case_id", "verdict", "reason", "analyst", "recorded_at",
                         "evidence_at_verdict", "flag_id", "reason_code"]  # fmt: skip
CASE_COLUMNS = ["subject_type", "subject_id", "rules", "first_seen", "last_seen", "last_risk",
                "last_rank", "status", "evidence", "summary", "version"]  # fmt: skip
REPLACED_ON_CONFLICT = ", ".join(f"{c} = EXCLUDED.{c}" for c in CASE_COLUMNS)
ANY_OF = "(SELECT unnest(CAST(? AS VARCHAR[])))"  # a list parameter, in DuckDB and PostgreSQL
FINDING_COLUMNS = ["case_id", "flag_id", "rule", "table_name", "record_id", "facility_id", "score"]
SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    case_id VARCHAR PRIMARY KEY, subject_type VARCHAR, subject_id VARCHAR, rules VARCHAR,
    first_seen DATE, last_seen DATE, last_risk DOUBLE, last_rank INTEGER, status VARCHAR,
    evidence VARCHAR, summary VARCHAR, version INTEGER);
CREATE TABLE IF NOT EXISTS case_versions (
    case_id VARCHAR, version INTEGER, run_id VARCHAR, run_date DATE, rules VARCHAR,
    evidence VARCHAR);
CREATE TABLE IF NOT EXISTS case_aliases (old_case_id VARCHAR, case_id VARCHAR);
CREATE TABLE IF NOT EXISTS store_meta (schema_version INTEGER);
CREATE TABLE IF NOT EXISTS score_history (
    case_id VARCHAR, run_id VARCHAR, run_date DATE, risk_score DOUBLE, rank INTEGER);
CREATE TABLE IF NOT EXISTS verdicts (
    case_id VARCHAR, verdict VARCHAR, reason VARCHAR, analyst VARCHAR,
    recorded_at TIMESTAMP, evidence_at_verdict VARCHAR, flag_id VARCHAR, reason_code VARCHAR);
CREATE TABLE IF NOT EXISTS case_findings (
    case_id VARCHAR, flag_id VARCHAR, run_id VARCHAR, rule VARCHAR, table_name VARCHAR,
    record_id VARCHAR, facility_id VARCHAR, score DOUBLE);
CREATE TABLE IF NOT EXISTS office (key_fingerprint VARCHAR);
"""
