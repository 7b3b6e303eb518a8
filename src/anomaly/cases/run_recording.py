"""Recording a planned run in the case store: its cases, findings, versions and scores.

``cases.store.CaseStore.commit`` calls these inside one transaction, with
the store's connection (DuckDB, or ``cases.store_postgresql``'s) and the
column that orders its verdicts as recorded.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from anomaly.cases.store_schema import FINDING_COLUMNS, REPLACED_ON_CONFLICT
from anomaly.cases.verdicts import WITHDRAWN


def newest_verdict(db: Any, order: str) -> int:
    """The position of the latest verdict recorded (-1: none yet)."""
    newest = db.execute(f"SELECT coalesce(max({order}), -1) FROM verdicts")
    return int(newest.fetchall()[0][0])


def keep_later_verdicts(db: Any, order: str, after: int, upto: int) -> None:
    """A verdict recorded by another analyst while the run was scored (after the plan,
    before the commit) sets its case's status, not the run's plan."""
    db.execute(
        f"""UPDATE cases SET status = CASE WHEN later.verdict = ? THEN 'open'
                                          ELSE later.verdict END
            FROM (SELECT case_id, verdict, row_number() OVER (
                         PARTITION BY case_id ORDER BY {order} DESC) AS newest
                  FROM verdicts WHERE {order} > ? AND {order} <= ?
                        AND coalesce(flag_id, '') = '') later
            WHERE later.newest = 1 AND cases.case_id = later.case_id""",
        [WITHDRAWN, after, upto],
    )


def write_run(db: Any, frame: pd.DataFrame, findings: pd.DataFrame, run_id: str, day) -> None:
    """The run's cases, findings, new versions and scores (the caller holds the transaction)."""
    rows = frame.assign(last_seen=pd.Timestamp(day))
    db.register("run_cases", rows)
    db.execute(
        f"""INSERT INTO cases
           SELECT case_id, subject_type, subject_id, rules, CAST(first_seen AS DATE),
                  CAST(last_seen AS DATE), CAST(risk_score AS FLOAT8),
                  CAST(rank AS INTEGER), status, evidence, summary, CAST(version AS INTEGER)
           FROM run_cases
           ON CONFLICT (case_id) DO UPDATE SET {REPLACED_ON_CONFLICT}"""
    )
    db.execute("DELETE FROM case_findings WHERE run_id = ?", [run_id])
    db.register("run_findings", findings)
    db.execute(
        "INSERT INTO case_findings SELECT case_id, flag_id, ?, "
        f"{', '.join(FINDING_COLUMNS[2:-1])}, CAST(score AS FLOAT8) FROM run_findings",
        [run_id],
    )
    db.unregister("run_findings")
    db.execute("DELETE FROM case_versions WHERE run_id = ?", [run_id])
    db.execute(
        """INSERT INTO case_versions SELECT case_id, version, ?, ?, rules, evidence
           FROM run_cases WHERE CAST(new_version AS BOOLEAN)""",
        [run_id, day],
    )
    db.execute("DELETE FROM score_history WHERE run_id = ?", [run_id])
    db.execute(
        "INSERT INTO score_history SELECT case_id, ?, ?, CAST(risk_score AS FLOAT8), "
        "CAST(rank AS INTEGER) FROM run_cases",
        [run_id, day],
    )
    db.unregister("run_cases")
