"""Three rules against their plain DuckDB SQL readings (benchmarks/reference_rules.sql).

Two implementations of the same rule-book text, written apart, must flag the
same records; a difference is a misreading in one of them.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from anomaly.registry.snapshot import Snapshot
from anomaly.rulebook import load_rulebook

BENCHMARK = Path(__file__).parents[1] / "benchmarks" / "pipeline_stages.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("pipeline_stages", BENCHMARK)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("code", ["VIS-QUOTA", "VIS-KIN", "TRF-GROUNDS"])
def test_our_rule_and_its_sql_reading_flag_the_same_records(bench, small_world, code):
    snapshot = Snapshot.of(dict(small_world.tables), load_rulebook(), small_world.extracted_at)
    ours = bench.flagged_records(snapshot, code)
    sql = bench.ids(bench.duckdb_reference(snapshot)[code]())
    assert ours, f"{code} flags nothing on a corrupted world: the comparison would be empty"
    assert ours == sql, {"only ours": sorted(ours - sql)[:5], "only SQL": sorted(sql - ours)[:5]}
