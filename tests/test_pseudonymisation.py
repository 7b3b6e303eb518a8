"""The pseudonymised export: keyed, stable, and no personal identifier left (issue 5)."""

from __future__ import annotations

import stat

import pandas as pd

from anomaly.pseudonymisation import Pseudonymiser, load_or_create_key

CASES = pd.DataFrame(
    {
        "case_id": ["C-1", "C-2"],
        "subject_type": ["convict", "facility"],
        "subject_id": ["CV100", "FC7"],
        "evidence": ["visit_logs:VS1;persons:PS9", "facilities:FC7;visit_logs:VS2"],
        "summary": ["Convict CV100: long visit by PS9 (VIS-KIN).", "Institution FC7: CV1000 ..."],
    }
)


def test_same_key_same_pseudonyms_other_key_others(tmp_path):
    key = load_or_create_key(tmp_path / "office.key")
    assert stat.S_IMODE((tmp_path / "office.key").stat().st_mode) == 0o600
    assert load_or_create_key(tmp_path / "office.key") == key
    first = Pseudonymiser(key).frame(CASES, {"CV1000"})
    second = Pseudonymiser(key).frame(CASES, {"CV1000"})
    pd.testing.assert_frame_equal(first, second)
    other = Pseudonymiser(load_or_create_key(tmp_path / "other.key")).frame(CASES, {"CV1000"})
    assert other["subject_id"].iloc[0] != first["subject_id"].iloc[0]


def test_no_identifier_of_a_person_is_left_and_institutions_stay(tmp_path):
    pseudonymise = Pseudonymiser(load_or_create_key(tmp_path / "k"))
    out = pseudonymise.frame(CASES, {"CV1000"})
    text = out.to_csv()
    for identifier in ("CV100", "PS9", "VS1", "VS2", "CV1000"):
        assert identifier not in text.replace("FC7", ""), identifier
    assert out["subject_id"].iloc[1] == "FC7"
    assert "facilities:FC7" in out["evidence"].iloc[1]
    assert out["summary"].iloc[0].startswith("Convict X-")
    mapping = pseudonymise.mapping_frame().set_index("identifier")["pseudonym"]
    assert mapping["CV100"] == out["subject_id"].iloc[0]
