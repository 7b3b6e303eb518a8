"""Flows run for real under a temporary Prefect server."""

from __future__ import annotations

import json

import pytest
from pipelines.validate_drop import validate_drop_flow
from prefect.testing.utilities import prefect_test_harness


@pytest.fixture(scope="module")
def prefect_server():
    with prefect_test_harness(server_startup_timeout=120):
        yield


def test_validate_flow_writes_quarantine_and_summary(prefect_server, drop, tmp_path):
    (drop / "regions.csv").open("a").write("R09,,1,1\n")  # name missing
    summary = validate_drop_flow(drop, tmp_path / "out")
    assert summary["totals"]["quarantined"] == 1
    on_disk = json.loads((tmp_path / "out" / "validation_summary.json").read_text())
    assert on_disk["tables"]["regions"] == summary["tables"]["regions"]
    assert (tmp_path / "out" / "quarantine" / "regions.csv").read_text().count("\n") == 2
