"""Replace personal identifiers by keyed pseudonyms in anything that leaves the oversight office.

A pseudonym is ``X-`` and the first 12 hex digits of HMAC-SHA256 of the
identifier under the office key (``office.key``). The same key gives the same
pseudonyms run after run, so a partner can follow a case without learning who
it is; without the key, enumerating plausible identifiers finds nothing. The
way back (pseudonym -> identifier) is written next to the run, for the office
only.

Which text is replaced
    Every identifier of the registry is known: the key of every table
    (convicts, persons, staff, visits, transfers...) and the document, order
    and protocol numbers. Institutions and regions are public bodies and keep
    their ids. Free text is searched for these identifiers exactly, longest
    first, with one Aho-Corasick automaton: an identifier is replaced
    wherever it stands, whatever characters it holds (spaces, ``/``, ``;``,
    quotes). An occurrence glued to a letter or digit on a side where the
    identifier itself ends in a letter or digit is part of a longer word and
    is left alone, so that the id ``12`` does not eat the ``12`` of ``2012``.

Which columns are replaced
    Every text column but the closed vocabularies of the outputs (rule codes,
    table names, statuses, dates). Internal ``case_id`` and ``flag_id`` are
    unkeyed hashes of identifiers: the export carries keyed ones instead.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable

import ahocorasick
import pandas as pd

from anomaly.ingest.record_schema import TABLES, Kind

PUBLIC_TABLES = ("facilities", "regions")
DOCUMENT_COLUMNS = ("document_no", "order_no", "protocol_no")
VOCABULARY_COLUMNS = frozenset(
    {"rule", "rules", "table", "subject_type", "status", "first_seen", "severity", "kind"}
)
EXPORT_IDS = {"case_id": "C", "flag_id": "F"}
WORD = re.compile(r"[^\W_]+")  # letters and digits: what an identifier may not be glued to


class Pseudonymiser:
    """Keyed, stable pseudonyms for identifiers; remembers the mapping it made."""

    def __init__(self, key: bytes) -> None:
        self.key = key
        self._made: dict[tuple[str, str], str] = {}  # (prefix, keyed text) -> pseudonym

    def __call__(self, identifier: str) -> str:
        return self._keyed("X", identifier)

    def export_id(self, column: str, internal: str) -> str:
        """The keyed id that stands for an internal ``case_id`` or ``flag_id`` in the export."""
        return self._keyed(EXPORT_IDS[column], f"{column}|{internal}")

    def frame(self, frame: pd.DataFrame, known: KnownIdentifiers) -> pd.DataFrame:
        """A copy fit to leave the office: export ids keyed, identifiers replaced in every text."""
        out = frame.copy()
        for column in out.columns:
            if column in EXPORT_IDS:
                out[column] = out[column].map(
                    lambda v, c=column: self.export_id(c, str(v)) if isinstance(v, str) else v
                )
            elif column not in VOCABULARY_COLUMNS and _is_text(out[column]):
                out[column] = out[column].map(
                    lambda v: known.replace(v, self) if isinstance(v, str) else v
                )
        return out

    def mapping_frame(self) -> pd.DataFrame:
        """The way back, for the office: every pseudonym made and the text it stands for."""
        return pd.DataFrame(
            {"pseudonym": list(self._made.values()), "identifier": [t for _, t in self._made]}
        )

    def _keyed(self, prefix: str, text: str) -> str:
        if (prefix, text) not in self._made:
            width = 12 if prefix == "X" else 16
            digest = hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()[:width]
            self._made[(prefix, text)] = f"{prefix}-{digest}"
        return self._made[(prefix, text)]


class KnownIdentifiers:
    """Every identifier of a registry, found in text by one automaton (longest match first)."""

    def __init__(self, private: Iterable[str], public: Iterable[str] = ()) -> None:
        self.private = {i for i in private if i}
        self._automaton = ahocorasick.Automaton()
        for identifier in {i for i in public if i} - self.private:
            self._automaton.add_word(identifier, (identifier, False))
        for identifier in self.private:
            self._automaton.add_word(identifier, (identifier, True))
        self._empty = len(self._automaton) == 0
        if not self._empty:
            self._automaton.make_automaton()

    def replace(self, text: str, pseudonymise: Pseudonymiser) -> str:
        """``text`` with every private identifier standing in it replaced by its pseudonym."""
        if self._empty or not text:
            return text
        pieces, position = [], 0
        for start, end, identifier, private in self._matches(text):
            pieces.append(text[position:start])
            pieces.append(pseudonymise(identifier) if private else identifier)
            position = end
        pieces.append(text[position:])
        return "".join(pieces)

    def _matches(self, text: str) -> list[tuple[int, int, str, bool]]:
        """Non-overlapping whole-word occurrences, leftmost first, the longest at each start."""
        found = sorted(
            ((last + 1 - len(identifier), last + 1, identifier, private)
             for last, (identifier, private) in self._automaton.iter(text)
             if _stands_alone(text, last + 1 - len(identifier), last + 1)),
            key=lambda m: (m[0], -m[1]),
        )  # fmt: skip
        chosen, reached = [], 0
        for match in found:
            if match[0] >= reached:
                chosen.append(match)
                reached = match[1]
        return chosen


def known_identifiers(
    tables: dict[str, pd.DataFrame], texts: Iterable[str] | None = None
) -> KnownIdentifiers:
    """The identifiers of a registry's tables: keys, and document, order and protocol numbers.

    With ``texts``, only the identifiers that can stand in them: an
    identifier standing alone in a text has each of its words (runs of
    letters and digits) as a whole word of the text, so one whose first or
    last word the texts do not hold cannot be there. A national registry has
    about a million identifiers and an export a few thousand words: the
    automaton is then built from a few thousand.
    """
    words = None if texts is None else {w for text in texts for w in WORD.findall(text)}
    private: list[pd.Series] = []
    public: list[pd.Series] = []
    for table, columns in identifier_columns().items():
        frame = tables.get(table, pd.DataFrame())
        for column in columns:
            if column in frame.columns:
                values = frame[column].dropna().astype("string[pyarrow]").str.strip()
                if words is not None:
                    values = values[_may_stand_in(values, words)]
                (public if table in PUBLIC_TABLES else private).append(values)
    return KnownIdentifiers(_union(private), _union(public))


def _may_stand_in(values: pd.Series, words: set[str]) -> pd.Series:
    """Identifiers whose first and last words are words of the texts (or that have no word).

    Most identifiers are one plain ASCII word (``CV101340``): for them this is
    one hash lookup. The others (``CV 102489``, Cyrillic, punctuation) are
    split into words by Python's ``WORD``, the definition ``replace`` uses."""
    plain = values.str.fullmatch(r"[0-9A-Za-z]+").fillna(False).astype(bool)
    possible = plain & values.isin(words)
    other = values[~plain].astype(object)
    if len(other):
        first = other.str.extract(r"^[\W_]*([^\W_]+)", expand=False)
        last = other.str.extract(r"([^\W_]+)[\W_]*$", expand=False)
        possible[~plain] = (first.isna() | (first.isin(words) & last.isin(words))).to_numpy()
    return possible


def _union(parts: list[pd.Series]) -> set[str]:
    return {str(v) for part in parts for v in part.dropna()}


def identifier_columns() -> dict[str, list[str]]:
    """Per table, the columns ``known_identifiers`` reads (to load no more than those)."""
    return {
        spec.name: [c.name for c in spec.columns
                    if (c.kind == Kind.ID and c.references is None) or c.name in DOCUMENT_COLUMNS]
        for spec in TABLES
    }  # fmt: skip


def _stands_alone(text: str, start: int, end: int) -> bool:
    """Not glued to a letter or digit where the identifier itself begins or ends with one."""
    if _word_char(text[start]) and start > 0 and _word_char(text[start - 1]):
        return False
    return not (_word_char(text[end - 1]) and end < len(text) and _word_char(text[end]))


def _word_char(character: str) -> bool:
    """A letter or a digit, by the same definition ``WORD`` uses."""
    return WORD.fullmatch(character) is not None


def _is_text(values: pd.Series) -> bool:
    return values.dtype == object or pd.api.types.is_string_dtype(values.dtype)
