"""Each lawful explanation a rule checks: flagged without it, clear (or lower, and saying so)
with it (issue 12: a real registry has conventions our generator did not)."""

from __future__ import annotations

from anomaly.rules import RULES_BY_CODE
from anomaly.rules.rec_authority import ACTING_UNCONFIRMED, BEFORE_POSTING, NO_PROTOCOL
from anomaly.rules.trf_type import UNLISTED_CHANGE
from anomaly.scoring.rule_engine import run_rules
from test_institution_roles import medical_trips
from test_rules import D, degree, event, flagged, snapshot, staff, transfer

DEPUTY = {"staff": [staff("S2", "F1", "deputy_head", "2015-01-01")]}


def test_a_decision_signed_at_another_institution_is_flagged():
    records = {
        "staff": [staff("S2", "F2", "head", "2015-01-01")],
        "degree_assignments": [{**degree("A1", "2021-03-01", 1), "decided_by": "S2"}],
    }
    found = flagged("REC-AUTHORITY", records)
    assert found["score"].tolist() == [1.0]
    assert "served at F2 that day, as head" in found["explanation"].iloc[0]


def test_a_role_that_may_not_decide_a_degree_is_flagged_and_a_deputy_is_flagged_lower():
    officer = {
        "staff": [staff("S3", "F1", "visits_officer", "2015-01-01")],
        "degree_assignments": [{**degree("A1", "2021-03-01", 1), "decided_by": "S3"}],
    }
    assert flagged("REC-AUTHORITY", officer)["score"].tolist() == [1.0]
    acting = {
        **DEPUTY,
        "degree_assignments": [{**degree("A1", "2021-03-01", 1), "decided_by": "S2"}],
    }
    found = flagged("REC-AUTHORITY", acting)
    assert found["score"].tolist() == [ACTING_UNCONFIRMED]
    assert "acting for the head, which the records cannot confirm" in found["explanation"].iloc[0]
    # the commission decides conditions: a deputy sits on it
    from test_rules import change

    conditions = {**DEPUTY, "condition_changes": [{**change("K1", "2021-03-01", "regular", "light"),
                                                   "decided_by": "S2"}]}  # fmt: skip
    assert flagged("REC-AUTHORITY", conditions).empty


def test_a_transfer_is_decided_at_either_end_and_the_committee_anywhere():
    at_destination = {
        "staff": [staff("S2", "F2", "head", "2015-01-01")],
        "transfers": [{**transfer("T1", "F1", "F2", "2021-03-01"), "decided_by": "S2"}],
    }
    assert flagged("REC-AUTHORITY", at_destination).empty
    committee = {
        "staff": [staff("S4", "F3", "committee", "2015-01-01")],
        "transfers": [{**transfer("T1", "F1", "F2", "2021-03-01"), "decided_by": "S4"}],
    }
    assert flagged("REC-AUTHORITY", committee).empty
    elsewhere = {
        "staff": [staff("S5", "F4", "head", "2015-01-01")],
        "transfers": [{**transfer("T1", "F1", "F2", "2021-03-01"), "decided_by": "S5"}],
    }
    assert len(flagged("REC-AUTHORITY", elsewhere)) == 1


def test_a_decision_before_a_posting_elsewhere_is_insufficient_data_not_a_finding():
    # S6 now serves at F2 from 2022; in 2021 he signed at F1: an earlier posting the
    # one-row-per-person staff table cannot show (staff move between institutions)
    moved = {
        "staff": [staff("S6", "F2", "head", "2022-01-01")],
        "degree_assignments": [{**degree("A1", "2021-03-01", 1), "decided_by": "S6"}],
    }
    assert flagged("REC-AUTHORITY", moved).empty
    run = run_rules(snapshot(moved), (RULES_BY_CODE["REC-AUTHORITY"],))
    assert run.outcome("REC-AUTHORITY", "convict", "C1") == "insufficient data"
    # at his own institution before the posting shown: possible, but not shown
    before = {
        "staff": [staff("S6", "F1", "head", "2022-01-01")],
        "degree_assignments": [{**degree("A1", "2021-03-01", 1), "decided_by": "S6"}],
    }
    assert flagged("REC-AUTHORITY", before)["score"].tolist() == [BEFORE_POSTING]


def test_a_milder_type_needs_degree_part_of_term_and_conditions():
    # C1: grave offence, 2020-2030; F5 is a minimum institution
    minimum = {"facilities": [{**snapshot().tables["facilities"].iloc[0].to_dict(),
                               "facility_id": "F5", "security_level": "minimum"}]}  # fmt: skip
    move = transfer("T1", "F1", "F5", "2024-01-10", ground="security_level_change")
    from test_rules import change

    entitled = {
        **minimum,
        "degree_assignments": [degree("A1", "2023-01-01", 2)],
        "condition_changes": [change("K1", "2023-06-01", "regular", "light")],
        "transfers": [move],
    }
    assert flagged("TRF-TYPE", entitled).empty  # 40% of the term served, a third needed
    early = {**entitled, "transfers": [{**move, "departed_on": D("2022-12-20")}]}
    early["degree_assignments"] = [degree("A1", "2022-06-01", 2)]
    early["condition_changes"] = [change("K1", "2022-07-01", "regular", "light")]
    text = flagged("TRF-TYPE", early)["explanation"].iloc[0]
    assert "served 30% of the term, needs 33%" in text
    low = {**entitled, "degree_assignments": [degree("A1", "2023-01-01", 1)]}
    assert "degree +1 (art. 96 needs +2 or +3)" in flagged("TRF-TYPE", low)["explanation"].iloc[0]
    regular = {**entitled, "condition_changes": [change("K1", "2023-06-01", "light", "regular")]}
    assert "in regular conditions" in flagged("TRF-TYPE", regular)["explanation"].iloc[0]


def test_a_court_trip_to_the_pre_trial_centre_is_no_change_of_type():
    trip = {
        "transfers": [
            transfer("T1", "F1", "F3", "2021-03-01", ground="court_order"),
            transfer("T2", "F3", "F1", "2021-03-15", ground="court_order"),
        ]
    }
    assert flagged("TRF-TYPE", trip).empty
    assert flagged("TRF-LEVEL", trip).empty


def test_a_move_into_a_hospital_is_no_change_of_type_and_a_stricter_type_needs_a_violation():
    stricter = {"transfers": [transfer("T9", "F1", "F4", "2024-01-10", ground="court_order")]}
    assert flagged("TRF-TYPE", stricter)["record_id"].tolist() == ["T9"]
    # the same move once F4's records show it to be a hospital (five short medical stays)
    hospital = medical_trips(5)
    hospital["transfers"] += stricter["transfers"]
    assert flagged("TRF-TYPE", hospital).empty
    violator = {**stricter, "disciplinary_events": [event("E1", "2023-06-01", "penalty",
                                                          "malicious_violator")]}  # fmt: skip
    assert flagged("TRF-TYPE", violator).empty


def test_a_milder_change_the_rule_book_does_not_list_is_flagged_lower():
    extreme = {"facilities": [{**snapshot().tables["facilities"].iloc[2].to_dict(),
                               "facility_id": "F6", "security_level": "extreme"}]}  # fmt: skip
    records = {
        **extreme,
        "degree_assignments": [degree("A1", "2023-01-01", 3)],
        "transfers": [
            transfer("T1", "F1", "F6", "2022-01-10", ground="security_level_change"),
            transfer("T2", "F6", "F4", "2024-01-10", ground="security_level_change"),
        ],
        "disciplinary_events": [event("E1", "2021-06-01", "penalty", "malicious_violator")],
    }
    found = flagged("TRF-TYPE", records)
    assert found["record_id"].tolist() == ["T2"]
    assert found["score"].tolist() == [UNLISTED_CHANGE]
    assert "does not provide" in found["explanation"].iloc[0]


def test_a_change_of_conditions_needs_its_commission_protocol_and_an_arrival_is_regular():
    from test_rules import change

    unminuted = {"condition_changes": [{**change("K1", "2021-03-01", "regular", "light"),
                                        "protocol_no": None}]}  # fmt: skip
    found = flagged("REC-AUTHORITY", unminuted)
    assert found["score"].tolist() == [NO_PROTOCOL]
    assert "no commission protocol" in found["explanation"].iloc[0]
    # the arrival row has no protocol, lawfully: the commission does not decide arrival
    assert flagged("REC-AUTHORITY", {"condition_changes": [{**change("K1", "2021-03-01", None,
                                     "regular"), "protocol_no": None}]}).empty  # fmt: skip
    into_light = {"condition_changes": [change("K1", "2021-03-01", None, "light")]}
    text = flagged("COND", into_light)["explanation"].tolist()
    assert text == ["arrival on 2021-03-01 in light conditions: everyone arrives in regular"
                    " conditions"]  # fmt: skip


def test_a_long_visit_needs_an_identified_visitor_when_its_registration_names_one():
    from test_rules import long_visit

    records = long_visit(1, "2021-03-01")
    assert flagged("VIS-REG", records).empty
    records["visit_logs"][0] = {**records["visit_logs"][0], "visitor_person_id": None}
    text = flagged("VIS-REG", records)["explanation"].iloc[0]
    assert "visitor not identified, although the registration names one" in text


def test_an_isolation_lifted_early_allows_a_long_visit_after_the_lift():
    from test_rules import long_visit

    isolated = {"disciplinary_events": [event("E1", "2021-02-25", "penalty", "isolation", days=10)]}
    visit = long_visit(1, "2021-03-01")
    assert len(flagged("VIS-INELIGIBLE", isolated, visit)) == 1
    lift = {**event("E2", "2021-02-27", "incentive", "early_lift"), "lifts_event_id": "E1"}
    assert flagged("VIS-INELIGIBLE", isolated, visit, {"disciplinary_events": [lift]}).empty


def test_a_court_type_on_file_that_is_the_latest_decision_reads_the_earlier_stays_rightly():
    # C1's court type on file is medium; he arrived in F4 (maximum) and a court moved him to
    # F1 (medium): a registry that keeps the court's latest decision. The stay in F4 is lawful
    # and the change is judged from maximum, as served.
    from anomaly.registry.snapshot import Snapshot
    from test_rules import RB

    def without_base_intake(*moves):
        s = snapshot({"transfers": list(moves)})
        tables = {**s.tables, "transfers": s.tables["transfers"].iloc[1:]}
        return Snapshot.of(tables, RB, s.extracted_at)

    intake = transfer("T8", None, "F4", "2020-01-10", ground="intake")
    change = transfer("T9", "F4", "F1", "2024-01-10", ground="security_level_change")
    latest = without_base_intake(intake, change)
    assert RULES_BY_CODE["TRF-LEVEL"].check(latest).flags.empty
    found = RULES_BY_CODE["TRF-TYPE"].check(latest).flags
    assert found["record_id"].tolist() == ["T9"]
    assert "maximum to medium" in found["explanation"].iloc[0]
    # the same intake with no change of type after it: held in the wrong type
    wrong = RULES_BY_CODE["TRF-LEVEL"].check(without_base_intake(intake)).flags
    assert wrong["record_id"].tolist() == ["T8"]


def test_a_transfer_entered_on_arrival_after_a_long_journey_is_not_late():
    journey = {**transfer("T1", "F1", "F2", "2021-03-01"), "arrived_on": D("2021-03-25"),
               "recorded_at": D("2021-04-10")}  # fmt: skip
    assert flagged("REC-LATE", {"transfers": [journey]}).empty  # 16 days after arrival
    late = {**journey, "recorded_at": D("2021-04-26")}
    assert len(flagged("REC-LATE", {"transfers": [late]})) == 1  # 32 days after arrival
