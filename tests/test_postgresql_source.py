"""The registry read from PostgreSQL: the same cases as the drop, a read-only role, no password
shown, the quarantine naming primary keys (issue 17). Runs against a real server
(``.ci/postgres start``); skipped without one, except in CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from anomaly.database.connection import with_password_moved
from anomaly.database.registry_loading import load_into_database
from anomaly.database.registry_reading import RegistryDatabase, load_database
from anomaly.ingest.record_schema import TABLES

pytestmark = pytest.mark.slow
READER_PASSWORD = "reader-Secret-91"


def anomaly(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "anomaly.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)


def as_role(url: str, role: str, password: str) -> str:
    """The URL of ``url``'s database for another role."""
    host_and_db = url.split("@", 1)[1]
    return f"postgresql://{role}:{password}@{host_and_db}"


def fingerprint(url: str, schema: str) -> dict[str, str]:
    """An md5 of every table's rows, to show the source was left untouched."""
    with psycopg.connect(url) as db:
        return {
            t.name: db.execute(
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                f'FROM "{schema}"."{t.name}" t'
            ).fetchone()[0]
            for t in TABLES
        }


@pytest.fixture
def reader(postgres_database: str) -> str:
    """A role that may only SELECT from the schema ``registry`` (docs/postgresql.md)."""
    with psycopg.connect(postgres_database, autocommit=True) as db:
        db.execute("DROP ROLE IF EXISTS registry_reader")
        db.execute(f"CREATE ROLE registry_reader LOGIN PASSWORD '{READER_PASSWORD}'")
        db.execute("CREATE SCHEMA IF NOT EXISTS registry")
        db.execute("GRANT USAGE ON SCHEMA registry TO registry_reader")
        db.execute(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA registry GRANT SELECT ON TABLES TO registry_reader"
        )
    yield as_role(postgres_database, "registry_reader", READER_PASSWORD)
    with psycopg.connect(postgres_database, autocommit=True) as db:
        db.execute("DROP OWNED BY registry_reader")
        db.execute("DROP ROLE registry_reader")


def world(tmp_path: Path, dialect: str, seed: int) -> Path:
    from anomaly.synthetic.drop_writing import write_world
    from anomaly.synthetic.scheme_registry import build_world

    drop = tmp_path / f"{dialect}_{seed}"
    write_world(build_world("tiny", seed, dialect=dialect), drop, tmp_path / f"{dialect}.csv")
    return drop


def loaded(url: str, drop: Path, schema: str = "registry") -> RegistryDatabase:
    target = RegistryDatabase(with_password_moved(url), schema)
    load_into_database(drop, target, replace=True)
    return target


@pytest.mark.parametrize(("dialect", "seed"), [("standard", 5), ("legacy_export", 6)])
def test_a_world_read_through_a_select_only_role_gives_the_cases_of_its_drop(
    postgres_database, reader, tmp_path, dialect, seed
):
    drop = world(tmp_path, dialect, seed)
    loaded(postgres_database, drop)
    before = fingerprint(postgres_database, "registry")
    from_drop = anomaly("score", str(drop), "--out", str(tmp_path / "csv"))
    from_db = anomaly("score", reader, "--schema", "registry", "--out", str(tmp_path / "db"))
    assert from_drop.returncode == 0, from_drop.stderr
    assert from_db.returncode == 0, from_db.stderr
    columns = ["case_id", "rank", "rules", "evidence"]
    csv_cases = pd.read_csv(tmp_path / "csv" / "cases.csv", dtype=str)[columns]
    db_cases = pd.read_csv(tmp_path / "db" / "cases.csv", dtype=str)[columns]
    assert len(csv_cases) > 10
    pd.testing.assert_frame_equal(csv_cases, db_cases)
    assert fingerprint(postgres_database, "registry") == before  # the source is untouched
    with pytest.raises(psycopg.errors.InsufficientPrivilege):  # and the role could not write
        with psycopg.connect(reader) as db:
            db.execute("DELETE FROM registry.visit_logs")


def test_the_password_shows_nowhere_and_a_wrong_one_is_told_in_one_line(
    postgres_database, reader, tmp_path, tiny_world_drop
):
    loaded(postgres_database, tiny_world_drop)
    out = tmp_path / "run"
    key = tmp_path / "office.key"
    ran = anomaly("run", reader, "--out", str(out), "--key", str(key))
    assert ran.returncode == 0, ran.stderr
    assert READER_PASSWORD not in ran.stdout + ran.stderr
    summary = (out / "validation_summary.json").read_text()
    assert "registry_reader@" in summary and READER_PASSWORD not in summary
    for file in out.rglob("*"):
        if file.is_file():
            assert READER_PASSWORD.encode() not in file.read_bytes(), file
    wrong = reader.replace(READER_PASSWORD, "not-the-password")
    refused = anomaly("validate", wrong, "--out", str(tmp_path / "v"))
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: postgresql://registry_reader@")
    assert "not-the-password" not in refused.stderr and "Traceback" not in refused.stderr


def test_the_password_comes_from_pgpassword_or_a_pgpass_file(
    postgres_database, reader, tmp_path, tiny_world_drop
):
    loaded(postgres_database, tiny_world_drop)
    bare = reader.replace(f":{READER_PASSWORD}@", "@")
    env = {k: v for k, v in os.environ.items() if k not in ("PGPASSWORD", "PGPASSFILE")}
    with_env = anomaly("validate", bare, "--out", str(tmp_path / "a"),
                       env={**env, "PGPASSWORD": READER_PASSWORD})  # fmt: skip
    assert with_env.returncode == 0, with_env.stderr
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"*:*:*:registry_reader:{READER_PASSWORD}\n")
    pgpass.chmod(0o600)
    with_file = anomaly("validate", bare, "--out", str(tmp_path / "b"),
                        env={**env, "PGPASSFILE": str(pgpass)})  # fmt: skip
    assert with_file.returncode == 0, with_file.stderr
    assert (tmp_path / "a" / "validation_summary.json").read_text().count("rows_read") >= 1


def test_the_quarantine_names_a_rejected_rows_primary_key(postgres_database, tmp_path, drop):
    target = loaded(postgres_database, drop)
    with psycopg.connect(postgres_database) as db:
        visit = db.execute("SELECT * FROM registry.visit_logs LIMIT 1").fetchone()
        empty = db.execute("SELECT * FROM registry.visit_logs LIMIT 0")
        names = [d.name for d in empty.description]
        row = dict(zip(names, visit, strict=True)) | {"visit_id": "V-ORPHAN", "convict_id": "X9"}
        db.execute(
            f"INSERT INTO registry.visit_logs ({', '.join(names)}) "
            f"VALUES ({', '.join(['%s'] * len(names))})",
            list(row.values()),
        )
    ran = anomaly("validate", postgres_database, "--out", str(tmp_path / "v"))
    assert ran.returncode == 0, ran.stderr
    quarantine = pd.read_csv(tmp_path / "v" / "quarantine" / "visit_logs.csv", dtype=str)
    orphan = quarantine[quarantine["visit_id"].eq("V-ORPHAN")]
    assert orphan["source_file"].tolist() == ["registry.visit_logs"]
    assert orphan["source_key"].tolist() == ["visit_id=V-ORPHAN"]
    assert "X9" in orphan["reasons"].iloc[0]
    assert load_database(target).extracted_at_source == "registry.manifest"


def test_a_missing_table_or_schema_is_refused_before_anything_runs(
    postgres_database, tmp_path, drop
):
    loaded(postgres_database, drop)
    with psycopg.connect(postgres_database, autocommit=True) as db:
        db.execute("DROP TABLE registry.transfers")
    missing = anomaly("validate", postgres_database, "--out", str(tmp_path / "a"))
    assert missing.returncode == 2
    assert "required table(s) missing: transfers" in missing.stderr
    nowhere = anomaly("run", postgres_database, "--schema", "nothing", "--out", str(tmp_path / "b"))
    assert nowhere.returncode == 2 and "no such schema" in nowhere.stderr
    assert not (tmp_path / "b").exists()


def test_without_a_manifest_the_extraction_time_is_the_snapshots(postgres_database, drop):
    target = loaded(postgres_database, drop)
    with psycopg.connect(postgres_database, autocommit=True) as db:
        db.execute("DROP TABLE registry.manifest")
        now = db.execute("SELECT localtimestamp").fetchone()[0]
    read = load_database(target)
    assert read.extracted_at_source.startswith("the transaction snapshot of")
    assert abs(read.extracted_at - pd.Timestamp(now)) < pd.Timedelta(minutes=1)


def test_tables_are_read_in_one_read_only_snapshot(postgres_database, drop, monkeypatch):
    """Rows added while the registry is read are not seen: every table is read as of one
    moment; and the reading transaction cannot write."""
    from anomaly.database import registry_reading

    target = loaded(postgres_database, drop)
    original = registry_reading._load_table
    added = []

    def read_then_add(cursor, source, spec, columns):
        table = original(cursor, source, spec, columns)
        if not added:  # after the first table, another writer adds a person
            with psycopg.connect(postgres_database, autocommit=True) as db:
                db.execute("INSERT INTO registry.persons (person_id) VALUES ('P-LATE')")
            added.append(spec.name)
        return table

    monkeypatch.setattr(registry_reading, "_load_table", read_then_add)
    read = load_database(target)
    persons = read.tables["persons"].typed["person_id"]
    assert added == ["regions"] and not persons.eq("P-LATE").any()
    assert load_database(target).tables["persons"].typed["person_id"].eq("P-LATE").sum() == 1
    with registry_reading._snapshot(target) as cursor:
        with pytest.raises(Exception, match="read-only transaction"):
            cursor.execute("CREATE TABLE registry.scratch (a int)")
