"""Shared fixtures: a tiny clean drop written by hand, and ways to plant defects in it."""

from __future__ import annotations

import csv
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import settings

from anomaly.contracts.suites import ContractRunner, ContractSuite, load_contracts
from anomaly.contracts.validation import ValidationResult, validate_drop
from anomaly.ingest.drop_loading import load_drop

TINY_DROP = Path(__file__).resolve().parents[1] / "examples" / "tiny_drop"

# In CI the property tests draw the same examples every run, so that a submission's result
# does not depend on luck; on a developer's machine they keep exploring new seeds.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    """A fresh copy of the hand-written clean drop."""
    target = tmp_path / "drop"
    shutil.copytree(TINY_DROP, target)
    return target


@pytest.fixture(scope="session")
def contracts() -> dict[str, ContractSuite]:
    return load_contracts()


@pytest.fixture(scope="session")
def runner() -> ContractRunner:
    return ContractRunner()


@pytest.fixture
def validate(
    contracts: dict[str, ContractSuite], runner: ContractRunner
) -> Callable[[Path], ValidationResult]:
    def run(path: Path) -> ValidationResult:
        return validate_drop(load_drop(path), contracts, runner)

    return run


def read_rows(drop: Path, table: str) -> list[dict[str, str]]:
    with (drop / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(drop: Path, table: str, rows: list[dict[str, str]]) -> None:
    with (drop / f"{table}.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def edit_row(drop: Path, table: str, line: int, **cells: str) -> None:
    """Change cells of the row on ``line`` (header = line 1) of a table's CSV."""
    rows = read_rows(drop, table)
    rows[line - 2].update(cells)
    write_rows(drop, table, rows)


def add_row(drop: Path, table: str, **cells: str) -> int:
    """Append a row (unspecified cells empty); return its line number."""
    rows = read_rows(drop, table)
    rows.append({name: cells.get(name, "") for name in rows[0]})
    write_rows(drop, table, rows)
    return len(rows) + 1


def quarantined(result: ValidationResult, table: str) -> dict[int, str]:
    """Quarantined source lines of a table, mapped to their failed checks."""
    q = result.tables[table].quarantine
    return dict(zip(q["source_line"].astype(int), q["failed_checks"], strict=True))


@pytest.fixture(scope="session")
def small_world():
    """A corrupted small synthetic world (about 2,000 convicts), built once per session."""
    from anomaly.synthetic.scheme_registry import build_world

    return build_world("small", 11)


@pytest.fixture(scope="session")
def prefect_server():
    """A temporary Prefect server for every flow test of the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def tiny_world_drop(tmp_path_factory) -> Path:
    """A corrupted tiny synthetic world written as a drop (truth beside it, not in it)."""
    from anomaly.synthetic.drop_writing import write_world
    from anomaly.synthetic.scheme_registry import build_world

    root = tmp_path_factory.mktemp("tiny_world")
    write_world(build_world("tiny", 3), root / "drop", root / "labels.csv")
    return root / "drop"


POSTGRES_ENV = "ANOMALY_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of a PostgreSQL superuser (``.ci/postgres start`` sets it).

    Without a server the database tests are skipped with the reason, except in CI,
    where a missing server fails them: CI must never turn green by skipping."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        message = f"no PostgreSQL server: `source .ci/postgres start` sets {POSTGRES_ENV}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture
def postgres_database(postgres_server: str, request: pytest.FixtureRequest):
    """A fresh, empty database on the test server for one test (dropped after it)."""
    import re
    import uuid

    import psycopg

    name = "t_" + re.sub(r"\W", "_", request.node.name.lower())[:40] + "_" + uuid.uuid4().hex[:8]
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = postgres_server.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=["duckdb", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a case store goes: a DuckDB file, or a fresh PostgreSQL database."""
    if request.param == "duckdb":
        return str(tmp_path / "store.duckdb")
    return request.getfixturevalue("postgres_database")
