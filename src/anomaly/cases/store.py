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

Tables::

    cases(case_id, subject_type, subject_id, rules, first_seen, last_seen,
          last_risk, last_rank, status, evidence, summary, version)
    case_versions(case_id, version, run_id, run_date, rules, evidence)
    score_history(case_id, run_id, run_date, risk_score, rank)
    verdicts(case_id, verdict, reason, analyst, recorded_at, evidence_at_verdict)
    case_aliases(old_case_id, case_id)   ids of an earlier schema (``store_migration``)
    office(key_fingerprint)   the office key the store's pseudonyms were made with
    store_meta(schema_version)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from anomaly.cases.store_connection import connect_waiting
from anomaly.cases.store_migration import migrate
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
from anomaly.ingest.record_schema import evidence_refs
from anomaly.scoring.verdict_learning import VerdictLabels

VERDICT_COLUMNS = [*Verdict._fields, "evidence_at_verdict"]
VERDICT_TABLE_COLUMNS = ["case_id", "verdict", "reason", "analyst", "recorded_at",
                         "evidence_at_verdict", "flag_id", "reason_code"]  # fmt: skip
CASE_COLUMNS = ["subject_type", "subject_id", "rules", "first_seen", "last_seen", "last_risk",
                "last_rank", "status", "evidence", "summary", "version"]  # fmt: skip
_REPLACED = ", ".join(f"{c} = EXCLUDED.{c}" for c in CASE_COLUMNS)
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
        frame = _versioned(frame, self._latest_versions(run_id))
        frame = frame.merge(self._analysts(verdicts), on="case_id", how="left")
        frame["disputed"] = frame["disputed"].fillna(False).astype(bool)
        new_evidence = _cites_more(frame["evidence"], frame["evidence_at_verdict"])
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
            self._write(plan.cases, plan.findings, plan.run_id, plan.day.date())
            self._keep_later_verdicts(*recorded_meanwhile)
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
        newest = self.db.execute(f"SELECT coalesce(max({self._order}), -1) FROM verdicts")
        return int(newest.fetchall()[0][0])

    def _keep_later_verdicts(self, after: int, upto: int) -> None:
        """A verdict recorded by another analyst while the run was scored (after the plan,
        before the commit) sets its case's status, not the run's plan."""
        self.db.execute(
            f"""UPDATE cases SET status = CASE WHEN later.verdict = ? THEN 'open'
                                              ELSE later.verdict END
                FROM (SELECT case_id, verdict, row_number() OVER (
                             PARTITION BY case_id ORDER BY {self._order} DESC) AS newest
                      FROM verdicts WHERE {self._order} > ? AND {self._order} <= ?
                            AND coalesce(flag_id, '') = '') later
                WHERE later.newest = 1 AND cases.case_id = later.case_id""",
            [WITHDRAWN, after, upto],
        )

    def _write(self, frame: pd.DataFrame, findings: pd.DataFrame, run_id: str, day) -> None:
        rows = frame.assign(last_seen=pd.Timestamp(day))
        self.db.register("run_cases", rows)
        self.db.execute(
            f"""INSERT INTO cases
               SELECT case_id, subject_type, subject_id, rules, CAST(first_seen AS DATE),
                      CAST(last_seen AS DATE), CAST(risk_score AS FLOAT8),
                      CAST(rank AS INTEGER), status, evidence, summary, CAST(version AS INTEGER)
               FROM run_cases
               ON CONFLICT (case_id) DO UPDATE SET {_REPLACED}"""
        )
        self.db.execute("DELETE FROM case_findings WHERE run_id = ?", [run_id])
        self.db.register("run_findings", findings)
        self.db.execute(
            "INSERT INTO case_findings SELECT case_id, flag_id, ?, "
            f"{', '.join(FINDING_COLUMNS[2:-1])}, CAST(score AS FLOAT8) FROM run_findings",
            [run_id],
        )
        self.db.unregister("run_findings")
        self.db.execute("DELETE FROM case_versions WHERE run_id = ?", [run_id])
        self.db.execute(
            """INSERT INTO case_versions SELECT case_id, version, ?, ?, rules, evidence
               FROM run_cases WHERE CAST(new_version AS BOOLEAN)""",
            [run_id, day],
        )
        self.db.execute("DELETE FROM score_history WHERE run_id = ?", [run_id])
        self.db.execute(
            "INSERT INTO score_history SELECT case_id, ?, ?, CAST(risk_score AS FLOAT8), "
            "CAST(rank AS INTEGER) FROM run_cases",
            [run_id, day],
        )
        self.db.unregister("run_cases")


def _cites_more(evidence: pd.Series, earlier: pd.Series) -> pd.Series:
    """Where ``evidence`` cites a record ``earlier`` did not (no earlier evidence: True)."""
    more = [
        not isinstance(old, str) or bool(set(evidence_refs(e)) - set(evidence_refs(old)))
        for e, old in zip(evidence, earlier, strict=True)
    ]
    return pd.Series(more, index=evidence.index, dtype=bool)


def _versioned(frame: pd.DataFrame, stored: pd.DataFrame) -> pd.DataFrame:
    """``version`` of each case, and ``new_version`` where it cites evidence its latest did not."""
    frame = frame.merge(stored, on="case_id", how="left")
    frame["new_version"] = _cites_more(frame["evidence"], frame["version_evidence"])
    version = frame["stored_version"].fillna(0).astype(int) + frame["new_version"].astype(int)
    frame["version"] = version
    return frame.drop(columns=["stored_version", "version_evidence"])
