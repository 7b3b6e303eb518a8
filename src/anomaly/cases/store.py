"""Every case across runs, with its score history and the analysts' verdicts.

The store is one DuckDB file kept beside the run folders (one analyst, the
demo), or a PostgreSQL database shared by a team (``cases.store_postgresql``):
the same tables and the same SQL on both. A case is its
subject (``cases.assembly.case_id``): its history, status and verdicts follow
the subject across runs, whatever rules fire. Each run records its cases: a
case seen for the first time is ``new``; one seen before is ``open``. Evidence
the case did not cite before (a record, or a finding of another rule) makes a
new *version* of the case (``case_versions``), not a new case. Analysts
record verdicts (``cases.verdicts``), as in police early-intervention
systems: on a case ``confirmed``, ``needs_more``, or ``dismissed`` with a
reason; on one finding ``agree`` or ``disagree``. Each analyst's latest
verdict counts apart: where analysts differ on a case it is ``disputed``,
raised with what each said (``analyst_verdicts``), never averaged. A dismissed case is not raised
again unless new evidence appears (a record it did not cite when it was
dismissed): then it is ``reopened``.

A run touches the store twice, briefly: ``plan_run`` reads it and decides
every status (with the verdicts of a feedback file counted in), and
``commit`` writes the plan in one transaction once the run's report and
export exist. A run killed at any moment leaves the store as it was before
the run or as it is after it. Statuses are decided against the runs *other*
than this one, so recording the same run again gives the same answer.

A DuckDB file is held by one process at a time: a store in use is waited for
(up to ``ANOMALY_STORE_WAIT`` seconds, 30 by default), then refused with a
clear message. A PostgreSQL store takes any number of analysts and runs at
once: verdicts only add rows, runs are written one after the other, and a
verdict recorded while a run was being scored keeps its case's status.

The tables are in ``cases.store_schema``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from anomaly.cases.case_versions import cites_more, versioned
from anomaly.cases.run_recording import keep_later_verdicts, newest_verdict, write_run
from anomaly.cases.store_connection import connect_waiting
from anomaly.cases.store_migration import migrate
from anomaly.cases.store_schema import (
    ANY_OF,
    FINDING_COLUMNS,
    SCHEMA,
    VERDICT_COLUMNS,
    VERDICT_TABLE_COLUMNS,
)
from anomaly.cases.verdict_labels import labels_of
from anomaly.cases.verdicts import (
    FEEDBACK_COLUMNS,
    WITHDRAWN,
    Verdict,
    analysts_on_cases,
    checked_verdict,
    read_feedback,
    standing,
)
from anomaly.database.connection import DatabaseURL, is_database_url, with_password_moved
from anomaly.scoring.verdict_learning import VerdictLabels


@dataclass(frozen=True)
class StoredRun:
    """The cases of one run as the store sees them."""

    raised: pd.DataFrame  # cases to show, ranked again, with status, first_seen, verdict
    quiet: pd.DataFrame  # dismissed cases found again with no new evidence


@dataclass(frozen=True)
class RunPlan:
    """What recording a run will write: decided by ``plan_run``, written by ``commit``."""

    run_id: str
    day: pd.Timestamp
    cases: pd.DataFrame  # the run's cases with status and first_seen
    verdicts: pd.DataFrame  # new verdicts (VERDICT_COLUMNS)
    findings: pd.DataFrame  # the run's findings by case (FINDING_COLUMNS)
    stored: StoredRun
    last_verdict: int = -1  # the newest verdict the plan saw; later ones keep their status


class CaseStore:
    """Every case, its history and its verdicts: in a DuckDB file or a PostgreSQL database.

    ``location``: the DuckDB file's path, or a ``postgresql://`` URL."""

    def __init__(
        self, location: Path | str | DatabaseURL, wait_seconds: float | None = None
    ) -> None:
        self.db: Any
        if isinstance(location, DatabaseURL) or is_database_url(location):
            from anomaly.cases.store_postgresql import PostgresStoreDatabase

            url = (
                location
                if isinstance(location, DatabaseURL)
                else with_password_moved(str(location))
            )
            self.path: Path | DatabaseURL = url
            self.db = PostgresStoreDatabase(url)
            return
        path = Path(location)
        self.path = path
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.db = connect_waiting(path, wait_seconds)
        self.db.execute(SCHEMA)
        migrate(self.db)
        for file in (path, path.with_name(path.name + ".wal")):
            if file.exists():
                os.chmod(file, 0o600)

    @property
    def _order(self) -> str:
        """The column that orders verdicts as they were recorded."""
        return getattr(self.db, "insertion_order", "rowid")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> CaseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def key_fingerprint(self) -> str | None:
        """The fingerprint of the office key of the store's earlier runs (None before any)."""
        row = self.db.execute("SELECT key_fingerprint FROM office LIMIT 1").fetchone()
        return None if row is None else str(row[0])

    def plan_run(
        self,
        cases: pd.DataFrame,
        run_id: str,
        run_date: pd.Timestamp,
        feedback: pd.DataFrame | None = None,
        findings: pd.DataFrame | None = None,
    ) -> RunPlan:
        """Decide the status of every case of a run (writes nothing).

        ``findings`` (FINDING_COLUMNS): the run's findings by case, kept so that
        a later verdict can name one of them."""
        day = pd.Timestamp(pd.Timestamp(run_date).date())
        found = pd.DataFrame(columns=FINDING_COLUMNS) if findings is None else findings
        last_verdict = self._newest_verdict()
        verdicts = self._new_verdicts(feedback)
        known = self.db.execute(
            """SELECT case_id, min(run_date) AS first_seen FROM score_history
               WHERE run_id <> ? GROUP BY case_id""",
            [run_id],
        ).df()
        latest = self._latest_verdicts(verdicts)
        frame = cases.merge(known, on="case_id", how="left").merge(latest, on="case_id", how="left")
        frame = versioned(frame, self._latest_versions(run_id))
        frame = frame.merge(self._analysts(verdicts), on="case_id", how="left")
        frame["disputed"] = frame["disputed"].fillna(False).astype(bool)
        new_evidence = cites_more(frame["evidence"], frame["evidence_at_verdict"])
        frame["status"] = "open"
        frame.loc[frame["first_seen"].isna(), "status"] = "new"
        frame.loc[frame["verdict"].eq("confirmed"), "status"] = "confirmed"
        frame.loc[frame["verdict"].eq("needs_more"), "status"] = "needs_more"
        dismissed = frame["verdict"].eq("dismissed")
        frame.loc[dismissed & new_evidence, "status"] = "reopened"
        frame.loc[dismissed & ~new_evidence, "status"] = "dismissed"
        frame.loc[frame["disputed"], "status"] = "disputed"  # analysts differ: shown, not averaged
        frame["first_seen"] = pd.to_datetime(frame["first_seen"]).fillna(day)
        shown = frame.drop(columns=["new_version", "disputed"])
        quiet = shown[shown["status"].eq("dismissed")].reset_index(drop=True)
        raised = shown[~shown["status"].eq("dismissed")].reset_index(drop=True)
        raised["rank"] = range(1, len(raised) + 1)
        return RunPlan(
            run_id,
            day,
            frame,
            verdicts,
            found[FINDING_COLUMNS],
            StoredRun(raised, quiet),
            last_verdict,
        )

    def commit(self, plan: RunPlan, key_fingerprint: str | None = None) -> None:
        """Write a planned run, its verdicts and the key's fingerprint in one transaction."""
        with self._transaction():
            if hasattr(self.db, "lock_for_run_commit"):  # a shared store: one run at a time
                self.db.lock_for_run_commit()
            recorded_meanwhile = (plan.last_verdict, self._newest_verdict())
            self._insert_verdicts(plan.verdicts)
            write_run(self.db, plan.cases, plan.findings, plan.run_id, plan.day.date())
            keep_later_verdicts(self.db, self._order, *recorded_meanwhile)
            if key_fingerprint is not None and self.key_fingerprint() is None:
                self.db.execute("INSERT INTO office VALUES (?)", [key_fingerprint])

    def record_run(
        self,
        cases: pd.DataFrame,
        run_id: str,
        run_date: pd.Timestamp,
        feedback: pd.DataFrame | None = None,
        findings: pd.DataFrame | None = None,
    ) -> StoredRun:
        """Plan and commit a run at once; return the cases to raise and those kept quiet."""
        plan = self.plan_run(cases, run_id, run_date, feedback, findings)
        self.commit(plan)
        return plan.stored

    def record_verdict(
        self,
        case_id: str,
        verdict: str,
        reason: str = "",
        analyst: str = "",
        flag_id: str = "",
        reason_code: str = "",
    ) -> None:
        """Record an analyst's verdict on a known case, or on one of its findings."""
        one = pd.DataFrame([[case_id, verdict, reason, analyst, flag_id, reason_code, ""]],
                           columns=[*FEEDBACK_COLUMNS, "where"])  # fmt: skip
        verdicts = self._new_verdicts(one)
        with self._transaction():
            self._insert_verdicts(verdicts)

    def apply_feedback_file(self, path: Path | str) -> int:
        """Record every verdict of a CSV (case_id, verdict, reason, analyst); return how many."""
        verdicts = self._new_verdicts(read_feedback(path))
        with self._transaction():
            self._insert_verdicts(verdicts)
        return len(verdicts)

    def history(self, case_id: str) -> pd.DataFrame:
        return self.db.execute(
            "SELECT * FROM score_history WHERE case_id = ? ORDER BY run_date", [case_id]
        ).df()

    def cases(self) -> pd.DataFrame:
        return self.db.execute("SELECT * FROM cases ORDER BY last_seen DESC, last_rank").df()

    def _new_verdicts(self, feedback: pd.DataFrame | None) -> pd.DataFrame:
        """Checked verdicts, without those that repeat the latest stored one of the same kind."""
        if feedback is None or feedback.empty:
            return pd.DataFrame(columns=VERDICT_COLUMNS)
        aliases = dict(self.db.execute("SELECT old_case_id, case_id FROM case_aliases").fetchall())
        feedback = feedback.assign(case_id=feedback["case_id"].map(lambda c: aliases.get(c, c)))
        named = sorted(set(feedback["case_id"]))
        evidence = dict(self.db.execute(
            f"SELECT case_id, evidence FROM cases WHERE case_id IN {ANY_OF}", [named]
        ).fetchall())  # fmt: skip
        findings: dict[str, set[str]] = {case: set() for case in evidence}
        for case, flag in self.db.execute(
            f"SELECT DISTINCT case_id, flag_id FROM case_findings WHERE case_id IN {ANY_OF}",
            [named],
        ).fetchall():  # a subject of the watch list (reviewed blind) is known by its findings
            findings.setdefault(case, set()).add(flag)
        stored = set(self._all_latest_verdicts())
        rows = []
        for row in feedback.itertuples(index=False):
            verdict = checked_verdict(row, findings, self.path)
            if verdict in stored:
                continue  # the same verdict again (a feedback file applied twice)
            rows.append([*verdict, evidence.get(verdict.case_id, "")])
        return pd.DataFrame(rows, columns=VERDICT_COLUMNS)

    def _analysts(self, pending: pd.DataFrame) -> pd.DataFrame:
        """Per case: each analyst's latest verdict on it, and whether they differ."""
        return analysts_on_cases(self._case_verdicts(pending)[list(Verdict._fields)])

    def _all_latest_verdicts(self) -> list[Verdict]:
        """The latest verdict of each analyst on each case and on each finding."""
        fields = ", ".join(Verdict._fields)
        rows = self.db.execute(
            f"""SELECT {fields} FROM (SELECT {fields}, row_number() OVER (
                   PARTITION BY case_id, flag_id, analyst
                   ORDER BY recorded_at DESC, {self._order} DESC) AS newest FROM verdicts) latest
                WHERE newest = 1"""
        ).fetchall()
        return [Verdict(*row) for row in rows]

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """All or nothing: a failure, or a kill, leaves the store as it was."""
        self.db.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _insert_verdicts(self, verdicts: pd.DataFrame) -> None:
        for row in verdicts.itertuples(index=False):
            self.db.execute(
                f"INSERT INTO verdicts ({', '.join(VERDICT_TABLE_COLUMNS)}) "
                "VALUES (?, ?, ?, ?, CAST(current_timestamp AS TIMESTAMP), ?, ?, ?)",
                [row.case_id, row.verdict, row.reason, row.analyst, row.evidence_at_verdict,
                 row.flag_id, row.reason_code],
            )  # fmt: skip
            if not row.flag_id:  # a verdict on a finding leaves the case's status alone
                status = "open" if row.verdict == WITHDRAWN else row.verdict
                self.db.execute(
                    "UPDATE cases SET status = ? WHERE case_id = ?", [status, row.case_id]
                )

    def _latest_verdicts(self, pending: pd.DataFrame | None) -> pd.DataFrame:
        """Each case's latest verdict that an analyst stands by (not withdrawn); ``pending``
        ones (not yet written) count as the latest."""
        held = standing(self._case_verdicts(pending))
        latest = held.drop_duplicates("case_id", keep="last").rename(
            columns={"reason": "verdict_reason", "analyst": "verdict_analyst"}
        )
        columns = ["case_id", "verdict", "verdict_reason", "verdict_analyst", "evidence_at_verdict"]
        return latest[columns].reset_index(drop=True)

    def _case_verdicts(self, pending: pd.DataFrame | None, on_findings: bool = False):
        """Every verdict on cases (and on findings, if asked), stored then ``pending``, in order."""
        where = "" if on_findings else "WHERE coalesce(flag_id, '') = ''"
        stored = self.db.execute(
            f"SELECT {', '.join(VERDICT_COLUMNS)} FROM verdicts {where} "
            f"ORDER BY recorded_at, {self._order}"
        ).df()
        if pending is not None and not pending.empty:
            mine = pending if on_findings else pending[pending["flag_id"].fillna("").eq("")]
            stored = pd.concat([stored, mine[VERDICT_COLUMNS]], ignore_index=True)
        return stored.assign(flag_id=stored["flag_id"].fillna(""))

    def verdict_labels(self, run_id: str, feedback: pd.DataFrame | None = None) -> VerdictLabels:
        """What the verdicts (and a feedback file's) teach the ranking of run ``run_id``
        (``cases.verdict_labels``): the judged cases' findings as last recorded before it."""
        verdicts = self._case_verdicts(self._new_verdicts(feedback), on_findings=True)
        judged = sorted(set(verdicts["case_id"]))
        findings = self.db.execute(
            f"""SELECT f.case_id, f.flag_id, f.rule, f.facility_id FROM case_findings f
               JOIN (SELECT case_id, run_id, row_number() OVER (PARTITION BY case_id
                            ORDER BY run_date DESC, run_id DESC) AS newest
                     FROM score_history WHERE run_id <> ?) latest USING (case_id, run_id)
               WHERE latest.newest = 1 AND f.case_id IN {ANY_OF}""",
            [run_id, judged],
        ).df()
        subjects = self.db.execute(
            f"SELECT case_id, subject_type, subject_id FROM cases WHERE case_id IN {ANY_OF}",
            [judged],
        ).df()
        return labels_of(verdicts, findings, subjects)

    def _latest_versions(self, run_id: str) -> pd.DataFrame:
        """Each case's latest version before this run, and the evidence it cited."""
        return self.db.execute(
            """SELECT case_id, version AS stored_version, evidence AS version_evidence
               FROM (SELECT case_id, version, evidence, row_number() OVER (
                            PARTITION BY case_id ORDER BY version DESC) AS newest
                     FROM case_versions WHERE run_id <> ?) versions
               WHERE newest = 1""",
            [run_id],
        ).df()

    def _newest_verdict(self) -> int:
        return newest_verdict(self.db, self._order)
