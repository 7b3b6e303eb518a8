"""The case store: first and last seen, history, verdicts, dismissed cases kept quiet (issue 5)."""

from __future__ import annotations

import dataclasses
import multiprocessing
import time

import pandas as pd
import pytest

from anomaly.cases.store import CaseStore
from anomaly.cases.verdicts import FeedbackError, read_feedback
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


def test_a_dismissed_case_stays_quiet_until_new_evidence(tmp_path, store_location):
    store = CaseStore(store_location)
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


def test_store_survives_a_reopen_and_a_rerun_of_the_same_run(tmp_path, store_location):
    with CaseStore(store_location) as store:
        store.record_run(cases(("C-1", "A", "x:1")), "r1", pd.Timestamp("2025-01-01"))
    with CaseStore(store_location) as store:
        again = store.record_run(cases(("C-1", "A", "x:1")), "r1", pd.Timestamp("2025-01-01"))
        # the same run recorded again gives the same answer (a run re-done after a kill)
        assert again.raised["status"].tolist() == ["new"]
        assert len(store.history("C-1")) == 1  # and counts once
        later = store.record_run(cases(("C-1", "A", "x:1")), "r2", pd.Timestamp("2025-01-02"))
        assert later.raised["status"].tolist() == ["open"]


def test_verdicts_are_checked(tmp_path, store_location):
    with CaseStore(store_location) as store:
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


def test_a_plan_writes_nothing_until_committed(tmp_path, store_location):
    with CaseStore(store_location) as store:
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


def test_a_failed_commit_leaves_the_store_as_it_was(tmp_path, store_location):
    with CaseStore(store_location) as store:
        store.record_run(cases(("C-1", "A", "x:1")), "r1", pd.Timestamp("2025-01-01"))
        plan = store.plan_run(cases(("C-1", "A", "x:1;x:2")), "r2", pd.Timestamp("2025-01-02"))
        broken = plan.cases.drop(columns=["summary"])  # the insert fails half-way
        with pytest.raises(Exception, match="summary"):
            store.commit(dataclasses.replace(plan, cases=broken))
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


def subject_cases(*rows: tuple[str, str, str]) -> pd.DataFrame:
    """Cases (subject_id, rules, evidence) with the ids ``assemble_cases`` gives them."""
    from anomaly.cases.assembly import case_id

    frame = cases(*((case_id("convict", s), s, e) for s, _, e in rows))
    return frame.assign(rules=[r for _, r, _ in rows])


def test_a_case_is_its_subject_whatever_rules_fire():
    """Issue 15: the id once hashed the rule codes, so a new rule made a new case."""
    from anomaly.cases.assembly import assemble_cases

    flags = pd.DataFrame({
        "flag_id": ["F1", "F2"], "rule": ["VIS-KIN", "REC-LATE"], "table": ["visit_logs"] * 2,
        "record_id": ["V1", "V2"], "convict_id": ["A", "A"], "staff_id": [None, None],
        "facility_id": ["F", "F"], "score": [0.9, 0.7], "explanation": ["x", "y"],
        "evidence": ["", ""],
    })  # fmt: skip
    subjects = {"VIS-KIN": "convict", "REC-LATE": "convict"}
    one = assemble_cases(flags.iloc[:1], subjects)["case_id"].item()
    both = assemble_cases(flags, subjects)["case_id"].item()
    assert one == both


def test_new_evidence_is_a_new_version_and_reopens_a_dismissed_subject(tmp_path, store_location):
    with CaseStore(store_location) as store:
        first = subject_cases(("A", "VIS-KIN", "visit_logs:V1"))
        (case,) = first["case_id"]
        store.record_run(first, "r1", pd.Timestamp("2025-01-01"))
        store.record_verdict(case, "dismissed", "the spouse's paper file exists", "ana")
        same = store.record_run(first, "r2", pd.Timestamp("2025-01-02"))
        assert same.quiet["case_id"].tolist() == [case] and same.quiet["version"].tolist() == [1]
        grown = subject_cases(("A", "REC-LATE,VIS-KIN", "visit_logs:V1;transfers:T9"))
        again = store.record_run(grown, "r3", pd.Timestamp("2025-01-03"))
        assert again.raised["case_id"].tolist() == [case]
        assert again.raised[["status", "version"]].values.tolist() == [["reopened", 2]]
        assert store.history(case)["run_id"].tolist() == ["r1", "r2", "r3"]
        versions = store.db.execute(
            "SELECT version, run_id, rules FROM case_versions WHERE case_id = ? ORDER BY 1",
            [case],
        ).fetchall()
        assert versions == [(1, "r1", "VIS-KIN"), (2, "r3", "REC-LATE,VIS-KIN")]
        redo = store.record_run(grown, "r3", pd.Timestamp("2025-01-03"))  # the same run again
        assert redo.raised["version"].tolist() == [2]
        assert store.db.execute("SELECT count(*) FROM case_versions").fetchone() == (2,)


V1_SCHEMA = """
CREATE TABLE cases (case_id VARCHAR PRIMARY KEY, subject_type VARCHAR, subject_id VARCHAR,
    rules VARCHAR, first_seen DATE, last_seen DATE, last_risk DOUBLE, last_rank INTEGER,
    status VARCHAR, evidence VARCHAR, summary VARCHAR);
CREATE TABLE score_history (case_id VARCHAR, run_id VARCHAR, run_date DATE,
    risk_score DOUBLE, rank INTEGER);
CREATE TABLE verdicts (case_id VARCHAR, verdict VARCHAR, reason VARCHAR, analyst VARCHAR,
    recorded_at TIMESTAMP, evidence_at_verdict VARCHAR);
CREATE TABLE office (key_fingerprint VARCHAR);
INSERT INTO cases VALUES
    ('C-old1', 'convict', 'A', 'VIS-KIN', '2025-01-01', '2025-01-01', 0.9, 1, 'dismissed',
     'visit_logs:V1', 'Convict A: ...'),
    ('C-old2', 'convict', 'A', 'REC-LATE,VIS-KIN', '2025-01-02', '2025-01-02', 0.95, 1, 'new',
     'visit_logs:V1;transfers:T9', 'Convict A: ...'),
    ('C-old3', 'convict', 'B', 'VIS-KIN', '2025-01-01', '2025-01-02', 0.5, 2, 'open',
     'visit_logs:V2', 'Convict B: ...');
INSERT INTO score_history VALUES ('C-old1', 'r1', '2025-01-01', 0.9, 1),
    ('C-old3', 'r1', '2025-01-01', 0.5, 2), ('C-old2', 'r2', '2025-01-02', 0.95, 1),
    ('C-old3', 'r2', '2025-01-02', 0.5, 2);
INSERT INTO verdicts VALUES ('C-old1', 'dismissed', 'paper file exists', 'ana',
    '2025-01-01 12:00', 'visit_logs:V1');
"""


def test_a_store_of_the_earlier_schema_is_migrated_to_one_case_per_subject(tmp_path):
    import duckdb

    from anomaly.cases.assembly import case_id

    path = tmp_path / "old.duckdb"
    with duckdb.connect(str(path)) as db:
        db.execute(V1_SCHEMA)
    a, b = case_id("convict", "A"), case_id("convict", "B")
    with CaseStore(path) as store:
        kept = store.cases().set_index("case_id")
        assert sorted(kept.index) == sorted([a, b])
        assert str(kept.loc[a, "first_seen"])[:10] == "2025-01-01"
        assert (kept.loc[a, "rules"], kept.loc[a, "version"]) == ("REC-LATE,VIS-KIN", 2)
        assert store.history(a)["run_id"].tolist() == ["r1", "r2"]
        assert store.db.execute(
            "SELECT case_id, reason_code, flag_id FROM verdicts"
        ).fetchall() == [
            (a, "other", "")
        ]  # a verdict of schema 1: on the whole case, its free text coded other
        store.record_verdict("C-old3", "confirmed", analyst="ben")  # an id of an old report
        assert store.db.execute(
            "SELECT verdict FROM verdicts WHERE case_id = ?", [b]
        ).fetchall() == [("confirmed",)]
    with CaseStore(path) as store:  # migrated once
        assert store.db.execute("SELECT count(*) FROM case_versions").fetchone() == (3,)


def findings_of(frame: pd.DataFrame, flags: list[str]) -> pd.DataFrame:
    """The findings of the first case of ``frame``, as the run hands them to the store."""
    return pd.DataFrame({
        "case_id": frame["case_id"].iloc[0], "flag_id": flags, "rule": "VIS-KIN",
        "table_name": "visit_logs", "record_id": [f"V{i}" for i in range(len(flags))],
        "facility_id": "F1", "score": 0.9,
    })  # fmt: skip


def test_a_verdict_on_one_finding_keeps_the_case_as_it_is(tmp_path, store_location):
    """Issue 15: an analyst agrees or disagrees with a finding, with a reason code."""
    with CaseStore(store_location) as store:
        run = subject_cases(("A", "VIS-KIN", "visit_logs:V0;visit_logs:V1"))
        (case,) = run["case_id"]
        store.record_run(
            run, "r1", pd.Timestamp("2025-01-01"), findings=findings_of(run, ["F-a", "F-b"])
        )
        store.record_verdict(case, "disagree", analyst="ana", flag_id="F-a",
                             reason_code="paper_record_exists")  # fmt: skip
        store.record_verdict(case, "agree", analyst="ana", flag_id="F-b")
        with pytest.raises(FeedbackError, match="F-z is not one of case"):
            store.record_verdict(case, "agree", flag_id="F-z")
        with pytest.raises(FeedbackError, match="disagree needs a reason"):
            store.record_verdict(case, "disagree", flag_id="F-b")
        with pytest.raises(FeedbackError, match="a verdict on finding F-a is one of agree"):
            store.record_verdict(case, "dismissed", "no", flag_id="F-a")
        with pytest.raises(FeedbackError, match="reason code must be one of"):
            store.record_verdict(case, "confirmed", reason_code="bribe")
        again = store.record_run(run, "r2", pd.Timestamp("2025-01-02"))
        assert again.raised["status"].tolist() == ["open"]  # finding verdicts leave it open
        store.record_verdict(case, "needs_more", "ask for the paper file", "ben")
        later = store.record_run(run, "r3", pd.Timestamp("2025-01-03"))
        assert later.raised["status"].tolist() == ["needs_more"]
        kept = store.db.execute(
            "SELECT flag_id, verdict, reason_code FROM verdicts ORDER BY recorded_at"
        ).fetchall()
        assert kept == [("F-a", "disagree", "paper_record_exists"), ("F-b", "agree", "other"),
                        ("", "needs_more", "other")]  # fmt: skip


def test_the_earlier_feedback_file_still_reads_and_its_text_is_coded_other(
    tmp_path, store_location
):
    feedback = tmp_path / "verdicts.csv"
    feedback.write_text(
        "case_id,verdict,reason,analyst\n"
        "C-1,dismissed,checked the paper file,ana\n"
        "C-2,dismissed,entry_delay_office,ana\n"
    )
    with CaseStore(store_location) as store:
        store.record_run(cases(("C-1", "A", "x:1"), ("C-2", "B", "x:2")), "r1",
                         pd.Timestamp("2025-01-01"))  # fmt: skip
        assert store.apply_feedback_file(feedback) == 2
        kept = store.db.execute(
            "SELECT case_id, reason, reason_code, flag_id FROM verdicts ORDER BY case_id"
        ).fetchall()
    assert kept == [("C-1", "checked the paper file", "other", ""),
                    ("C-2", "entry_delay_office", "entry_delay_office", "")]  # fmt: skip


def test_analysts_who_differ_on_a_case_make_it_disputed_not_averaged(tmp_path, store_location):
    """Issue 15: verdicts of different analysts are kept apart and a disagreement is shown."""
    with CaseStore(store_location) as store:
        run = subject_cases(("A", "VIS-KIN", "visit_logs:V1"))
        (case,) = run["case_id"]
        store.record_run(run, "r1", pd.Timestamp("2025-01-01"))
        store.record_verdict(case, "dismissed", reason_code="paper_record_exists", analyst="ana")
        store.record_verdict(case, "confirmed", analyst="ben")
        disputed = store.record_run(run, "r2", pd.Timestamp("2025-01-02"))
        assert disputed.quiet.empty  # one analyst's dismissal does not silence another's case
        assert disputed.raised[["status", "analyst_verdicts"]].values.tolist() == [
            ["disputed", "ana: dismissed; ben: confirmed"]
        ]
        store.record_verdict(case, "dismissed", reason_code="paper_record_exists", analyst="ben")
        agreed = store.record_run(run, "r3", pd.Timestamp("2025-01-03"))
        assert agreed.quiet["analyst_verdicts"].tolist() == ["ana: dismissed; ben: dismissed"]
