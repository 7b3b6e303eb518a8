"""Each rule on a tiny invented registry: a literal case that must flag, one at the boundary
that must not, and a contract test over the whole registry (issue 4)."""

from __future__ import annotations

import importlib
import pkgutil

import pandas as pd
import pytest

import anomaly.rules as rules_package
from anomaly.ingest.record_schema import TABLES, Kind
from anomaly.registry.snapshot import Snapshot
from anomaly.rulebook import load_rulebook
from anomaly.rules import RULES, RULES_BY_CODE
from anomaly.rules.rule import FLAG_COLUMNS, Findings, Reasons
from anomaly.scoring.rule_engine import run_rules

D = pd.Timestamp
TYPES = {
    Kind.DATE: "datetime64[us]",
    Kind.TIMESTAMP: "datetime64[us]",
    Kind.INT: "Int64",
    Kind.FLOAT: "float64",
    Kind.BOOL: "boolean",
}
RB = load_rulebook()


def base() -> dict[str, list[dict]]:
    """One medium institution in region R1, convict C1 from R1 held there since 2020."""
    return {
        "regions": [
            {"region_id": "R1", "name": "North", "lat": 50.0, "lon": 70.0},
            {"region_id": "R2", "name": "South", "lat": 43.0, "lon": 77.0},
        ],
        "facilities": [
            {
                "facility_id": "F1",
                "name": "No. 1",
                "region_id": "R2",
                "security_level": "medium",
                "capacity": 100,
                "long_visit_rooms": 1,
                "opened_on": D("1990-01-01"),
                "closed_on": pd.NaT,
            },
            {
                "facility_id": "F2",
                "name": "No. 2",
                "region_id": "R1",
                "security_level": "medium",
                "capacity": 2,
                "long_visit_rooms": 1,
                "opened_on": D("1990-01-01"),
                "closed_on": pd.NaT,
            },
            {
                "facility_id": "F4",
                "name": "No. 4",
                "region_id": "R2",
                "security_level": "maximum",
                "capacity": 100,
                "long_visit_rooms": 1,
                "opened_on": D("1990-01-01"),
                "closed_on": pd.NaT,
            },
            {
                "facility_id": "F3",
                "name": "SIZO",
                "region_id": "R1",
                "security_level": "mixed",
                "capacity": 50,
                "long_visit_rooms": 0,
                "opened_on": D("1990-01-01"),
                "closed_on": pd.NaT,
            },
        ],
        "staff": [
            {
                "staff_id": "S1",
                "facility_id": "F1",
                "role": "head",
                "from_date": D("2010-01-01"),
                "to_date": pd.NaT,
            }
        ],
        "convicts": [
            {
                "convict_id": "C1",
                "sex": "M",
                "birth_date": D("1980-01-01"),
                "home_region_id": "R1",
                "sentence_start": D("2020-01-01"),
                "sentence_end": D("2030-01-01"),
                "court_security_level": "medium",
                "offense_gravity": "grave",
                "released_on": pd.NaT,
            }
        ],
        "persons": [
            {
                "person_id": "P1",
                "sex": "F",
                "birth_date": D("1982-01-01"),
                "region_id": "R1",
                "death_date": pd.NaT,
                "convict_id": None,
            },
            {
                "person_id": "P2",
                "sex": "F",
                "birth_date": D("1990-01-01"),
                "region_id": "R1",
                "death_date": pd.NaT,
                "convict_id": None,
            },
        ],
        "kinship": [
            {
                "convict_id": "C1",
                "person_id": "P1",
                "relation": "spouse",
                "registered_on": D("2019-06-01"),
                "registered_by": "S1",
                "document_no": "MC-1",
            }
        ],
        "transfers": [transfer("T0", None, "F1", "2020-01-10", ground="intake")],
        "condition_changes": [change("K0", "2020-01-10", None, "regular")],
        "degree_assignments": [],
        "disciplinary_events": [],
        "long_visit_registrations": [],
        "visit_logs": [],
        "memberships": [],
        "work_assignments": [
            {
                "convict_id": "C1",
                "facility_id": "F1",
                "started_on": D("2020-02-01"),
                "ended_on": pd.NaT,
                "kind": "work",
            }
        ],
    }


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
    tables = base()
    for extra in extras:
        for name, rows in extra.items():
            tables[name] = tables[name] + rows
    frames = {}
    for spec in TABLES:
        frame = pd.DataFrame(tables[spec.name], columns=list(spec.column_names))
        for column in spec.columns:
            frame[column.name] = frame[column.name].astype(TYPES.get(column.kind, "string"))
        frames[spec.name] = frame
    return Snapshot.of(frames, RB, D("2025-01-05"))


def flagged(code: str, *extras) -> pd.DataFrame:
    findings = RULES_BY_CODE[code].check(snapshot(*extras))
    return findings.flags


SIX_MONTHS_OF_WORK_AND_PLUS_1 = {
    "disciplinary_events": [event("E1", "2020-02-01", "incentive", "gratitude")],
    "degree_assignments": [degree("A1", "2020-05-01", 1)],
}

CASES = {
    # rule: (records that must flag, records at the boundary that must not)
    "DEG-POS": (
        {
            "disciplinary_events": [event("E1", "2020-03-01", "incentive", "gratitude")],
            "degree_assignments": [degree("A1", "2020-05-31", 1)],
        },  # 3 months minus a day
        {
            "disciplinary_events": [event("E1", "2020-03-01", "incentive", "gratitude")],
            "degree_assignments": [degree("A1", "2020-06-01", 1)],
        },  # exactly 3 months
    ),
    "DEG-NEG": (
        {
            "disciplinary_events": [event("E1", "2020-03-01", "penalty", "warning")],
            "degree_assignments": [degree("A1", "2021-03-01", -1)],
        },  # 12 months: out of window
        {
            "disciplinary_events": [event("E1", "2020-03-02", "penalty", "warning")],
            "degree_assignments": [degree("A1", "2021-03-01", -1)],
        },
    ),
    "COND": (
        {
            **SIX_MONTHS_OF_WORK_AND_PLUS_1,
            "condition_changes": [change("K1", "2020-07-09", "regular", "light")],
        },
        {
            **SIX_MONTHS_OF_WORK_AND_PLUS_1,
            "condition_changes": [change("K1", "2020-07-10", "regular", "light")],
        },
    ),
    "VIS-QUOTA": (
        {"visit_logs": [visit(f"V{i}", f"2021-0{i}-03", kind="short") for i in range(1, 8)]},
        {"visit_logs": [visit(f"V{i}", f"2021-0{i}-03", kind="short") for i in range(1, 7)]},
    ),
    "VIS-KIN": (long_visit(1, "2021-03-01", person="P2"), long_visit(1, "2021-03-01")),
    "VIS-INELIGIBLE": (
        {
            **long_visit(1, "2021-03-05"),
            "disciplinary_events": [event("E1", "2021-03-01", "penalty", "isolation", 5)],
        },
        {
            **long_visit(1, "2021-03-06"),
            "disciplinary_events": [event("E1", "2021-03-01", "penalty", "isolation", 5)],
        },
    ),
    "VIS-REG": (
        {"visit_logs": [visit("V1", "2021-03-01", registration=None)]},
        long_visit(1, "2021-03-01"),
    ),
    "VIS-IMPOSSIBLE": (
        {
            **long_visit(1, "2021-03-01", person="P3"),
            "persons": [
                {
                    "person_id": "P3",
                    "sex": "M",
                    "birth_date": D("1950-01-01"),
                    "region_id": "R1",
                    "death_date": D("2021-02-28"),
                    "convict_id": None,
                }
            ],
        },
        {
            **long_visit(1, "2021-03-01", person="P3"),
            "persons": [
                {
                    "person_id": "P3",
                    "sex": "M",
                    "birth_date": D("1950-01-01"),
                    "region_id": "R1",
                    "death_date": D("2021-03-01"),
                    "convict_id": None,
                }
            ],
        },
    ),
    "VIS-ROOMS": (
        {"visit_logs": [visit("V1", "2021-03-01"), visit("V2", "2021-03-02")]},  # 1 room
        {"visit_logs": [visit("V1", "2021-03-01"), visit("V2", "2021-03-03")]},
    ),
    "TRF-GROUNDS": (
        {"transfers": [transfer("T1", "F1", "F2", "2021-03-01", consent=None)]},
        {"transfers": [transfer("T1", "F1", "F2", "2021-03-01", consent=True)]},
    ),
    "TRF-REORG": (
        {"transfers": [transfer("T1", "F1", "F2", "2021-03-01", ground="reorganization")]},
        {"transfers": [transfer("T1", "F1", "F2", "2021-03-01", ground="medical")]},
    ),
    "TRF-HOME": (
        {"transfers": [transfer("T1", "F1", "F3", "2021-03-01", ground="order_maintenance")]},
        {"transfers": [transfer("T1", "F1", "F3", "2021-03-01", ground="medical")]},
    ),
    "TRF-LEVEL": (
        {"transfers": [transfer("T1", "F1", "F4", "2021-03-01")]},
        {"transfers": [transfer("T1", "F1", "F4", "2021-03-01", ground="security_level_change")]},
    ),
    "VIS-LENGTH": (
        {
            "visit_logs": [
                {**visit("V1", "2021-03-01", kind="short"), "ended_at": D("2021-03-01 16:01")}
            ]
        },
        {
            "visit_logs": [
                {**visit("V1", "2021-03-01", kind="short"), "ended_at": D("2021-03-01 16:00")}
            ]
        },
    ),
    "REC-LATE": (
        {"degree_assignments": [{**degree("A1", "2021-03-01", 0), "recorded_at": D("2021-04-01")}]},
        {"degree_assignments": [{**degree("A1", "2021-03-01", 0), "recorded_at": D("2021-03-31")}]},
    ),
    "REC-PLACE": (
        {"visit_logs": [visit("V1", "2021-03-01", kind="short", facility="F2")]},
        {"visit_logs": [visit("V1", "2021-03-01", kind="short", facility="F1")]},
    ),
    "REC-AUTHORITY": (
        {
            "staff": [staff("S9", "F1", "head", "2015-01-01", "2021-02-28")],
            "degree_assignments": [{**degree("A1", "2021-03-01", 1), "decided_by": "S9"}],
        },  # the day after the head left
        {
            "staff": [staff("S9", "F1", "head", "2015-01-01", "2021-03-01")],
            "degree_assignments": [{**degree("A1", "2021-03-01", 1), "decided_by": "S9"}],
        },  # his last day
    ),
    "TRF-TYPE": (
        {
            "disciplinary_events": [event("E1", "2020-02-28", "penalty", "malicious_violator")],
            "transfers": [transfer("T1", "F1", "F4", "2021-03-01", ground="security_level_change")],
        },  # medium to maximum a year and a day after the malicious violation
        {
            "disciplinary_events": [event("E1", "2020-03-01", "penalty", "malicious_violator")],
            "transfers": [transfer("T1", "F1", "F4", "2021-03-01", ground="security_level_change")],
        },
    ),
}


def test_every_rule_has_a_literal_case():
    assert set(CASES) == set(RULES_BY_CODE)


@pytest.mark.parametrize("code", sorted(CASES))
def test_the_literal_case_flags_and_the_boundary_does_not(code):
    bad, boundary = CASES[code]
    found = flagged(code, bad)
    assert len(found) >= 1, code
    assert found["rule"].eq(code).all()
    assert flagged(code, boundary).empty, flagged(code, boundary)["explanation"].tolist()


def test_the_clean_base_registry_flags_nothing():
    run = run_rules(snapshot())
    assert run.flags.empty, run.flags["explanation"].tolist()


def test_every_rule_module_is_registered_and_every_entry_resolves():
    modules = {
        name
        for _, name, _ in pkgutil.iter_modules(rules_package.__path__)
        if name not in {"rule", "windows"}
    }
    registered = {rule.check.__module__.rsplit(".", 1)[1] for rule in RULES}
    assert modules == registered
    for name in modules:
        module = importlib.import_module(f"anomaly.rules.{name}")
        assert module.RULE in RULES


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_contract(rule):
    """Every rule: metadata, the flag shape, determinism, a weight in the rule book."""
    assert rule.code and rule.statement.endswith(".") and "rules.md" in rule.legal_basis
    assert rule.subject in {"convict", "staff", "facility"}
    assert 0 < RB.scoring.strength(rule.code) <= 1
    bad, _ = CASES[rule.code]
    first, second = rule.check(snapshot(bad)), rule.check(snapshot(bad))
    assert isinstance(first, Findings)
    assert list(first.flags.columns) == FLAG_COLUMNS
    pd.testing.assert_frame_equal(first.flags, second.flags)
    assert first.flags["score"].between(0, 1).all()
    assert first.flags["explanation"].str.len().gt(10).all()


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


def test_the_rule_book_weighs_exactly_the_registered_rules(tmp_path):
    from anomaly.rulebook import RulebookError

    assert set(RB.scoring.rule_evidence) == set(RULES_BY_CODE)
    override = tmp_path / "mine.yaml"
    override.write_text("scoring:\n  rule_evidence:\n    VIS-TYPO: contradiction\n")
    with pytest.raises(RulebookError, match="VIS-TYPO"):
        run_rules(Snapshot.of(snapshot().tables, load_rulebook(override), D("2025-01-05")))


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
        "kinship": [{**base()["kinship"][0], "convict_id": "X9", "person_id": "P9"}],
    }
    found = flagged("VIS-KIN", stray)
    assert found["record_id"].tolist() == ["V2"]
    assert found["explanation"].tolist() == [
        "long visit on 2021-03-01 by (no visitor id): unidentified visitor"
    ]
