"""A case store shared by a team in PostgreSQL: verdicts and runs at once lose nothing (issue 17).

Against a real server (``.ci/postgres start``); skipped without one, except in CI."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pandas as pd
import psycopg
import pytest

from anomaly.cases.store import CaseStore


def cases(*ids: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"case_id": c, "subject_type": "convict", "subject_id": c[2:], "risk_score": 0.5,
             "rank": i + 1, "rules": "VIS-KIN", "evidence": f"visit_logs:V{c}", "summary": "..."}
            for i, c in enumerate(ids)
        ]
    )  # fmt: skip


def test_a_verdict_recorded_while_a_run_is_scored_keeps_its_status(store_location):
    with CaseStore(store_location) as store:
        store.record_run(cases("C-1", "C-2"), "r1", pd.Timestamp("2025-01-01"))
        plan = store.plan_run(cases("C-1", "C-2"), "r2", pd.Timestamp("2025-01-02"))
        with CaseStore(store_location) as analyst:  # another analyst, meanwhile
            analyst.record_verdict("C-2", "confirmed", analyst="bea")
        store.commit(plan)
        status = store.cases().set_index("case_id")["status"]
        assert status.to_dict() == {"C-1": "open", "C-2": "confirmed"}
        assert store.history("C-2")["run_id"].tolist() == ["r1", "r2"]


def test_analysts_recording_at_once_lose_no_verdict(postgres_database):
    ids = [f"C-{n}" for n in range(20)]
    with CaseStore(postgres_database) as store:
        store.record_run(cases(*ids), "r1", pd.Timestamp("2025-01-01"))
    errors: list[BaseException] = []

    def analyst(name: str) -> None:
        try:
            with CaseStore(postgres_database) as mine:
                for case in ids[::2]:
                    mine.record_verdict(case, "needs_more", analyst=name)
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=analyst, args=(f"analyst-{n}",)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    with psycopg.connect(postgres_database) as db:
        per_analyst = db.execute(
            "SELECT analyst, count(*) FROM verdicts GROUP BY analyst ORDER BY analyst"
        ).fetchall()
        sequence = [r[0] for r in db.execute("SELECT verdict_seq FROM verdicts").fetchall()]
    assert per_analyst == [(f"analyst-{n}", 10) for n in range(6)]
    assert len(set(sequence)) == 60


@pytest.mark.slow
def test_two_runs_and_several_feedback_calls_at_once_lose_nothing(
    postgres_database, tiny_world_drop, tmp_path
):
    key = str(tmp_path / "office.key")

    def run(day: str) -> subprocess.Popen:
        command = [sys.executable, "-m", "anomaly.cli", "run", str(tiny_world_drop), "--out",
                   str(tmp_path / day / "run"), "--store", postgres_database, "--key", key,
                   "--run-date", day]  # fmt: skip
        return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    first = run("2025-02-01")
    assert first.wait(600) == 0, first.communicate()[1]
    raised = pd.read_csv(tmp_path / "2025-02-01" / "run" / "cases.csv", dtype=str)["case_id"]
    judged = raised.head(6).tolist()
    runs = [run("2025-02-02"), run("2025-02-03")]
    verdicts = []
    for n, case in enumerate(judged):  # spread over the runs' planning and recording
        time.sleep(2)
        command = [sys.executable, "-m", "anomaly.cli", "feedback", case, "confirmed",
                   "--store", postgres_database, "--analyst", f"analyst-{n}"]  # fmt: skip
        verdicts.append(subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    for process in [*runs, *verdicts]:
        assert process.wait(600) == 0, process.communicate()[1]
    with psycopg.connect(postgres_database) as db:
        recorded = db.execute("SELECT case_id, analyst FROM verdicts ORDER BY analyst").fetchall()
        history = db.execute(
            "SELECT run_id, count(*) FROM score_history GROUP BY run_id ORDER BY run_id"
        ).fetchall()
        status = dict(db.execute("SELECT case_id, status FROM cases").fetchall())
        fingerprints = db.execute("SELECT count(*) FROM office").fetchone()[0]
    assert recorded == [(case, f"analyst-{n}") for n, case in enumerate(judged)]
    assert [run_id for run_id, _ in history] == [
        "2025-02-01-drop",
        "2025-02-02-drop",
        "2025-02-03-drop",
    ]
    assert len({count for _, count in history}) == 1  # every run recorded whole
    assert {status[case] for case in judged} == {"confirmed"}
    assert fingerprints == 1
