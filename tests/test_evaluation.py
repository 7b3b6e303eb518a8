"""anomaly evaluate: which planted instances the ranked cases catch."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from anomaly.cli import app
from anomaly.evaluation import evaluate

LABELS = pd.DataFrame(
    [
        (
            "over-1",
            "scheme",
            "long_visits_over_quota",
            "convict",
            "C1",
            "visit_logs:V1;visit_logs:V2",
            "",
        ),
        ("over-2", "scheme", "long_visits_over_quota", "convict", "C2", "visit_logs:V3", ""),
        ("rooms-1", "scheme", "room_overbooking", "facility", "F1", "visit_logs:V9", ""),
        ("neg-1", "hard_negative", "medical_transfer", "convict", "C7", "transfers:T7", ""),
        ("neg-2", "hard_negative", "large_family", "convict", "C8", "", ""),
    ],
    columns=["instance_id", "kind", "code", "subject_type", "subject_id", "records", "note"],
)


def cases(*rows):
    return pd.DataFrame(rows, columns=["rank", "subject_type", "subject_id", "evidence"])


def test_subject_or_shared_evidence_catches_an_instance():
    result = evaluate(
        cases(
            (1, "convict", "C1", ""),  # subject
            (2, "staff", "S5", "visit_logs:V3"),  # evidence of over-2
            (3, "convict", "C99", "visit_logs:V100"),  # nothing
        ),
        LABELS,
        k=10,
    )
    row = result.table.set_index("scheme").loc["long_visits_over_quota"]
    assert (row["instances"], row["caught_top_k"], row["recall_top_k"]) == (2, 2, 1.0)
    assert result.table.set_index("scheme").loc["room_overbooking", "caught_anywhere"] == 0
    assert result.precision_at_k == 2 / 3


def test_only_the_top_k_count_for_recall_and_precision():
    ranked = cases((1, "convict", "C99", ""), (2, "convict", "C98", ""), (3, "facility", "F1", ""))
    result = evaluate(ranked, LABELS, k=2)
    row = result.table.set_index("scheme").loc["room_overbooking"]
    assert (row["caught_top_k"], row["caught_anywhere"]) == (0, 1)
    assert result.precision_at_k == 0.0


def test_default_k_is_twice_the_planted_instances():
    assert evaluate(cases((1, "convict", "C1", "")), LABELS).k == 6


def test_hard_negatives_flagged_by_a_case_or_a_flag():
    flags = pd.DataFrame({"table": ["transfers"], "record_id": ["T7"]})
    result = evaluate(cases((1, "convict", "C8", "")), LABELS, flags)
    assert (result.hard_negatives, result.hard_negatives_flagged) == (2, 2)


def test_cli_prints_and_writes_the_table(tmp_path):
    LABELS.to_csv(tmp_path / "labels.csv", index=False)
    cases((1, "convict", "C1", "visit_logs:V1")).to_csv(tmp_path / "cases.csv", index=False)
    result = CliRunner().invoke(
        app, ["evaluate", "--labels", str(tmp_path / "labels.csv"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "precision@6" in result.output
    table = pd.read_csv(tmp_path / "evaluation.csv")
    assert table.set_index("scheme").loc["ALL", "instances"] == 3


def test_precision_recall_by_rank_walks_down_the_ranking():
    from anomaly.evaluation import precision_recall_by_rank

    labels = pd.DataFrame(
        {"instance_id": ["a", "b"], "kind": ["scheme", "scheme"], "code": ["x", "y"],
         "subject_type": ["convict", "convict"], "subject_id": ["C1", "C2"],
         "records": ["", ""], "note": ["", ""]}
    )  # fmt: skip
    cases = pd.DataFrame(
        {"case_id": ["1", "2", "3"], "subject_type": ["convict"] * 3,
         "subject_id": ["C1", "C9", "C2"], "rank": [1, 2, 3], "risk_score": [0.9, 0.8, 0.7],
         "evidence": ["", "", ""]}
    )  # fmt: skip
    curve = precision_recall_by_rank(cases, labels)
    assert curve["precision"].tolist() == [1.0, 0.5, 2 / 3]
    assert curve["recall"].tolist() == [0.5, 0.5, 1.0]
