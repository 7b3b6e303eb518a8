"""What an institution is, read from its records, and the lawful medical stay TRF-LEVEL checks
(issue 12: hospitals with a security level made 397 of 432 false cases on a foreign registry)."""

from __future__ import annotations

import pandas as pd

from anomaly.registry.institution_roles import hospitals
from anomaly.rules import RULES_BY_CODE
from anomaly.rules.trf_level import MEDICAL_UNCONFIRMED
from anomaly.scoring.rule_engine import run_rules
from test_rules import D, snapshot, transfer


def medical_trips(n: int, facility: str = "F4", weeks: int = 2, every: int = 6):
    """``n`` medical trips of C1 from F1 to ``facility`` for ``weeks`` and back, ``every``
    months apart."""
    trips = []
    for i in range(n):
        out = D("2020-06-01") + pd.DateOffset(months=every * i)
        back = out + pd.Timedelta(weeks=weeks)
        trips.append(transfer(f"M{i}", "F1", facility, out.date().isoformat(), ground="medical"))
        trips.append(transfer(f"B{i}", facility, "F1", back.date().isoformat(), ground="medical"))
    return {"transfers": trips}


def test_an_institution_most_arrivals_reach_for_short_medical_stays_is_a_hospital():
    roles = snapshot(medical_trips(5)).roles
    assert hospitals(roles) == {"F4"}
    evidence = roles.loc[roles["role"].eq("hospital"), "evidence"].iloc[0]
    assert evidence == "5 of 5 arrivals on the ground 'medical', their median stay 14 days"
    # F1 receives the returns, on the ground 'medical' too, but they stay for months
    assert "F1" not in hospitals(roles)


def test_long_medical_stays_or_too_few_arrivals_make_no_hospital():
    assert hospitals(snapshot(medical_trips(5, weeks=20, every=12)).roles) == set()
    assert hospitals(snapshot(medical_trips(4)).roles) == set()


def test_the_registry_level_gives_the_pre_trial_centre():
    roles = snapshot().roles
    assert roles.loc[roles["role"].eq("pre-trial centre"), "facility_id"].tolist() == ["F3"]


def test_a_medical_stay_in_a_hospital_of_another_level_is_lawful():
    # F4 is a maximum institution; C1's court ordered medium
    s = snapshot(medical_trips(5))
    assert RULES_BY_CODE["TRF-LEVEL"].check(s).flags.empty
    run = run_rules(s, (RULES_BY_CODE["TRF-LEVEL"],))
    assert (
        "roles inferred from the records: F4 hospital (5 of 5" in run.summary["inferences"].iloc[0]
    )


def test_a_medical_move_the_records_do_not_show_as_a_hospital_stay_is_flagged_lower():
    found = RULES_BY_CODE["TRF-LEVEL"].check(snapshot(medical_trips(1))).flags
    assert found["record_id"].tolist() == ["M0"]
    assert found["score"].tolist() == [MEDICAL_UNCONFIRMED]
    assert "do not show this institution as a hospital" in found["explanation"].iloc[0]


def test_a_hospital_does_not_excuse_a_move_on_another_ground():
    trips = medical_trips(5)
    trips["transfers"].append(transfer("X1", "F1", "F4", "2024-06-01"))  # operational need
    found = RULES_BY_CODE["TRF-LEVEL"].check(snapshot(trips)).flags
    assert found[["record_id", "score"]].values.tolist() == [["X1", 1.0]]


def test_an_institution_nearly_all_of_whose_convicts_are_women_is_read_as_a_womens_colony():
    base = snapshot().tables["convicts"].iloc[0].to_dict()
    women = [{**base, "convict_id": f"W{i}", "sex": "F"} for i in range(5)]
    intakes = [{**transfer(f"I{i}", None, "F2", "2021-01-10", ground="intake"),
                "convict_id": f"W{i}"} for i in range(5)]  # fmt: skip
    s = snapshot({"convicts": women, "transfers": intakes})
    roles = s.roles
    colony = roles[roles["role"].eq("women's colony")]
    assert colony["facility_id"].tolist() == ["F2"]
    run = run_rules(s, (RULES_BY_CODE["TRF-LEVEL"],))
    assert "F2 women's colony (" in run.summary["inferences"].iloc[0]
    assert "women's colony" not in set(snapshot().roles["role"])  # F1 holds one man
