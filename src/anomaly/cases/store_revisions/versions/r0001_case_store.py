"""The case store as of schema 3 of the DuckDB store: cases by subject, coded verdicts.

``verdict_seq`` orders verdicts recorded in the same transaction (DuckDB's
``rowid`` does it there).

Revision ID: r0001
"""

from __future__ import annotations

from alembic import op

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE cases (
            case_id VARCHAR PRIMARY KEY, subject_type VARCHAR, subject_id VARCHAR,
            rules VARCHAR, first_seen DATE, last_seen DATE, last_risk DOUBLE PRECISION,
            last_rank INTEGER, status VARCHAR, evidence VARCHAR, summary VARCHAR,
            version INTEGER);
        CREATE TABLE case_versions (
            case_id VARCHAR, version INTEGER, run_id VARCHAR, run_date DATE, rules VARCHAR,
            evidence VARCHAR);
        CREATE INDEX case_versions_case ON case_versions (case_id);
        CREATE TABLE case_aliases (old_case_id VARCHAR PRIMARY KEY, case_id VARCHAR);
        CREATE TABLE store_meta (schema_version INTEGER);
        INSERT INTO store_meta VALUES (3);
        CREATE TABLE score_history (
            case_id VARCHAR, run_id VARCHAR, run_date DATE, risk_score DOUBLE PRECISION,
            rank INTEGER);
        CREATE INDEX score_history_case ON score_history (case_id);
        CREATE INDEX score_history_run ON score_history (run_id);
        CREATE TABLE verdicts (
            case_id VARCHAR, verdict VARCHAR, reason VARCHAR, analyst VARCHAR,
            recorded_at TIMESTAMP, evidence_at_verdict VARCHAR, flag_id VARCHAR,
            reason_code VARCHAR, verdict_seq BIGSERIAL PRIMARY KEY);
        CREATE TABLE case_findings (
            case_id VARCHAR, flag_id VARCHAR, run_id VARCHAR, rule VARCHAR,
            table_name VARCHAR, record_id VARCHAR, facility_id VARCHAR,
            score DOUBLE PRECISION);
        CREATE INDEX case_findings_run ON case_findings (run_id);
        CREATE INDEX case_findings_case ON case_findings (case_id);
        CREATE TABLE office (key_fingerprint VARCHAR);
        """
    )


def downgrade() -> None:
    for table in ("office", "case_findings", "verdicts", "score_history", "store_meta",
                  "case_aliases", "case_versions", "cases"):  # fmt: skip
        op.execute(f"DROP TABLE {table}")
