"""A database's name never holds its password, in a URL, a flow parameter or a message
(issue 17). No server needed."""

from __future__ import annotations

import os

import pytest
from pipelines.run_settings import RunSettings

from anomaly.database.connection import (
    DatabaseError,
    DatabaseURL,
    connection_string,
    server_said,
    with_password_moved,
    without_password,
)
from anomaly.database.registry_reading import RegistryDatabase, table_query
from anomaly.ingest.record_schema import TABLES_BY_NAME
from anomaly.ingest.registry_source import source_of, store_of


def test_a_url_with_a_password_is_never_kept():
    with pytest.raises(DatabaseError, match="must not hold a password"):
        DatabaseURL("postgresql://ana:secret@db.example:5432/registry")
    moved = with_password_moved("postgresql://ana:s%40cret@db.example:5432/registry")
    other = with_password_moved("postgresql://bea:other@[::1]/cases")
    assert str(moved) == "postgresql://ana@db.example:5432/registry"
    assert moved.database == "registry" and "other" not in str(other)
    assert connection_string(moved) == "postgresql://ana:s%40cret@db.example:5432/registry"
    assert connection_string(other) == "postgresql://bea:other@[::1]/cases"
    assert os.environ.get("PGPASSWORD") != "other"  # each keeps its own, none in the environment
    assert str(DatabaseURL("postgresql://db.example/x")) == "postgresql://db.example/x"


def test_a_message_from_the_driver_loses_any_password_it_quotes():
    error = RuntimeError("IO: [libpq] could not connect to postgresql://ana:hunter2@db/x\nDETAIL")
    assert server_said(error) == "could not connect to postgresql://ana@db/x"
    assert without_password("postgres://u:p@h/d and more") == "postgres://u@h/d and more"


def test_sources_and_stores_as_a_user_types_them(tmp_path):
    source = source_of("postgresql://reader:pw@db:5432/prison", "registry_2025")
    assert source == RegistryDatabase(DatabaseURL("postgresql://reader@db:5432/prison"),
                                      "registry_2025")  # fmt: skip
    assert source.name == "prison.registry_2025"
    assert source_of(str(tmp_path)) == tmp_path
    assert store_of("postgresql://analyst@db/cases") == DatabaseURL("postgresql://analyst@db/cases")
    assert store_of(str(tmp_path / "s.duckdb")) == tmp_path / "s.duckdb"


def test_a_deployment_names_a_database_without_its_password(tmp_path):
    settings = RunSettings(drop="postgresql://reader@db:5432/prison", db_schema="reg",
                           store="postgresql://analyst@db/cases", out=tmp_path / "run")  # fmt: skip
    assert settings.drop == RegistryDatabase(
        DatabaseURL("postgresql://reader@db:5432/prison"), "reg"
    )
    assert settings.key_path.parent == tmp_path  # no store folder: the key beside the runs
    again = RunSettings(**settings.model_dump(mode="json"))  # as Prefect keeps parameters
    assert again == settings
    with pytest.raises(DatabaseError, match="must not hold a password"):
        RunSettings(drop="postgresql://reader:pw@db/prison", out=tmp_path)


def test_a_table_is_read_in_key_order_with_ids_as_text():
    query = table_query(RegistryDatabase(DatabaseURL("postgresql://h/d"), 'we"ird'),
                        TABLES_BY_NAME["kinship"])  # fmt: skip
    assert 'FROM "we""ird"."kinship"' in query
    assert 'CAST("person_id" AS text) AS "person_id"' in query
    assert 'ORDER BY "convict_id", "person_id", ' in query  # the key first, then the rest
