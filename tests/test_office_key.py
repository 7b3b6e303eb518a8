"""The office key: created owner-only, checked on every run, tied to its case store (issue 13)."""

from __future__ import annotations

import os
import stat

import pytest

from anomaly.known_failures import KeyFileError
from anomaly.office.key import KEY_ENV, fingerprint, key_location, office_key


def test_a_key_is_created_owner_only_and_read_back(tmp_path):
    path = tmp_path / "keys" / "office.key"
    key = office_key(path, expected=None)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert office_key(path, expected=fingerprint(key)) == key


def test_a_key_readable_by_others_is_refused(tmp_path):
    path = tmp_path / "office.key"
    office_key(path, expected=None)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="readable by others .*chmod 600"):
        office_key(path, expected=None)


def test_a_key_of_the_wrong_length_is_refused(tmp_path):
    path = tmp_path / "office.key"
    path.write_bytes(b"short")
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match="32 random bytes; this file holds 5"):
        office_key(path, expected=None)


def test_a_store_that_had_a_key_refuses_to_make_a_new_one(tmp_path):
    with pytest.raises(KeyFileError, match="earlier runs used key K-abc"):
        office_key(tmp_path / "missing.key", expected="K-abc")
    assert not (tmp_path / "missing.key").exists()


def test_another_key_than_the_stores_is_refused(tmp_path):
    path = tmp_path / "office.key"
    key = office_key(path, expected=None)
    with pytest.raises(KeyFileError, match=f"this is key {fingerprint(key)}"):
        office_key(path, expected="K-000000000000")


def test_the_key_is_found_given_then_in_the_environment_then_beside_the_store(
    tmp_path, monkeypatch
):
    monkeypatch.delenv(KEY_ENV, raising=False)
    assert key_location(None, tmp_path) == tmp_path / "pseudonym.key"
    monkeypatch.setenv(KEY_ENV, str(tmp_path / "env.key"))
    assert key_location(None, tmp_path) == tmp_path / "env.key"
    assert key_location(tmp_path / "given.key", tmp_path) == tmp_path / "given.key"


def test_a_fingerprint_reveals_nothing_of_the_key():
    key = bytes(range(32))
    assert key.hex() not in fingerprint(key) and fingerprint(key) != fingerprint(key[::-1])
