"""The case store: first and last seen, history, verdicts, dismissed cases kept quiet (issue 5)."""

from __future__ import annotations

import multiprocessing
import time

import pandas as pd
import pytest

from anomaly.cases.store import CaseStore, FeedbackError, read_feedback
from anomaly.known_failures import StoreBusyError


def cases(*rows: tuple[str, str, str]) -> pd.DataFrame:
    """Cases (case_id, subject_id, evidence) in the cases.csv shape."""
    return pd.DataFrame(
        [
            {"case_id": c, "subject_type": "convict", "subject_id": s, "risk_score": 0.9 - i / 10,
             "rank": i + 1, "rules": "VIS-KIN", "evidence": e, "summary": f"Convict {s}: ..."}
            for i, (c, s, e) in enumerate(rows)
        ]
    )  # fmt: skip


def test_a_dismissed_case_stays_quiet_until_new_evidence(tmp_path):
    store = CaseStore(tmp_path / "store.duckdb")
    first = cases(("C-1", "A", "visit_logs:V1"), ("C-2", "B", "visit_logs:V2"))
    run1 = store.record_run(first, "r1", pd.Timestamp("2025-01-01"))
    assert run1.raised["status"].tolist() == ["new", "new"]
    store.record_verdict("C-1", "dismissed", "a registered spouse, registry entry was late", "ana")
    store.record_verdict("C-2", "confirmed", analyst="ana")
    run2 = store.record_run(first, "r2", pd.Timestamp("2025-01-02"))
    assert run2.quiet["case_id"].tolist() == ["C-1"]
    assert run2.raised["case_id"].tolist() == ["C-2"]
    assert run2.raised["status"].tolist() == ["confirmed"]
    assert run2.raised["rank"].tolist() == [1]
    grown = cases(("C-1", "A", "visit_logs:V1;visit_logs:V7"), ("C-2", "B", "visit_logs:V2"))
    run3 = store.record_run(grown, "r3", pd.Timestamp("2025-01-03"))
    assert run3.quiet.empty
    assert run3.raised.set_index("case_id").loc["C-1", "status"] == "reopened"
    history = store.history("C-1")
    assert history["run_id"].tolist() == ["r1", "r2", "r3"]
    kept = store.cases().set_index("case_id")
    assert str(kept.loc["C-1", "first_seen"])[:10] == "2025-01-01"
    assert str(kept.loc["C-1", "last_seen"])[:10] == "2025-01-03"
    store.close()


def test_store_survives_a_reopen_and_a_rerun_of_the_same_run(tmp_path):
    with CaseStore(tmp_path / "s.duckdb") as store:
        store.record_run(cases(("C-1", "A", "x:1")), "r1", pd.Timestamp("2025-01-01"))
    with CaseStore(tmp_path / "s.duckdb") as store:
        again = store.record_run(cases(("C-1", "A", "x:1")), "r1", pd.Timestamp("2025-01-01"))
        # the same run recorded again gives the same answer (a run re-done after a kill)
        assert again.raised["status"].tolist() == ["new"]
        assert len(store.history("C-1")) == 1  # and counts once
        later = store.record_run(cases(("C-1", "A", "x:1")), "r2", pd.Timestamp("2025-01-02"))
        assert later.raised["status"].tolist() == ["open"]


def test_verdicts_are_checked(tmp_path):
    with CaseStore(tmp_path / "s.duckdb") as store:
        store.record_run(cases(("C-1", "A", "x:1")), "r1", pd.Timestamp("2025-01-01"))
        with pytest.raises(FeedbackError, match="needs a reason"):
            store.record_verdict("C-1", "dismissed")
        with pytest.raises(FeedbackError, match="not in the store"):
            store.record_verdict("C-9", "confirmed")
        with pytest.raises(FeedbackError, match="one of"):
            store.record_verdict("C-1", "maybe")
        feedback = tmp_path / "feedback.csv"
        feedback.write_text("case_id,verdict,reason\nC-1,confirmed,\nC-1,dismissed,\n")
        with pytest.raises(FeedbackError, match="line 3"):
            store.apply_feedback_file(feedback)


def test_a_plan_writes_nothing_until_committed(tmp_path):
    with CaseStore(tmp_path / "s.duckdb") as store:
        store.record_run(cases(("C-1", "A", "x:1")), "r1", pd.Timestamp("2025-01-01"))
        feedback = tmp_path / "feedback.csv"
        feedback.write_text("case_id,verdict,reason,analyst\nC-1,dismissed,lawful stay,ana\n")
        plan = store.plan_run(cases(("C-1", "A", "x:1")), "r2", pd.Timestamp("2025-01-02"),
                              read_feedback(feedback))  # fmt: skip
        assert plan.stored.quiet["case_id"].tolist() == ["C-1"]  # the verdict counts already
        assert store.cases()["status"].tolist() == ["new"]  # but nothing is written
        assert len(store.history("C-1")) == 1
        store.commit(plan, "K-abc")
        assert store.cases()["status"].tolist() == ["dismissed"]
        assert store.key_fingerprint() == "K-abc"
        # the same feedback file again (a run re-done) records nothing new
        again = store.plan_run(cases(("C-1", "A", "x:1")), "r2", pd.Timestamp("2025-01-02"),
                               read_feedback(feedback))  # fmt: skip
        assert again.verdicts.empty
        assert again.stored.quiet["case_id"].tolist() == ["C-1"]


def test_a_failed_commit_leaves_the_store_as_it_was(tmp_path):
    with CaseStore(tmp_path / "s.duckdb") as store:
        store.record_run(cases(("C-1", "A", "x:1")), "r1", pd.Timestamp("2025-01-01"))
        plan = store.plan_run(cases(("C-1", "A", "x:1;x:2")), "r2", pd.Timestamp("2025-01-02"))
        broken = plan.cases.drop(columns=["summary"])  # the insert fails half-way
        with pytest.raises(Exception, match="summary"):
            store.commit(type(plan)(plan.run_id, plan.day, broken, plan.verdicts, plan.stored))
        assert len(store.history("C-1")) == 1
        assert store.cases()["evidence"].tolist() == ["x:1"]


def _hold(path: str, seconds: float, ready) -> None:
    with CaseStore(path):
        ready.set()
        time.sleep(seconds)


def test_a_store_held_by_another_process_is_waited_for_then_refused(tmp_path):
    path = str(tmp_path / "s.duckdb")
    CaseStore(path).close()
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    holder = context.Process(target=_hold, args=(path, 4.0, ready))
    holder.start()
    try:
        assert ready.wait(60)
        began = time.monotonic()
        with pytest.raises(StoreBusyError, match="in use by another process"):
            CaseStore(path, wait_seconds=0.5)
        assert time.monotonic() - began < 3
        with CaseStore(path, wait_seconds=30) as store:  # waits until the holder is done
            assert store.key_fingerprint() is None
    finally:
        holder.join(30)
