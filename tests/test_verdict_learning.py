"""Learning from verdicts (issue 15, part 3): rule weights, their scope, SSDO, withdrawal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.cases.assembly import case_id
from anomaly.cases.review_queue import review_queue
from anomaly.cases.store import CaseStore
from anomaly.outliers.semi_supervised import with_verdicts
from anomaly.rulebook import load_rulebook
from anomaly.scoring.verdict_learning import (
    EVERYWHERE,
    borrowed_weights,
    learned_weights,
    relearned,
)

RULEBOOK = load_rulebook()


def labels(*rows: tuple[str, str, bool, str]) -> pd.DataFrame:
    """Labels (rule, facility, confirmed, scope), one case each."""
    return pd.DataFrame(
        [{"case_id": f"C{i}", "subject_type": "convict", "subject_id": str(i), "rule": r,
          "facility_id": f, "confirmed": c, "scope": s} for i, (r, f, c, s) in enumerate(rows)]
    )  # fmt: skip


def weight(weights: pd.DataFrame, rule: str, facility: str = EVERYWHERE) -> float:
    row = weights[weights["rule"].eq(rule) & weights["facility_id"].eq(facility)]
    assert len(row) == 1, f"no weight for {rule} at {facility!r}"
    return float(row["weight"].iloc[0])


def firing(rule: str, **per_1000: float) -> pd.DataFrame:
    """A firing table (rule_health.firing_by_institution) with these rates per institution."""
    return pd.DataFrame([{"rule": rule, "facility_id": f, "records": 1000, "flagged": r,
                          "per_1000": r} for f, r in per_1000.items()])  # fmt: skip


def test_a_habit_is_lent_to_the_institutions_that_fire_like_it():
    """An office dismissed for its late entries lends its weight to the unreviewed offices where
    REC-LATE fires as often, not to the ordinary ones nor to a confirmed one."""
    taught = labels(("REC-LATE", "F1", False, "institution"), ("REC-LATE", "F1", False,
                    "institution"), ("REC-LATE", "F9", True, "rule"))  # fmt: skip
    weights = learned_weights(taught, RULEBOOK)
    rates = firing("REC-LATE", F1=950, F2=900, F3=12, F4=8, F5=15, F6=400, F9=30, F7=0)
    lent = borrowed_weights(weights, rates)
    lender = weight(weights, "REC-LATE", "F1")
    assert weight(lent, "REC-LATE", "F2") == pytest.approx(lender)
    assert weight(lent, "REC-LATE", "F6") == pytest.approx(lender)  # log(401) nearer log(951)
    assert set(lent.loc[lent["like"].eq("F1"), "facility_id"]) == {"F2", "F6"}
    assert weight(lent, "REC-LATE", "F9") == weight(weights, "REC-LATE", "F9")  # its own verdict
    assert not lent["facility_id"].isin(["F3", "F4", "F5", "F7"]).any()
    assert lent.loc[lent["facility_id"].eq("F2"), "per_1000"].iloc[0] == 900


def test_without_an_institutions_habit_nothing_is_lent():
    """Dismissals about their cases teach the rule everywhere; no institution lends a habit."""
    weights = learned_weights(labels(("REC-LATE", "F1", False, "rule")), RULEBOOK)
    lent = borrowed_weights(weights, firing("REC-LATE", F1=950, F2=900, F3=10))
    assert lent.equals(weights)


def test_an_institutions_habit_teaches_that_institution_only():
    """Dismissals coded for the records office lower REC-LATE there, not everywhere."""
    habit = labels(*[("REC-LATE", "F1", False, "institution")] * 4)
    weights = learned_weights(habit, RULEBOOK)
    prior = RULEBOOK.strength("REC-LATE")
    assert weight(weights, "REC-LATE") == pytest.approx(prior)
    n = RULEBOOK.learning.institution_prior_verdicts.value
    assert weight(weights, "REC-LATE", "F1") == pytest.approx(prior * n / (n + 4), abs=1e-4)


def test_case_dismissals_teach_the_rule_everywhere_and_confirmations_raise_it():
    weights = learned_weights(
        labels(*[("VIS-QUOTA", "F1", False, "rule")] * 3, ("VIS-KIN", "F2", True, "rule")),
        RULEBOOK,
    )
    n = RULEBOOK.learning.rule_prior_verdicts.value
    prior = RULEBOOK.strength("VIS-QUOTA")
    assert weight(weights, "VIS-QUOTA") == pytest.approx(prior * n / (n + 3), abs=1e-4)
    assert weight(weights, "VIS-KIN") > RULEBOOK.strength("VIS-KIN")
    assert weight(weights, "VIS-KIN", "F2") > weight(weights, "VIS-KIN")
    # a dismissal about its own case says nothing special of its institution
    assert not (weights["rule"].eq("VIS-QUOTA") & weights["facility_id"].eq("F1")).any()


def test_every_unreviewed_finding_moves_with_the_weight_and_keeps_its_score_before():
    flags = pd.DataFrame({"rule": ["REC-LATE", "REC-LATE", "VIS-KIN"],
                          "facility_id": ["F1", "F2", "F1"], "score": [0.6, 0.6, 0.9]})  # fmt: skip
    weights = learned_weights(labels(*[("REC-LATE", "F1", False, "institution")] * 2), RULEBOOK)
    out = relearned(flags, weights)
    assert out["unlearned_score"].tolist() == [0.6, 0.6, 0.9]
    assert out["score"].iloc[0] < 0.6  # the office that enters late
    assert out["score"].iloc[1:].tolist() == [0.6, 0.9]  # another office, another rule


def test_ssdo_moves_the_neighbours_of_judged_subjects_and_leaves_the_rest():
    rng = np.random.default_rng(0)
    x = pd.DataFrame(rng.normal(size=(200, 3)), index=[f"S{i}" for i in range(200)])
    x.loc["S0"] = x.loc["S1"] = [6.0, 6.0, 6.0]  # twins far out
    x.loc["S2"] = x.loc["S3"] = [-6.0, 6.0, -6.0]
    prior = pd.Series(0.5, index=x.index)
    judged = pd.Series({"S0": True, "S2": False})
    after = with_verdicts(x, prior, judged, RULEBOOK.learning)
    assert after["S1"] > 0.5 > after["S3"]  # the twin of a confirmed rises, of a dismissed falls
    far = after.drop(["S0", "S1", "S2", "S3"])
    assert (far - 0.5).abs().median() < 0.05
    assert with_verdicts(x, prior, judged.iloc[:0], RULEBOOK.learning).equals(prior)


def run_with(store: CaseStore, run: str) -> tuple[str, pd.DataFrame]:
    """One convict case at F1 with two REC-LATE findings, recorded as run ``run``."""
    case = case_id("convict", "A")
    cases = pd.DataFrame([{"case_id": case, "subject_type": "convict", "subject_id": "A",
                           "risk_score": 0.6, "rank": 1, "rules": "REC-LATE;VIS-KIN",
                           "evidence": "visit_logs:V1;visit_logs:V2",
                           "summary": "..."}])  # fmt: skip
    findings = pd.DataFrame({"case_id": case, "flag_id": ["F-1", "F-2"],
                             "rule": ["REC-LATE", "VIS-KIN"], "table_name": "visit_logs",
                             "record_id": ["V1", "V2"], "facility_id": "F1",
                             "score": 0.6})  # fmt: skip
    store.record_run(cases, run, pd.Timestamp("2026-01-01"), findings=findings)
    return case, cases


def test_the_store_turns_verdicts_into_labels_with_their_scope(tmp_path):
    with CaseStore(tmp_path / "s.duckdb") as store:
        case, _ = run_with(store, "r1")
        store.record_verdict(case, "confirmed", analyst="ana")
        store.record_verdict(case, "disagree", "", "ana", "F-1", "entry_delay_office")
        found = store.verdict_labels("r2").findings.set_index("rule")
        assert found.loc["VIS-KIN", ["confirmed", "scope"]].tolist() == [True, "rule"]
        assert found.loc["REC-LATE", ["confirmed", "scope"]].tolist() == [False, "institution"]
        assert store.verdict_labels("r2").subjects["confirmed"].tolist() == [True]


def test_a_withdrawn_verdict_teaches_nothing_and_a_disputed_case_waits(tmp_path):
    with CaseStore(tmp_path / "s.duckdb") as store:
        case, cases = run_with(store, "r1")
        store.record_verdict(case, "dismissed", "", "ana", "", "entry_delay_office")
        assert len(store.verdict_labels("r2").findings) == 2
        store.record_verdict(case, "withdrawn", analyst="ana")
        assert store.verdict_labels("r2").empty
        again = store.record_run(cases, "r2", pd.Timestamp("2026-01-02"))
        assert again.raised["status"].tolist() == ["open"]  # as if never judged
        store.record_verdict(case, "confirmed", analyst="ana")
        store.record_verdict(case, "dismissed", "a hearing", "ben", "", "court_order")
        assert store.verdict_labels("r3").empty  # analysts differ: nothing learned yet


def test_the_review_queue_mixes_top_untaught_uncertain_and_blind_and_says_why():
    raised = pd.DataFrame({"case_id": [f"C{i}" for i in range(30)], "subject_type": "convict",
                           "subject_id": [str(i) for i in range(30)],
                           "risk_score": np.linspace(0.99, 0.5, 30), "rank": range(1, 31),
                           "status": ["confirmed"] * 2 + ["open"] * 28})  # fmt: skip
    watch = pd.DataFrame({"case_id": [f"W{i}" for i in range(50)], "subject_type": "staff",
                          "subject_id": [str(i) for i in range(50)], "risk_score": 0.3,
                          "rank": range(1, 51)})  # fmt: skip
    findings = pd.DataFrame({"case_id": raised["case_id"],
                             "rule": ["VIS-KIN"] * 25 + ["TRF-HOME"] * 5,
                             "facility_id": ["F1"] * 20 + ["F2"] * 10})  # fmt: skip
    learned = pd.DataFrame({"rule": ["VIS-KIN", "VIS-KIN"], "facility_id": ["", "F1"],
                            "confirmed": [2, 2], "dismissed": [0, 0]})  # fmt: skip
    queue = review_queue(raised, watch, findings, learned, 0.5, size=10)
    assert len(queue) == 10 and queue["case_id"].is_unique
    assert set(queue["kind"]) == {"top", "teaches", "uncertain", "blind"}
    assert not queue["case_id"].isin(["C0", "C1"]).any()  # judged already
    taught = queue[queue["kind"].eq("teaches")]
    assert "no verdict yet on TRF-HOME anywhere" in set(taught["why"])
    assert "no verdict yet on VIS-KIN at institution F2" in set(taught["why"])
    assert queue.loc[queue["kind"].eq("blind"), "case_id"].str.startswith("W").all()
    pd.testing.assert_frame_equal(queue, review_queue(raised, watch, findings, learned, 0.5, 10))
