"""Where a PostgreSQL database is, said without its password, and how to open it.

A database is named by a URL ``postgresql://USER[:PASSWORD]@HOST[:PORT]/DB``.
The password never travels with the name: ``DatabaseURL`` keeps the URL
without it (that is what logs, flow parameters, summaries and reports show),
and ``with_password_moved`` keeps a password written in a URL in this
process's memory, put back only into the connection string handed to the
driver (so a source and a store on different servers each keep their own).
libpq also reads ``PGPASSWORD`` and ``~/.pgpass`` (or ``PGPASSFILE``) by
itself, which is how a scheduled deployment should be given one.

Opening a database that is not there, refuses the user or the password, or
is not PostgreSQL is a ``DatabaseError``: a known failure, told in one line
that names the password-free URL and what the server said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from anomaly.known_failures import KnownFailure

SCHEMES = ("postgresql", "postgres")
PASSWORD_ENV = "PGPASSWORD"
_PASSWORDS: dict[str, str] = {}  # password-free URL -> the password typed with it
_PASSWORD_IN_TEXT = re.compile(r"(postgres(?:ql)?://[^:/@\s]*):[^@\s]*@")


class DatabaseError(KnownFailure):
    """A database that cannot be reached, read or written as asked."""


def is_database_url(text: object) -> bool:
    """True when ``text`` names a PostgreSQL database (``postgresql://...``)."""
    return isinstance(text, str) and text.split("://", 1)[0].lower() in SCHEMES and "://" in text


@dataclass(frozen=True)
class DatabaseURL:
    """A PostgreSQL URL without its password (``str`` of it is safe to print)."""

    url: str

    def __post_init__(self) -> None:
        if not is_database_url(self.url):
            raise DatabaseError(f"{self.url!r}: not a postgresql://USER@HOST:PORT/DB URL")
        if urlsplit(self.url).password is not None:
            raise DatabaseError(
                f"{without_password(self.url)}: a stored database URL must not hold a password; "
                f"give it in {PASSWORD_ENV} or ~/.pgpass"
            )

    def __str__(self) -> str:
        return self.url

    @property
    def database(self) -> str:
        """The database's name (the URL's path)."""
        return unquote(urlsplit(self.url).path.lstrip("/")) or "postgres"


def without_password(text: str) -> str:
    """``text`` with the password of any PostgreSQL URL in it replaced by nothing."""
    return _PASSWORD_IN_TEXT.sub(r"\1@", text)


def with_password_moved(url: str) -> DatabaseURL:
    """The URL without its password; a password it held is kept for connecting (this process).

    Over ``PGPASSWORD`` and ``.pgpass``, the password typed in the URL wins."""
    parts = urlsplit(url)
    if parts.password is None:
        return DatabaseURL(url)
    bare = DatabaseURL(_with_netloc(url, password=None))
    _PASSWORDS[bare.url] = unquote(parts.password)
    return bare


def connection_string(url: DatabaseURL) -> str:
    """What the driver is given: the URL with the password typed for it, if one was."""
    password = _PASSWORDS.get(url.url)
    return url.url if password is None else _with_netloc(url.url, password)


def _with_netloc(url: str, password: str | None) -> str:
    parts = urlsplit(url)
    user = quote(unquote(parts.username or ""), safe="")
    secret = "" if password is None else ":" + quote(password, safe="")
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    auth = f"{user}{secret}@" if user or secret else ""
    netloc = f"{auth}{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def connect_arrow(url: DatabaseURL, autocommit: bool = False) -> Any:
    """An ADBC (Arrow) connection to the database; failures told as a ``DatabaseError``."""
    import adbc_driver_postgresql.dbapi as adbc

    try:
        return adbc.connect(connection_string(url), autocommit=autocommit)
    except Exception as error:  # the driver raises its own hierarchy for every refusal
        raise DatabaseError(f"{url}: cannot connect: {server_said(error)}") from error


def connect_rows(url: DatabaseURL) -> Any:
    """A psycopg connection (autocommit; transactions are explicit)."""
    import psycopg

    try:
        return psycopg.connect(connection_string(url), autocommit=True)
    except psycopg.Error as error:
        raise DatabaseError(f"{url}: cannot connect: {server_said(error)}") from error


def server_said(error: BaseException) -> str:
    """The first line of what the driver or server said, without any password."""
    text = str(error).strip().splitlines()
    first = next((line for line in text if line.strip()), type(error).__name__)
    first = re.sub(r"^(INVALID_STATE|IO|UNKNOWN|INTERNAL): (\[libpq\] )?", "", first)
    return without_password(first.strip())
