"""Turn the cells of one column, as read from a file, into typed values.

Every parser is vectorised and returns the typed column together with a mask of
the cells that held something but could not be read. Such a cell becomes null
in the typed column and its row is quarantined by the validation step, with
the original text kept.

Accepted forms (records spec v1, plus what old registry exports are known to
write):

- dates: ``YYYY-MM-DD`` or ``DD.MM.YYYY``; nothing else, so day-first and
  month-first are never guessed between. ``YYYY-MM-DD 00:00:00`` is accepted
  because spreadsheets store dates as midnight timestamps.
- timestamps: ``YYYY-MM-DDTHH:MM[:SS[.ffffff]]`` (``T`` or a space), or
  ``DD.MM.YYYY HH:MM[:SS]``; a bare date means midnight. Local time; a time
  zone in a Parquet column is dropped, keeping the wall-clock time.
- booleans: ``true``/``false``/``1``/``0`` in any letter case.
- integers: digits with an optional sign, read exactly within the 64-bit
  range (beyond it: unreadable, never wrapped round or rounded); ``3.0`` and
  ``3e2`` are read as integers only below 2^53, where a decimal form is
  exact; ``3.5`` is not an integer.
- decimals: ``.`` or ``,`` as the decimal mark (``;``-separated exports from
  Russian-locale software write ``51,23``); finite only.
- enum codes: matched without regard to letter case and surrounding spaces,
  plus the explicit aliases of ``record_schema.ENUM_ALIASES``.

Whatever its kind, a cell of more than ``MAX_CELL_CHARS`` characters, or one
holding a NUL byte, is damaged (``damaged_cells``): no registry field is that
long, and a NUL is the mark of a broken export or an attack on the readers
downstream.
"""

from __future__ import annotations

import pandas as pd

from anomaly.ingest.record_schema import ENUM_ALIASES, Column, Kind

STRING = pd.StringDtype("pyarrow")
DATETIME = "datetime64[us]"
MAX_CELL_CHARS = 1_000_000
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
EXACT_IN_FLOAT = 2**53  # every integer below it has an exact double
SHORT_DIGITS = 15  # digit strings this short are exact through a double

DATE_FORMATS = {
    r"^\d{4}-\d{2}-\d{2}$": "%Y-%m-%d",
    r"^\d{4}-\d{2}-\d{2}[T ]00:00(:00)?$": None,  # midnight from spreadsheets
    r"^\d{2}\.\d{2}\.\d{4}$": "%d.%m.%Y",
}
TIMESTAMP_FORMATS = (
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
)
EXPECTED_FORM = {
    Kind.INT: "an integer within 64 bits (with a decimal point or exponent, below 2^53)",
    Kind.FLOAT: "a finite number",
    Kind.DATE: "a date YYYY-MM-DD or DD.MM.YYYY",
    Kind.TIMESTAMP: "a timestamp YYYY-MM-DDTHH:MM:SS or DD.MM.YYYY HH:MM:SS",
    Kind.BOOL: "true/false or 1/0",
}


def parse_column(raw: pd.Series, column: Column) -> tuple[pd.Series, pd.Series]:
    """Parse one raw column into its logical kind.

    Parameters
    ----------
    raw
        The cells as read: text (CSV, spreadsheet) or already typed (Parquet).
    column
        The column's specification.

    Returns
    -------
    typed, unreadable
        The typed column (same index) and a boolean mask, True where the raw
        cell held a value that could not be read as the column's kind.
    """
    parser = _PARSERS[column.kind]
    typed = parser(raw, column)
    present = _present(raw)
    unreadable = present & typed.isna()
    return typed, unreadable


def _present(raw: pd.Series) -> pd.Series:
    if _is_text(raw):
        return raw.notna() & (raw.astype(STRING).str.strip() != "")
    return raw.notna()


def _is_text(raw: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(raw.dtype) or raw.dtype == object


def _text(raw: pd.Series) -> pd.Series:
    """Cells as stripped strings, empty strings as null."""
    if pd.api.types.is_float_dtype(raw.dtype):
        as_int = raw.where(raw.isna() | (raw % 1 == 0))
        text = as_int.astype("Int64").astype(STRING).where(as_int.notna(), raw.astype(STRING))
    else:
        text = raw.astype(STRING)
    text = text.str.strip()
    return text.mask(text == "")


def _parse_text(raw: pd.Series, column: Column) -> pd.Series:
    return _text(raw)


def _parse_enum(raw: pd.Series, column: Column) -> pd.Series:
    text = _text(raw)
    lookup = {code.lower(): code for code in column.codes}
    lookup.update(ENUM_ALIASES.get(column.name, {}))
    canonical = text.str.lower().map(lookup)
    # Unknown codes are kept as written so that the contract names them.
    return canonical.fillna(text).astype(STRING)


def damaged_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """Cells too large or holding a NUL byte: source_line, column and what is wrong."""
    found = []
    for name in cells.columns:
        values = cells[name]
        if not _is_text(values):
            continue
        text = values.astype(STRING)
        length = text.str.len()
        for mask, detail in (
            (length > MAX_CELL_CHARS, f"{name} holds more than {MAX_CELL_CHARS:,} characters"),
            (text.str.contains("\x00", regex=False), f"{name} holds a NUL byte"),
        ):
            mask = mask.fillna(False).astype(bool)
            if mask.any():
                found.append(pd.DataFrame({"source_line": cells.index[mask.to_numpy()],
                                           "column": name, "detail": detail}))  # fmt: skip
    if not found:
        return pd.DataFrame(columns=["source_line", "column", "detail"])
    return pd.concat(found, ignore_index=True)


def _parse_int(raw: pd.Series, column: Column) -> pd.Series:
    if pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("Int64")
    if pd.api.types.is_unsigned_integer_dtype(raw.dtype):
        values = raw.astype("UInt64")
        fits = (values <= INT64_MAX).fillna(False).astype(bool)
        out = pd.Series(pd.NA, index=raw.index, dtype="Int64")
        out[fits] = values[fits].astype("Int64")
        return out
    if pd.api.types.is_integer_dtype(raw.dtype):
        return raw.astype("Int64")
    if not _is_text(raw):
        return _exact_integers(raw.astype("Float64"))
    text = _text(raw)
    out = pd.Series(pd.NA, index=raw.index, dtype="Int64")
    plain = text.str.fullmatch(r"[+-]?\d+").fillna(False).astype(bool)
    short = plain & (text.str.lstrip("+-").str.len() <= SHORT_DIGITS).fillna(False).astype(bool)
    if short.any():
        out[short] = pd.to_numeric(text[short].astype(str)).astype("Int64")
    long = plain & ~short
    if long.any():  # rare: exact through Python's integers, refused beyond 64 bits
        exact = [int(v) for v in text[long].astype(str)]
        out[long] = pd.array([v if INT64_MIN <= v <= INT64_MAX else pd.NA for v in exact],
                             dtype="Int64")  # fmt: skip
    other = text.notna() & ~plain
    if other.any():
        out[other] = _exact_integers(_parse_float(raw[other], column))
    return out


def _exact_integers(numbers: pd.Series) -> pd.Series:
    """Whole numbers below 2^53 (where a double is exact) as integers; others null."""
    integral = numbers.notna() & (numbers % 1 == 0) & (numbers.abs() < EXACT_IN_FLOAT)
    return numbers.where(integral.fillna(False).astype(bool)).astype("Int64")


def _parse_float(raw: pd.Series, column: Column) -> pd.Series:
    if not _is_text(raw):
        numbers = pd.to_numeric(raw, errors="coerce").astype("Float64")
    else:
        text = _text(raw).str.replace(",", ".", regex=False)
        well_formed = text.str.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?").fillna(False)
        numbers = pd.to_numeric(text.where(well_formed), errors="coerce").astype("Float64")
    finite = numbers.notna() & ~numbers.isin([float("inf"), float("-inf")])
    return numbers.where(finite.fillna(False).astype(bool))


def _parse_bool(raw: pd.Series, column: Column) -> pd.Series:
    if pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("boolean")
    if pd.api.types.is_numeric_dtype(raw.dtype):
        return raw.map({1: True, 0: False}).astype("boolean")
    words = {"true": True, "1": True, "false": False, "0": False, "1.0": True, "0.0": False}
    return _text(raw).str.lower().map(words).astype("boolean")


def _parse_date(raw: pd.Series, column: Column) -> pd.Series:
    if not _is_text(raw):
        return _from_typed_datetimes(raw).dt.normalize()
    text = _text(raw)
    out = pd.Series(pd.NaT, index=raw.index, dtype=DATETIME)
    for pattern, fmt in DATE_FORMATS.items():
        matching = text.str.fullmatch(pattern).fillna(False)
        if not matching.any():
            continue
        cells = text[matching]
        if fmt is None:
            cells, fmt = cells.str.slice(0, 10), "%Y-%m-%d"
        out[matching] = pd.to_datetime(cells, format=fmt, errors="coerce").astype(DATETIME)
    return out


def _parse_timestamp(raw: pd.Series, column: Column) -> pd.Series:
    if not _is_text(raw):
        return _from_typed_datetimes(raw)
    text = _text(raw)
    out = pd.Series(pd.NaT, index=raw.index, dtype=DATETIME)
    pending = text.notna()
    for fmt in TIMESTAMP_FORMATS:
        if not pending.any():
            break
        parsed = pd.to_datetime(text[pending], format=fmt, errors="coerce")
        ok = parsed.notna()
        out[ok[ok].index] = parsed[ok].astype(DATETIME)
        pending[ok[ok].index] = False
    return out


def _from_typed_datetimes(raw: pd.Series) -> pd.Series:
    values = pd.to_datetime(raw, errors="coerce")
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        values = values.dt.tz_localize(None)
    return values.astype(DATETIME)


_PARSERS = {
    Kind.ID: _parse_text,
    Kind.TEXT: _parse_text,
    Kind.ENUM: _parse_enum,
    Kind.INT: _parse_int,
    Kind.FLOAT: _parse_float,
    Kind.BOOL: _parse_bool,
    Kind.DATE: _parse_date,
    Kind.TIMESTAMP: _parse_timestamp,
}


def describe_expected(kind: Kind) -> str:
    """What a cell of this kind must look like, for error messages."""
    return EXPECTED_FORM.get(kind, "text")
