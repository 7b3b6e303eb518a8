"""Rules on records validation could not keep whole: a nulled cell or a quarantined row is
never read as "absent" or "clear" (issue 11)."""

from __future__ import annotations

import dataclasses

import pandas as pd

from anomaly.registry.snapshot import NULLED_COLUMNS, QUARANTINED_COLUMNS
from anomaly.rules import RULES_BY_CODE
from anomaly.scoring.rule_engine import run_rules
from test_rules import RB, change, degree, event, snapshot, transfer, visit

FACTOR = RB.scoring.incomplete_evidence_factor.value


def with_gaps(s, nulled=(), quarantined=()):
    """The snapshot with cells validation nulled (table, line, column) and rows it quarantined
    (table, convict_id)."""
    cells = pd.DataFrame(list(nulled), columns=NULLED_COLUMNS)
    held = pd.DataFrame(
        [{"table": t, "source_line": 99, "convict_id": c} for t, c in quarantined],
        columns=QUARANTINED_COLUMNS,
    )
    return dataclasses.replace(s, nulled=cells, quarantined=held)


def line_of(s, table, column, value):
    frame = s[table]
    return int(frame.index[frame[column].eq(value)][0])


def outcome(s, code):
    run = run_rules(s, (RULES_BY_CODE[code],))
    return run, run.outcome(code, "convict", "C1")


NEGATIVE_WITHOUT_PENALTY = {
    "disciplinary_events": [event("E1", "2020-03-01", "penalty", "warning")],
    "degree_assignments": [degree("A1", "2021-03-01", -1)],
}


def test_a_quarantined_row_of_the_subject_weighs_the_finding_down_and_says_why():
    # the penalty DEG-NEG misses may be the row that was quarantined
    s = snapshot(NEGATIVE_WITHOUT_PENALTY)
    whole, _ = outcome(s, "DEG-NEG")
    gapped, state = outcome(with_gaps(s, quarantined=[("disciplinary_events", "C1")]), "DEG-NEG")
    assert len(whole.flags) == len(gapped.flags) == 1
    assert gapped.flags["score"].iloc[0] == whole.flags["score"].iloc[0] * FACTOR
    assert "quarantined from disciplinary_events" in gapped.flags["explanation"].iloc[0]
    assert "quarantined from disciplinary_events" in gapped.insufficient["reason"].iloc[0]
    assert state == "flagged"


def test_a_quarantined_row_of_another_convict_changes_nothing():
    s = with_gaps(snapshot(NEGATIVE_WITHOUT_PENALTY), quarantined=[("disciplinary_events", "C9")])
    run, _ = outcome(s, "DEG-NEG")
    assert run.flags["score"].iloc[0] == RB.strength("DEG-NEG")


def test_an_unseen_visit_cannot_push_visits_over_the_quota():
    over = {"visit_logs": [visit(f"V{i}", f"2021-0{i}-03", kind="short") for i in range(1, 8)]}
    s = with_gaps(snapshot(over), quarantined=[("visit_logs", "C1")])
    run, _ = outcome(s, "VIS-QUOTA")
    assert not run.flags.empty
    assert not run.flags["explanation"].str.contains("incomplete").any()


def test_an_unjudged_subject_is_insufficient_data_not_clear():
    s = snapshot()  # nothing to flag
    assert outcome(s, "DEG-NEG")[1] == "clear"
    assert outcome(with_gaps(s, quarantined=[("degree_assignments", "C1")]), "DEG-NEG")[1] == (
        "insufficient data"
    )


def test_a_nulled_institution_level_leaves_its_convicts_insufficient_for_the_quota():
    s = snapshot({"visit_logs": [visit("V1", "2021-03-03", kind="short")]})
    s.tables["facilities"].loc[line_of(s, "facilities", "facility_id", "F1"), "security_level"] = (
        pd.NA
    )
    nulled = [("facilities", line_of(s, "facilities", "facility_id", "F1"), "security_level")]
    run, state = outcome(with_gaps(s, nulled=nulled), "VIS-QUOTA")
    assert state == "insufficient data"
    assert "facilities.security_level nulled" in run.insufficient["reason"].iloc[0]


def test_a_nulled_closing_date_is_unknown_not_still_open():
    reorg = {"transfers": [transfer("T1", "F1", "F2", "2021-03-01", ground="reorganization")]}
    s = snapshot(reorg)
    assert len(RULES_BY_CODE["TRF-REORG"].check(s).flags) == 1  # F1 stayed open
    nulled = [("facilities", line_of(s, "facilities", "facility_id", "F1"), "closed_on")]
    gapped = with_gaps(s, nulled=nulled)
    assert RULES_BY_CODE["TRF-REORG"].check(gapped).flags.empty
    assert outcome(gapped, "TRF-REORG")[1] == "insufficient data"


def test_a_nulled_sentence_end_is_unknown_not_a_life_sentence():
    to_preferential = {
        "degree_assignments": [degree("A3", "2028-01-01", 3)],
        "condition_changes": [
            change("K1", "2028-06-01", "regular", "light"),
            change("K2", "2029-06-01", "light", "preferential"),
        ],
    }
    s = snapshot(to_preferential)
    s.tables["convicts"]["sentence_end"] = pd.NaT
    life = RULES_BY_CODE["COND"].check(s).flags
    assert any("months before release" in text for text in life["explanation"])
    nulled = [("convicts", line_of(s, "convicts", "convict_id", "C1"), "sentence_end")]
    unknown = RULES_BY_CODE["COND"].check(with_gaps(s, nulled=nulled)).flags
    assert not any("months before release" in text for text in unknown["explanation"])


def test_a_visit_of_unknown_type_is_not_judged_as_too_long():
    s = snapshot({"visit_logs": [{**visit("V1", "2021-03-01"), "visit_type": None}]})
    assert RULES_BY_CODE["VIS-LENGTH"].check(s).flags.empty


def test_an_unknown_court_level_is_not_a_level_mismatch():
    s = snapshot({"transfers": [transfer("T1", "F1", "F4", "2021-03-01")]})
    assert len(RULES_BY_CODE["TRF-LEVEL"].check(s).flags) == 1
    s.tables["convicts"]["court_security_level"] = pd.NA
    assert RULES_BY_CODE["TRF-LEVEL"].check(s).flags.empty


def test_every_cell_a_rule_reads_exists_in_the_spec():
    from anomaly.ingest.record_schema import TABLES_BY_NAME
    from anomaly.rules import RULES

    for rule in RULES:
        assert rule.reads, rule.code
        for read in rule.reads:
            table, column = read.split(".")
            assert column in TABLES_BY_NAME[table].column_names, (rule.code, read)
        for table in rule.needs_complete or ():
            assert table in (*rule.tables, *rule.optional_tables), (rule.code, table)
