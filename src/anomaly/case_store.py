"""Every case across runs, with its score history and the analysts' verdicts (DuckDB).

The store is one DuckDB file kept beside the run folders. Each run records
its cases: a case seen for the first time is ``new``; one seen before is
``open``. Analysts record verdicts, as in police early-intervention systems:
``confirmed``, or ``dismissed`` with a reason. A dismissed case is not raised
again unless new evidence appears (a record it did not cite when it was
dismissed): then it is ``reopened``.

Tables::

    cases(case_id, subject_type, subject_id, rules, first_seen, last_seen,
          last_risk, last_rank, status, evidence, summary)
    score_history(case_id, run_id, run_date, risk_score, rank)
    verdicts(case_id, verdict, reason, analyst, recorded_at, evidence_at_verdict)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

VERDICTS = ("confirmed", "dismissed")
SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    case_id VARCHAR PRIMARY KEY, subject_type VARCHAR, subject_id VARCHAR, rules VARCHAR,
    first_seen DATE, last_seen DATE, last_risk DOUBLE, last_rank INTEGER, status VARCHAR,
    evidence VARCHAR, summary VARCHAR);
CREATE TABLE IF NOT EXISTS score_history (
    case_id VARCHAR, run_id VARCHAR, run_date DATE, risk_score DOUBLE, rank INTEGER);
CREATE TABLE IF NOT EXISTS verdicts (
    case_id VARCHAR, verdict VARCHAR, reason VARCHAR, analyst VARCHAR,
    recorded_at TIMESTAMP, evidence_at_verdict VARCHAR);
"""


class FeedbackError(ValueError):
    """A verdict that cannot be recorded (unknown case, verdict or a dismissal without reason)."""


@dataclass(frozen=True)
class StoredRun:
    """The cases of one run as the store sees them."""

    raised: pd.DataFrame  # cases to show, ranked again, with status, first_seen, verdict
    quiet: pd.DataFrame  # dismissed cases found again with no new evidence


class CaseStore:
    """A DuckDB file holding every case, its history and its verdicts."""

    def __init__(self, path: Path | str) -> None:
        import duckdb

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = duckdb.connect(str(self.path))
        self.db.execute(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> CaseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record_run(self, cases: pd.DataFrame, run_id: str, run_date: pd.Timestamp) -> StoredRun:
        """Record a run's cases; return those to raise and those kept quiet."""
        day = pd.Timestamp(run_date).date()
        known = self.db.execute("SELECT case_id, first_seen FROM cases").df()
        latest = self._latest_verdicts()
        frame = cases.merge(known, on="case_id", how="left").merge(latest, on="case_id", how="left")
        new_evidence = [
            bool(set(str(e).split(";")) - set(str(old).split(";")))
            if isinstance(old, str)
            else True
            for e, old in zip(frame["evidence"], frame["evidence_at_verdict"], strict=True)
        ]
        frame["status"] = "open"
        frame.loc[frame["first_seen"].isna(), "status"] = "new"
        frame.loc[frame["verdict"].eq("confirmed"), "status"] = "confirmed"
        dismissed = frame["verdict"].eq("dismissed")
        frame.loc[dismissed & pd.Series(new_evidence, index=frame.index), "status"] = "reopened"
        frame.loc[dismissed & ~pd.Series(new_evidence, index=frame.index), "status"] = "dismissed"
        frame["first_seen"] = frame["first_seen"].fillna(pd.Timestamp(day))
        self._write(frame, run_id, day)
        quiet = frame[frame["status"].eq("dismissed")].reset_index(drop=True)
        raised = frame[~frame["status"].eq("dismissed")].reset_index(drop=True)
        raised["rank"] = range(1, len(raised) + 1)
        return StoredRun(raised, quiet)

    def record_verdict(
        self, case_id: str, verdict: str, reason: str = "", analyst: str = ""
    ) -> None:
        """Record an analyst's verdict on a known case."""
        if verdict not in VERDICTS:
            raise FeedbackError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
        if verdict == "dismissed" and not reason.strip():
            raise FeedbackError(f"case {case_id}: a dismissal needs a reason")
        row = self.db.execute("SELECT evidence FROM cases WHERE case_id = ?", [case_id]).fetchone()
        if row is None:
            raise FeedbackError(f"case {case_id} is not in the store {self.path}")
        self.db.execute(
            "INSERT INTO verdicts VALUES (?, ?, ?, ?, current_timestamp, ?)",
            [case_id, verdict, reason, analyst, row[0]],
        )
        self.db.execute("UPDATE cases SET status = ? WHERE case_id = ?", [verdict, case_id])

    def apply_feedback_file(self, path: Path | str) -> int:
        """Record every verdict of a CSV (case_id, verdict, reason, analyst); return how many."""
        feedback = pd.read_csv(path, dtype=str).fillna("")
        missing = {"case_id", "verdict"} - set(feedback.columns)
        if missing:
            raise FeedbackError(f"{path}: missing columns {sorted(missing)}")
        for line, row in enumerate(feedback.itertuples(index=False), start=2):
            try:
                self.record_verdict(
                    row.case_id,
                    row.verdict,
                    getattr(row, "reason", ""),
                    getattr(row, "analyst", ""),
                )
            except FeedbackError as error:
                raise FeedbackError(f"{path}, line {line}: {error}") from error
        return len(feedback)

    def history(self, case_id: str) -> pd.DataFrame:
        return self.db.execute(
            "SELECT * FROM score_history WHERE case_id = ? ORDER BY run_date", [case_id]
        ).df()

    def cases(self) -> pd.DataFrame:
        return self.db.execute("SELECT * FROM cases ORDER BY last_seen DESC, last_rank").df()

    def _latest_verdicts(self) -> pd.DataFrame:
        return self.db.execute(
            """SELECT case_id, verdict, reason AS verdict_reason, evidence_at_verdict
               FROM verdicts QUALIFY row_number() OVER (
                   PARTITION BY case_id ORDER BY recorded_at DESC) = 1"""
        ).df()

    def _write(self, frame: pd.DataFrame, run_id: str, day) -> None:
        rows = frame.assign(last_seen=pd.Timestamp(day))
        self.db.register("run_cases", rows)
        self.db.execute(
            """INSERT OR REPLACE INTO cases
               SELECT case_id, subject_type, subject_id, rules, CAST(first_seen AS DATE),
                      CAST(last_seen AS DATE), risk_score, rank, status, evidence, summary
               FROM run_cases"""
        )
        self.db.execute("DELETE FROM score_history WHERE run_id = ?", [run_id])
        self.db.execute(
            "INSERT INTO score_history SELECT case_id, ?, ?, risk_score, rank FROM run_cases",
            [run_id, day],
        )
        self.db.unregister("run_cases")
