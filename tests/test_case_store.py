"""The case store: first and last seen, history, verdicts, dismissed cases kept quiet (issue 5)."""

from __future__ import annotations

import pandas as pd
import pytest

from anomaly.case_store import CaseStore, FeedbackError


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
        assert again.raised["status"].tolist() == ["open"]
        assert len(store.history("C-1")) == 1  # the same run recorded twice counts once


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
