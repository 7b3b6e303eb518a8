"""The office key: 32 random bytes that make pseudonyms and export ids; it never leaves the office.

Where it is: ``--key PATH``, else the file named by ``ANOMALY_KEY_FILE``,
else ``pseudonym.key`` beside the case store. It is created on the first
run, owner-only. After that it is checked on every run:

- it must be owner-only (no group or other permission bit): a key others can
  read lets them re-identify every export;
- it must hold exactly 32 bytes;
- the case store remembers the key's fingerprint (an HMAC of a fixed text,
  which reveals nothing of the key). A store whose runs used a key refuses a
  run without it, or with another one: a new key would give every convict a
  second pseudonym, and a partner following a case would lose it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from anomaly.known_failures import KeyFileError

KEY_BYTES = 32
KEY_ENV = "ANOMALY_KEY_FILE"
KEY_FILE_NAME = "pseudonym.key"


def key_location(explicit: Path | None, store_folder: Path) -> Path:
    """The key file to use: given, named by ``ANOMALY_KEY_FILE``, or beside the store."""
    if explicit is not None:
        return Path(explicit)
    if os.environ.get(KEY_ENV):
        return Path(os.environ[KEY_ENV])
    return store_folder / KEY_FILE_NAME


def fingerprint(key: bytes) -> str:
    """A short name for a key that reveals nothing of it."""
    return "K-" + hmac.new(key, b"anomaly office key", hashlib.sha256).hexdigest()[:12]


def office_key(path: Path, expected: str | None) -> bytes:
    """The key at ``path``, checked; created when absent and no store expects one.

    Parameters
    ----------
    path
        The key file.
    expected
        The fingerprint the case store remembers, or None for a store that
        has not pseudonymised anything yet.

    Raises
    ------
    KeyFileError
        Missing while the store expects a key, not a regular file, readable
        by group or others, of the wrong length, or another key than the
        store's.
    """
    path = Path(path)
    if not path.exists():
        if expected is not None:
            raise KeyFileError(
                f"{path}: no office key here, but the case store's earlier runs used key "
                f"{expected}; give it with --key or {KEY_ENV} (a new key would give everyone "
                "new pseudonyms)"
            )
        _create(path)
    key = _read_checked(path)
    if expected is not None and fingerprint(key) != expected:
        raise KeyFileError(
            f"{path}: this is key {fingerprint(key)}, but the case store's earlier runs used "
            f"key {expected}; give that one with --key or {KEY_ENV}"
        )
    return key


def _create(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_bytes(KEY_BYTES))


def _read_checked(path: Path) -> bytes:
    status = path.stat()
    if not stat.S_ISREG(status.st_mode):
        raise KeyFileError(f"{path}: the office key must be a regular file")
    mode = stat.S_IMODE(status.st_mode)
    if mode & 0o077:
        raise KeyFileError(
            f"{path}: the office key is readable by others (mode {mode:o}); "
            f"make it owner-only: chmod 600 {path}"
        )
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise KeyFileError(
            f"{path}: an office key is {KEY_BYTES} random bytes; this file holds {len(key)}"
        )
    return key
