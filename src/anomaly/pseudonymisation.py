"""Replace personal identifiers by keyed hashes for anything that leaves the oversight office.

A pseudonym is ``<prefix>-`` and the first 12 hex digits of HMAC-SHA256 of
the identifier under a secret key. The key is a file kept by the office (never
exported, created on first use with owner-only permissions); the same key
gives the same pseudonyms run after run, so a partner can follow a case
without learning who it is. The mapping back (pseudonym -> identifier) is
written next to the run, for the office only.

Convicts, persons and staff members are people: their ids are replaced, also
inside ``evidence`` references of people-tables and inside summaries and
explanations. Institutions and regions are public bodies and keep their ids.
Record ids of event tables (visits, transfers...) are opaque and carry no
personal data; they are replaced too, so that a record cannot be looked up
outside the office.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

import pandas as pd

PEOPLE_COLUMNS = ("subject_id", "convict_id", "staff_id", "record_id")
TOKEN = re.compile(r"[\w|-]+")  # identifiers are words, possibly with - or | (kinship pairs)
PUBLIC_TABLES = ("facilities", "regions")


def load_or_create_key(path: Path | str) -> bytes:
    """The office's pseudonymisation key; created (32 random bytes) if absent."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(secrets.token_bytes(32))
        os.chmod(path, 0o600)
    key = path.read_bytes()
    if len(key) < 16:
        raise ValueError(f"{path}: a pseudonymisation key needs at least 16 bytes")
    return key


class Pseudonymiser:
    """Keyed, stable pseudonyms for identifiers; remembers the mapping it made."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.mapping: dict[str, str] = {}

    def __call__(self, identifier: str) -> str:
        if identifier in self.mapping:
            return self.mapping[identifier]
        digest = hmac.new(self.key, identifier.encode(), hashlib.sha256).hexdigest()[:12]
        pseudonym = f"X-{digest}"
        self.mapping[identifier] = pseudonym
        return pseudonym

    def frame(
        self, frame: pd.DataFrame, people: set[str] | frozenset[str] = frozenset()
    ) -> pd.DataFrame:
        """A copy with people and record ids replaced, in ids, evidence and free text.

        ``people`` adds identifiers (every convict, person and staff id of the
        registry) that must be replaced wherever they appear in the text.
        """
        out = frame.copy()
        private = self._private_ids(out) | set(people)
        for column in PEOPLE_COLUMNS:
            if column in out.columns:
                out[column] = out[column].map(
                    lambda v: self(str(v)) if isinstance(v, str) and v in private else v
                )
        if "evidence" in out.columns:
            out["evidence"] = out["evidence"].fillna("").map(self._evidence)

        def swap(match: re.Match) -> str:
            token = match.group(0)
            return self(token) if token in private else token

        for column in ("summary", "explanation"):
            if column in out.columns:
                out[column] = out[column].fillna("").str.replace(TOKEN, swap, regex=True)
        return out

    def mapping_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {"pseudonym": list(self.mapping.values()), "identifier": list(self.mapping)}
        )

    def _private_ids(self, frame: pd.DataFrame) -> set[str]:
        ids: set[str] = set()
        for column in ("convict_id", "staff_id"):
            if column in frame.columns:
                ids |= set(frame[column].dropna().astype(str))
        if {"subject_type", "subject_id"} <= set(frame.columns):
            people = frame[frame["subject_type"].isin(["convict", "staff"])]
            ids |= set(people["subject_id"].astype(str))
        if {"table", "record_id"} <= set(frame.columns):
            private = frame[~frame["table"].isin(PUBLIC_TABLES)]
            ids |= set(private["record_id"].astype(str))
        if "evidence" in frame.columns:
            for refs in frame["evidence"].dropna():
                ids |= {r.split(":", 1)[1] for r in str(refs).split(";")
                        if ":" in r and r.split(":", 1)[0] not in PUBLIC_TABLES}  # fmt: skip
        return ids

    def _evidence(self, refs: str) -> str:
        out = []
        for ref in filter(None, refs.split(";")):
            table, _, record = ref.partition(":")
            out.append(ref if table in PUBLIC_TABLES else f"{table}:{self(record)}")
        return ";".join(out)


def people_ids(tables: dict[str, pd.DataFrame]) -> set[str]:
    """Every convict, person and staff id of a registry: the words an export must not show."""
    ids: set[str] = set()
    for table, column in (
        ("convicts", "convict_id"),
        ("persons", "person_id"),
        ("staff", "staff_id"),
    ):
        if table in tables:
            ids |= set(tables[table][column].dropna().astype(str))
    return ids
