"""Where a run reads the registry: a drop folder (or a folder of drops), or a database schema.

Commands and flows take either a path or a ``postgresql://`` URL (with the
schema apart, ``registry`` by default) and hand it to these functions, which
give the same ``Drop`` to the contracts whichever it is.
"""

from __future__ import annotations

from pathlib import Path

from anomaly.database.connection import DatabaseURL, is_database_url, with_password_moved
from anomaly.database.registry_reading import RegistryDatabase, check_database, load_database
from anomaly.ingest.drop_loading import Drop, check_drop, load_drop

RegistrySource = Path | RegistryDatabase
DEFAULT_SCHEMA = "registry"


def source_of(location: str | Path | RegistryDatabase, schema: str | None = None) -> RegistrySource:
    """A path or database URL, as typed by a user, as a source.

    A password in the URL is handed to libpq (``PGPASSWORD``) and dropped from
    the URL, so that it shows in no log, parameter or report."""
    if isinstance(location, RegistryDatabase):
        return location
    if is_database_url(str(location)):
        return RegistryDatabase(with_password_moved(str(location)), schema or DEFAULT_SCHEMA)
    return Path(location)


def store_of(location: str | Path | None) -> Path | DatabaseURL | None:
    """A case store as typed by a user: a DuckDB file's path, or a PostgreSQL URL (its
    password handed to libpq, as for a source)."""
    if location is None:
        return None
    if is_database_url(str(location)):
        return with_password_moved(str(location))
    return Path(location)


def check_source(source: RegistrySource) -> None:
    """Refuse at once a source that cannot be read (files, headers; schema, tables, columns)."""
    if isinstance(source, RegistryDatabase):
        check_database(source)
    else:
        check_drop(source)


def load_source(source: RegistrySource) -> Drop:
    """Every table of the source, read and typed (``ingest.drop_loading.Drop``)."""
    if isinstance(source, RegistryDatabase):
        return load_database(source)
    return load_drop(source)
