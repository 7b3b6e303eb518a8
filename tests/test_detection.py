"""Statistical detectors, case assembly and the whole scoring on a synthetic world (issue 4)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from anomaly.cases.assembly import assemble_cases
from anomaly.evaluation import evaluate
from anomaly.outliers.detectors import DETECTORS
from anomaly.outliers.ensemble import ensemble_scores, peer_outlier_flags
from anomaly.registry.snapshot import Snapshot
from anomaly.rulebook import load_rulebook
from anomaly.rules.rule import FLAG_COLUMNS
from anomaly.scoring.case_scoring import SUBJECTS, score

RB = load_rulebook()


def peers(n: int = 40, seed: int = 0) -> pd.DataFrame:
    """An invented peer group of staff members with ordinary, noisy rates."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "extra_visit_incentives": rng.normal(0.04, 0.01, n).clip(0),
            "other_incentives": rng.normal(0.15, 0.03, n).clip(0),
            "positive_degrees": rng.normal(0.2, 0.05, n).clip(0),
        },
        index=[f"S{i:02d}" for i in range(n)],
    )
    return frame.assign(peer_group="deputy_head")


@pytest.mark.parametrize("detector", DETECTORS, ids=lambda d: d.code)
def test_detector_contract(detector):
    assert detector.subject in {"convict", "staff", "facility"}
    assert detector.code in SUBJECTS and detector.statement.endswith(".")
    assert detector.subject in RB.scoring.statistical_weight.value
    assert detector.subject in RB.scoring.statistical_threshold.value


def test_the_planted_outlier_ranks_first_and_is_explained():
    group = peers()
    group.loc["S07", "extra_visit_incentives"] = 0.6  # ten times the others
    numeric = group.drop(columns="peer_group")
    settings = load_rulebook().outliers
    scores = ensemble_scores(numeric, settings)
    assert scores.idxmax() == "S07"
    assert scores.between(0, 1).all()
    pd.testing.assert_series_equal(scores, ensemble_scores(numeric, settings))  # fixed seeds
    flags = peer_outlier_flags(group, "staff", "STAT-STAFF", 0.95, 0.7, settings)
    assert list(flags.columns) == [*FLAG_COLUMNS, "unlearned_score"]
    assert flags["unlearned_score"].eq(flags["score"]).all()  # no verdicts: nothing learned
    assert flags["staff_id"].tolist() == ["S07"]
    assert "extra_visit_incentives 0.6" in flags["explanation"].iloc[0]
    assert "40 deputy_head peers" in flags["explanation"].iloc[0]


def test_a_subject_with_less_than_its_peers_is_not_flagged():
    group = peers()
    group.loc["S07", ["extra_visit_incentives", "other_incentives", "positive_degrees"]] = 0.0
    flagged = peer_outlier_flags(group, "staff", "STAT-STAFF", 0.9, 0.7, load_rulebook().outliers)
    assert "S07" not in set(flagged["staff_id"])


def flag(rule, record, convict="C1", score=0.9, table="visit_logs"):
    row = dict.fromkeys(FLAG_COLUMNS)
    row.update(
        rule=rule,
        table=table,
        record_id=record,
        convict_id=convict,
        score=score,
        explanation=f"{rule} on {record}",
        evidence="",
    )
    return row


def test_cases_combine_rules_by_noisy_or_and_keep_their_ids():
    flags = pd.DataFrame(
        [
            flag("VIS-KIN", "V1", score=0.5),
            flag("VIS-KIN", "V2", score=0.5),
            flag("VIS-QUOTA", "V2", score=0.5),
            flag("VIS-KIN", "V9", "C2", 0.6),
        ]
    )
    cases = assemble_cases(flags, SUBJECTS)
    first = cases.set_index("subject_id").loc["C1"]
    assert first["risk_score"] == pytest.approx(0.75)  # 1 - (1 - .5)(1 - .5): one per rule
    assert first["rank"] == 1 and first["rules"] == "VIS-KIN;VIS-QUOTA"
    assert first["evidence"] == "visit_logs:V1;visit_logs:V2"
    assert first["summary"].startswith("Convict C1: ")
    again = assemble_cases(flags.iloc[::-1], SUBJECTS)
    assert again.set_index("subject_id")["case_id"].equals(cases.set_index("subject_id")["case_id"])
    fewer = assemble_cases(flags.iloc[:2], SUBJECTS)
    assert fewer["case_id"].iloc[0] == first["case_id"]  # one case per subject (issue 15)


def test_a_finding_of_an_unknown_rule_is_refused_not_given_to_a_convict():
    with pytest.raises(ValueError, match="VIS-TYPO"):
        assemble_cases(pd.DataFrame([flag("VIS-TYPO", "V1")]), SUBJECTS)


@pytest.fixture(scope="module")
def scored_small_world(small_world):
    tables = {name: frame for name, frame in small_world.tables.items()}
    snapshot = Snapshot.of(tables, RB, small_world.extracted_at)
    return score(snapshot), small_world.labels_frame()


def test_scoring_a_small_world_catches_the_planted_schemes(scored_small_world):
    """End to end on a small world: the quality bar of issue 4, at small scale."""
    scored, labels = scored_small_world
    result = evaluate(scored.cases, labels, scored.flags)
    recall = result.table.set_index("scheme")["recall_top_k"]
    assert recall["ALL"] >= 0.95, result.text()
    assert result.precision_at_k >= 0.8, result.text()
    assert result.hard_negatives_flagged <= 0.02 * result.hard_negatives, result.text()


def test_scoring_is_deterministic_and_cases_are_ranked(scored_small_world, small_world):
    scored, _ = scored_small_world
    again = score(Snapshot.of(dict(small_world.tables), RB, small_world.extracted_at))
    pd.testing.assert_frame_equal(scored.cases, again.cases)
    assert scored.cases["rank"].tolist() == list(range(1, len(scored.cases) + 1))
    assert scored.cases["risk_score"].is_monotonic_decreasing
    assert scored.cases["risk_score"].between(RB.scoring.case_threshold.value, 1).all()
    assert scored.flags["flag_id"].is_unique


def test_hbos_compiled_with_numbas_cache_scores_as_pyod_does():
    """The ensemble swaps PyOD's per-process compilation of HBOS's scoring for a cached one
    of the same function: the scores must not change."""
    from pyod.models import hbos
    from pyod.models.hbos import HBOS

    from anomaly.outliers.ensemble import _cache_hbos_compilation

    x = np.random.default_rng(3).lognormal(size=(300, 4))
    _cache_hbos_compilation()
    model = HBOS().fit(x)
    plain = hbos._calculate_outlier_scores.py_func(
        x, model.bin_edges_, model.hist_, model.n_bins, model.alpha, model.tol
    )
    np.testing.assert_allclose(model.decision_scores_, -plain.sum(axis=1))
