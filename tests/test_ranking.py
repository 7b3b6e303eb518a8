"""The ranking's order on a hand-built set of findings (issue 12: a ranking one can defend).

Each pair below is an ordering docs/scoring.md promises: recent over old, corroborated over
single, an undamped finding over one of a rule damped for the run, and a convict's statistical
outlier alone never a case."""

from __future__ import annotations

import pandas as pd

from anomaly.cases.assembly import assemble_cases
from anomaly.scoring.case_scoring import SUBJECTS
from anomaly.scoring.finding_recency import review_start, weighed_by_age
from anomaly.scoring.rule_health import damped
from test_rules import RB, degree, snapshot

STRENGTH = RB.strength("DEG-NEG")


def finding(rule, convict, record, score, table="degree_assignments"):
    return {"rule": rule, "table": table, "record_id": record, "convict_id": convict,
            "staff_id": None, "facility_id": "F1", "score": score, "explanation": "x",
            "evidence": ""}  # fmt: skip


def ranked(flags: pd.DataFrame) -> list[str]:
    cases = assemble_cases(flags, SUBJECTS)
    return cases[cases["risk_score"] >= RB.scoring.case_threshold.value]["subject_id"].tolist()


def test_a_recent_finding_outranks_the_same_finding_years_before_the_review():
    s = snapshot({"degree_assignments": [degree("A1", "2024-06-01", -1),
                                         degree("A2", "2016-06-01", -1)]})  # fmt: skip
    flags = pd.DataFrame([finding("DEG-NEG", "C1", "A1", STRENGTH),
                          finding("DEG-NEG", "C2", "A2", STRENGTH)])  # fmt: skip
    weighed = weighed_by_age(s, flags)
    assert review_start(s) == pd.Timestamp("2023-01-05")
    assert weighed["score"].iloc[0] == STRENGTH  # inside the period under review
    assert weighed["score"].iloc[1] == STRENGTH * RB.scoring.history_floor.value  # 6.6 years old
    assert "[history: 6.6 years before the period under review" in weighed["explanation"].iloc[1]
    assert weighed["event_on"].tolist() == ["2024-06-01", "2016-06-01"]
    cases = assemble_cases(weighed, SUBJECTS)
    assert cases["subject_id"].tolist() == ["C1", "C2"]


def test_two_independent_rules_outrank_one_and_many_findings_of_one_rule_do_not():
    flags = pd.DataFrame(
        [finding("DEG-NEG", "C1", "A1", 0.9), finding("REC-LATE", "C1", "A1", 0.6)]
        + [finding("DEG-NEG", "C2", f"B{k}", 0.9) for k in range(20)]
    )
    cases = assemble_cases(flags, SUBJECTS)
    assert cases["subject_id"].tolist() == ["C1", "C2"]
    assert cases["risk_score"].tolist() == [0.96, 0.9]


def test_a_finding_of_a_damped_rule_ranks_below_an_undamped_weaker_one():
    flags = pd.DataFrame([finding("TRF-GROUNDS", "C1", "T1", 0.9, "transfers"),
                          finding("VIS-LENGTH", "C2", "V1", 0.7, "visit_logs")])  # fmt: skip
    health = pd.DataFrame({"rule": ["TRF-GROUNDS"], "damping": [0.3],
                           "health": ["fires at 50.0 per 1,000 records"]})  # fmt: skip
    assert ranked(damped(flags, health)) == ["C2"]  # 0.27 falls below the case threshold
    assert ranked(flags) == ["C1", "C2"]


def test_a_convict_outlier_alone_is_no_case_but_strengthens_a_rule_case():
    weight = RB.scoring.statistical_weight.value["convict"]
    outlier = finding("STAT-CONVICT", "C1", "C1", 0.999 * weight, "convicts")
    assert ranked(pd.DataFrame([outlier])) == []
    both = pd.DataFrame([outlier, finding("DEG-NEG", "C1", "A1", 0.9),
                         finding("DEG-NEG", "C2", "A2", 0.9)])  # fmt: skip
    assert ranked(both) == ["C1", "C2"]
