"""The visitor network (issue 16): families, the NET rules on lawful and planted patterns,
person cases and their pseudonyms."""

from __future__ import annotations

import pytest

from anomaly.cases.assembly import assemble_cases
from anomaly.network.visitor_network import build
from anomaly.report.pseudonymisation import KnownIdentifiers, Pseudonymiser
from anomaly.rules import RULES_BY_CODE
from anomaly.scoring.case_scoring import SUBJECTS
from support.literal_registry import literal_snapshot

NET = ("NET-KIN", "NET-VISIT", "NET-NAME", "NET-CLUSTER")


def convict(cid: str, region: str = "R1") -> dict:
    return {"convict_id": cid, "sex": "M", "birth_date": "1985-01-01", "home_region_id": region,
            "sentence_start": "2020-03-01", "sentence_end": "2028-03-01",
            "court_security_level": "medium", "offense_gravity": "grave"}  # fmt: skip


def held(cid: str, facility: str = "F1") -> dict:
    return {"transfer_id": f"T-{cid}", "convict_id": cid, "to_facility_id": facility,
            "departed_on": "2020-03-10", "arrived_on": "2020-03-10", "ground": "intake",
            "consent": True, "order_no": f"O-{cid}", "decided_by": "S1",
            "recorded_at": "2020-03-11"}  # fmt: skip


def kin(cid: str, pid: str, relation: str, on: str = "2020-06-01") -> dict:
    return {"convict_id": cid, "person_id": pid, "relation": relation, "registered_on": on,
            "registered_by": "S1", "document_no": f"D-{cid}-{pid}"}  # fmt: skip


def person(pid: str, convict_id: str | None = None) -> dict:
    return {"person_id": pid, "sex": "F", "birth_date": "1960-01-01", "region_id": "R1",
            "convict_id": convict_id}  # fmt: skip


def long_visit(vid: str, cid: str, pid: str, day: str, facility: str = "F1") -> dict:
    return {"visit_id": vid, "convict_id": cid, "facility_id": facility,
            "visitor_person_id": pid, "accompanying": 0, "visit_type": "long",
            "started_at": f"{day} 12:00", "ended_at": f"{day} 20:00", "room": "1",
            "logged_by": "S1", "recorded_at": f"{day} 21:00"}  # fmt: skip


def flagged(rows: dict) -> dict[str, set[str]]:
    """The persons each NET rule flags in the base registry with ``rows`` added."""
    snapshot = literal_snapshot(rows)
    return {code: set(RULES_BY_CODE[code].check(snapshot).flags["record_id"]) for code in NET}


def test_families_are_what_the_records_tie():
    """Two shared relatives, or one brother registered as the other's sibling, tie two
    convicts into one family; one shared relative alone does not."""
    s = literal_snapshot({
        "convicts": [convict(c) for c in ("C2", "C3", "C4", "C5", "C6")],
        "persons": [person("P3"), person("P4"), person("P5", convict_id="C5"), person("P6")],
        "kinship": [kin("C2", "P3", "parent"), kin("C2", "P4", "parent"),
                    kin("C3", "P3", "parent"), kin("C3", "P4", "parent"),  # both parents
                    kin("C4", "P5", "sibling"),  # P5 is the convict C5
                    kin("C6", "P3", "parent")],  # one shared relative only
    })  # fmt: skip
    family = build(s.tables).convicts.set_index("convict_id")["family"]
    assert family["C2"] == family["C3"]
    assert family["C4"] == family["C5"]
    assert family["C6"] != family["C2"]
    assert family["C1"] != family["C2"]


@pytest.mark.parametrize(
    "rows",
    [
        pytest.param({"convicts": [convict("C2", "R2")], "persons": [person("P3"), person("P4")],
                      "kinship": [kin(c, p, "parent") for c in ("C1", "C2") for p in ("P3", "P4")]},
                     id="both parents of brothers from two regions"),
        pytest.param({"convicts": [convict("C2")], "persons": [person("P3")],
                      "kinship": [kin("C1", "P3", "parent"), kin("C2", "P3", "parent")]},
                     id="a single mother of brothers from one region"),
        pytest.param({"persons": [person(f"P{k}") for k in range(3, 12)],
                      "kinship": [kin("C1", f"P{k}", "sibling") for k in range(3, 12)]},
                     id="a large family"),
        pytest.param({"convicts": [convict("C2")], "transfers": [held("C2")],
                      "persons": [person("P3", convict_id="C2")],
                      "kinship": [kin("C1", "P3", "sibling")],
                      "visit_logs": [long_visit("V1", "C1", "P3", "2021-03-01")]},
                     id="a released brother visiting his brother"),
        pytest.param({"convicts": [convict("C2")], "transfers": [held("C2")],
                      "persons": [person("P3")],
                      "kinship": [kin("C1", "P3", "parent"), kin("C2", "P3", "parent",
                                                                 "2021-02-01")],
                      "visit_logs": [long_visit("V1", "C1", "P3", "2021-03-01"),
                                     long_visit("V2", "C2", "P3", "2021-04-01")]},
                     id="a relative registered with documents during the sentence"),
    ],
)  # fmt: skip
def test_lawful_family_patterns_are_clear(rows):
    assert flagged(rows) == {code: set() for code in NET}


def test_a_woman_registered_as_partner_of_three_unrelated_men_is_flagged():
    rows = {
        "convicts": [convict("C2", "R2"), convict("C3", "R1")],
        "transfers": [held("C2", "F4"), held("C3", "F2")],
        "kinship": [kin("C2", "P1", "common_child_parent"), kin("C3", "P1", "spouse")],
    }
    found = RULES_BY_CODE["NET-KIN"].check(literal_snapshot(rows)).flags
    assert found["record_id"].tolist() == ["P1"]
    assert "3 convicts of 3 families" in found["explanation"].iloc[0]
    assert set(found["evidence"].iloc[0].split(";")) == {
        "kinship:C1|P1", "kinship:C2|P1", "kinship:C3|P1"
    }  # fmt: skip
    fewer = RULES_BY_CODE["NET-KIN"].check(
        literal_snapshot({**rows, "kinship": rows["kinship"][:1]})
    )
    assert fewer.flags["score"].iloc[0] < found["score"].iloc[0]


def test_a_wife_on_visits_logged_under_her_husbands_neighbour_is_flagged_not_the_neighbour():
    rows = {
        "convicts": [convict("C2")], "transfers": [held("C2")],
        "visit_logs": [long_visit("V1", "C2", "P1", "2021-03-01"),
                       long_visit("V2", "C2", "P1", "2021-05-01")],
    }  # fmt: skip
    found = flagged(rows)
    assert found["NET-NAME"] == {"P1"}
    assert found["NET-VISIT"] == set()  # one convict not hers: VIS-KIN's, not a network's


def test_person_findings_make_person_cases_pseudonymised_in_the_export():
    rows = {"convicts": [convict("C2", "R2")], "kinship": [kin("C2", "P1", "spouse")]}
    found = RULES_BY_CODE["NET-KIN"].check(literal_snapshot(rows)).flags
    cases = assemble_cases(found.assign(flag_id="F-1"), SUBJECTS)
    assert cases[["subject_type", "subject_id"]].values.tolist() == [["person", "P1"]]
    assert cases["summary"].iloc[0].startswith("Person P1:")
    known = KnownIdentifiers({"P1", "C1", "C2"}, {"F1"})
    out = Pseudonymiser(bytes(range(32))).frame(cases, known)
    text = out.to_csv()
    assert "P1" not in text and "C1" not in text and "C2" not in text
    assert out["subject_type"].iloc[0] == "person"


@pytest.mark.slow
@pytest.mark.parametrize("seed, dialect", [(11, "standard"), (12, "mixed_conventions"),
                                           (13, "other_ids")])  # fmt: skip
def test_on_generated_worlds_the_outsiders_are_caught_and_the_lawful_families_clear(seed, dialect):
    from anomaly.registry.snapshot import Snapshot
    from anomaly.rulebook import load_rulebook
    from anomaly.synthetic.scheme_registry import build_world

    world = build_world("small", seed, dialect=dialect)
    snapshot = Snapshot.of(dict(world.tables), load_rulebook(), world.extracted_at)
    found = {code: set(RULES_BY_CODE[code].check(snapshot).flags["record_id"]) for code in NET}
    labels = world.labels_frame()
    for code, rule in (("kin_of_many", "NET-KIN"), ("visits_under_other_name", "NET-NAME")):
        planted = set(labels.loc[labels["code"].eq(code), "subject_id"])
        assert planted, code
        assert len(planted & found[rule]) >= 0.95 * len(planted), (code, planted - found[rule])
    lawful = labels[
        labels["code"].isin(["parent_of_convicted_brothers", "released_brother_visits"])
    ]
    refs = lawful["records"].str.split(";").explode()
    persons = set(refs[refs.str.startswith("persons:")].str.removeprefix("persons:"))
    assert persons
    assert not persons & set().union(*found.values())
