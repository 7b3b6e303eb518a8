"""Rules on tiny invented registries: the cases beyond each rule's worked example.

The worked examples and the contract every rule meets are in test_rule_examples.py.
"""

from __future__ import annotations

import pandas as pd
import pytest

from anomaly.registry.snapshot import Snapshot
from anomaly.rulebook import load_rulebook
from anomaly.rules import RULES_BY_CODE
from anomaly.rules.rule import Reasons
from anomaly.scoring.rule_engine import run_rules
from support.literal_registry import base_registry, literal_snapshot

D = pd.Timestamp
RB = load_rulebook()


def transfer(tid, src, dst, on, ground="operational_need", consent=True, order="O-1"):
    day = D(on)
    return {
        "transfer_id": tid,
        "convict_id": "C1",
        "from_facility_id": src,
        "to_facility_id": dst,
        "departed_on": day,
        "arrived_on": day,
        "ground": ground,
        "consent": consent,
        "order_no": order,
        "decided_by": "S1",
        "recorded_at": day + pd.Timedelta(days=1),
    }


def change(cid, on, old, new, facility="F1"):
    day = D(on)
    return {
        "change_id": cid,
        "convict_id": "C1",
        "facility_id": facility,
        "changed_on": day,
        "from_condition": old,
        "to_condition": new,
        "protocol_no": "PR-1",
        "decided_by": "S1",
        "recorded_at": day + pd.Timedelta(days=2),
    }


def staff(sid, facility, role, start, end=None):
    return {
        "staff_id": sid,
        "facility_id": facility,
        "role": role,
        "from_date": D(start),
        "to_date": D(end) if end else pd.NaT,
    }


def degree(aid, on, value):
    day = D(on)
    return {
        "assignment_id": aid,
        "convict_id": "C1",
        "facility_id": "F1",
        "assigned_on": day,
        "degree": value,
        "decided_by": "S1",
        "recorded_at": day + pd.Timedelta(days=2),
    }


def event(eid, on, kind, measure, days=None):
    day = D(on)
    return {
        "event_id": eid,
        "convict_id": "C1",
        "facility_id": "F1",
        "occurred_on": day,
        "kind": kind,
        "measure": measure,
        "isolation_days": days,
        "lifts_event_id": None,
        "decided_by": "S1",
        "recorded_at": day + pd.Timedelta(days=1),
    }


def visit(vid, on, person="P1", kind="long", registration="R1", facility="F1"):
    start = D(on) + pd.Timedelta(hours=12)
    end = start + (pd.Timedelta(days=2) if kind == "long" else pd.Timedelta(hours=2))
    return {
        "visit_id": vid,
        "convict_id": "C1",
        "facility_id": facility,
        "visitor_person_id": person,
        "accompanying": 0,
        "visit_type": kind,
        "started_at": start,
        "ended_at": end,
        "room": "1" if kind == "long" else None,
        "registration_id": registration if kind == "long" else None,
        "logged_by": "S1",
        "recorded_at": end + pd.Timedelta(days=1),
    }


def registration(rid, on, person="P1", decision="approved"):
    day = D(on)
    return {
        "registration_id": rid,
        "convict_id": "C1",
        "facility_id": "F1",
        "visitor_person_id": person,
        "requested_on": day - pd.Timedelta(days=20),
        "decided_on": day - pd.Timedelta(days=10),
        "decision": decision,
        "decided_by": "S1",
        "planned_start": day,
        "planned_days": 2,
        "basis": "quota",
        "incentive_event_id": None,
        "recorded_at": day - pd.Timedelta(days=10),
    }


def long_visit(n, on, person="P1"):
    """A long visit with its approved registration."""
    return {
        "visit_logs": [visit(f"V{n}", on, person, registration=f"R{n}")],
        "long_visit_registrations": [registration(f"R{n}", on, person)],
    }


def snapshot(*extras: dict[str, list[dict]]) -> Snapshot:
    return literal_snapshot(*extras, rulebook=RB)


def flagged(code: str, *extras) -> pd.DataFrame:
    findings = RULES_BY_CODE[code].check(snapshot(*extras))
    return findings.flags


SIX_MONTHS_OF_WORK_AND_PLUS_1 = {
    "disciplinary_events": [event("E1", "2020-02-01", "incentive", "gratitude")],
    "degree_assignments": [degree("A1", "2020-05-01", 1)],
}


def test_a_missing_optional_table_is_insufficient_data_not_clear():
    plus2 = {
        "degree_assignments": [degree("A1", "2020-05-01", 1), degree("A2", "2020-11-02", 2)],
        "disciplinary_events": [event("E1", "2020-02-01", "incentive", "gratitude")],
    }
    s = snapshot(plus2)
    without = Snapshot.of(s.tables, RB, s.extracted_at, missing=("memberships",))
    run = run_rules(without)
    assert run.outcome("DEG-POS", "convict", "C1") == "insufficient data"
    assert run_rules(s).outcome("DEG-POS", "convict", "C1") == "flagged"  # not a member


def test_a_demotion_needs_a_violation():
    light = {
        **SIX_MONTHS_OF_WORK_AND_PLUS_1,
        "condition_changes": [
            change("K1", "2020-07-10", "regular", "light"),
            change("K2", "2021-01-10", "light", "regular"),
        ],
    }
    found = flagged("COND", light)
    assert found["record_id"].tolist() == ["K2"]
    assert "without a penalty" in found["explanation"].iloc[0]
    penalised = {
        **light,
        "disciplinary_events": light["disciplinary_events"]
        + [event("E2", "2021-01-05", "penalty", "reprimand")],
    }
    assert flagged("COND", penalised).empty


def test_the_rule_book_has_exactly_the_sections_of_the_rules(tmp_path):
    from anomaly.rulebook import RulebookError

    assert set(RB.rules) == set(RULES_BY_CODE)
    override = tmp_path / "mine.yaml"
    override.write_text("rules:\n  VIS-TYPO:\n    evidence: {value: contradiction, reason: x}\n")
    with pytest.raises(RulebookError, match="VIS-TYPO"):
        load_rulebook(override)
    override.write_text("rules:\n  VIS-KIN:\n    evidence: {value: hearsay, reason: x}\n")
    with pytest.raises(RulebookError, match="rules.VIS-KIN.evidence: unknown evidence class"):
        load_rulebook(override)


def test_reasons_explain_only_the_rows_found_in_the_order_given():
    rows = pd.DataFrame({"n": [1, 2, 3, 4]})
    reasons = Reasons(rows)
    reasons.add(rows["n"].gt(2), "large")
    reasons.add(rows["n"].eq(4) | rows["n"].eq(1), "n is " + rows["n"].astype(str))
    assert reasons.found.tolist() == [True, False, True, True]
    hit = rows[reasons.found]
    assert reasons.explain("row " + hit["n"].astype(str)).tolist() == [
        "row 1: n is 1",
        "row 3: large",
        "row 4: large; n is 4",
    ]


def test_a_reason_not_aligned_with_the_rows_is_refused():
    rows = pd.DataFrame({"n": [1, 2, 3]})
    with pytest.raises(ValueError, match="aligned"):
        Reasons(rows).add(rows["n"].gt(1).sort_index(ascending=False), "reordered")


def test_kinship_is_matched_for_ids_absent_from_their_tables_and_never_on_a_null_visitor():
    stray = {
        "visit_logs": [
            {**visit("V1", "2021-03-01", person="P9"), "convict_id": "X9"},
            visit("V2", "2021-03-01", person=None),
        ],
        "kinship": [{**base_registry()["kinship"][0], "convict_id": "X9", "person_id": "P9"}],
    }
    found = flagged("VIS-KIN", stray)
    assert found["record_id"].tolist() == ["V2"]
    assert found["explanation"].tolist() == [
        "long visit on 2021-03-01 by (no visitor id): unidentified visitor"
    ]
