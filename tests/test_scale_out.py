"""Scoring on partitions of convicts over a Dask LocalCluster gives the single-process result."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from pipelines.score_records import dask_runner, score_flow, score_partitioned_flow
from pipelines.validate_drop import validate_drop_flow

from anomaly.scoring.partitions import WHOLE, plan_partitions

OUTPUTS = ("cases.csv", "flags.csv", "watchlist.csv")


def test_partitions_cover_every_region_once_and_balance():
    convicts = pd.DataFrame({"home_region_id": ["A"] * 50 + ["B"] * 30 + ["C"] * 25 + ["D"] * 5})
    plan = plan_partitions(convicts, 2)
    assert sorted(r for part in plan for r in part) == ["A", "B", "C", "D"]
    sizes = [convicts["home_region_id"].isin(part).sum() for part in plan]
    assert max(sizes) - min(sizes) <= 10
    assert plan_partitions(convicts, 9) == [["A"], ["B"], ["C"], ["D"]]


def test_rules_that_need_other_convicts_run_on_the_whole_registry():
    # TRF-LEVEL reads what an institution is from everyone's transfers (issue 12)
    assert {rule.code for rule in WHOLE} == {
        "VIS-ROOMS",
        "VIS-REG",
        "TRF-LEVEL",
        "TRF-TYPE",
        "REC-LIFT",
        "NET-KIN",  # the visitor network spans convicts (issue 16)
        "NET-VISIT",
        "NET-NAME",
        "NET-CLUSTER",
    }


@pytest.mark.slow
def test_dask_local_cluster_with_two_workers_matches_one_process(
    prefect_server, tiny_world_drop, tmp_path
):
    single, spread = tmp_path / "single", tmp_path / "spread"
    validate_drop_flow(tiny_world_drop, single)
    shutil.copytree(single, spread)
    score_flow(single)
    runner = dask_runner(workers=2)
    counts = score_partitioned_flow.with_options(task_runner=runner)(spread, partitions=3)
    assert counts["cases"] > 0
    for name in OUTPUTS:
        expected = pd.read_csv(single / name, dtype=str)
        got = pd.read_csv(spread / name, dtype=str)
        pd.testing.assert_frame_equal(got, expected, obj=name)
    outcomes = [pd.read_csv(d / "rule_outcomes.csv") for d in (single, spread)]
    pd.testing.assert_frame_equal(outcomes[1], outcomes[0], check_dtype=False)
