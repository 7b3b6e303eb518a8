"""The one way the project writes a file: owner-only, and safe to open in a spreadsheet.

Run folders, the case store, the report, the export and the key hold personal
data: files are created ``0600`` and folders ``0700`` (``private_umask`` sets
the same for files written by libraries, such as DuckDB's).

A spreadsheet runs a text cell that starts with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return (CSV injection, OWASP). Every text cell written
through ``write_csv`` that starts with one of these, or with ``'``, gets a
leading ``'``: a spreadsheet shows the text and runs nothing. Numeric columns
are left as they are. ``read_csv`` takes the ``'`` off again, so the stages
of a run hand each other exact values, and a value that itself began with
``'`` survives the round trip.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
FILE_MODE = 0o600
FOLDER_MODE = 0o700


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot start a spreadsheet formula (numeric columns untouched)."""
    changed = {
        column: _escaped(frame[column]) for column in frame.columns if _is_text(frame[column])
    }
    return frame.assign(**changed) if changed else frame


def restored(frame: pd.DataFrame) -> pd.DataFrame:
    """The inverse of ``neutralised``: the leading ``'`` taken off where it was added."""
    changed = {
        column: _unescaped(frame[column]) for column in frame.columns if _is_text(frame[column])
    }
    return frame.assign(**changed) if changed else frame


def write_csv(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write ``frame`` as UTF-8 CSV (RFC 4180) without its index, formula-safe and owner-only."""
    path = Path(path)
    with private_file(path, "w") as handle:
        # CRLF (RFC 4180): the csv writer then quotes a cell holding a bare CR
        # too, so that no reader splits a record there.
        neutralised(frame).to_csv(handle, index=False, lineterminator="\r\n")
    return path


def read_csv(path: Path | str, **options: Any) -> pd.DataFrame:
    """Read a CSV this project wrote, with the formula escapes taken off."""
    return restored(pd.read_csv(path, **options))


def write_parquet(frame: pd.DataFrame, path: Path | str, index: bool | None = False) -> Path:
    path = Path(path)
    with private_file(path, "wb") as handle:
        frame.to_parquet(handle, index=index)
    return path


def write_text(path: Path | str, text: str) -> Path:
    path = Path(path)
    with private_file(path, "w") as handle:
        handle.write(text)
    return path


def write_bytes(path: Path | str, data: bytes) -> Path:
    path = Path(path)
    with private_file(path, "wb") as handle:
        handle.write(data)
    return path


def private_folder(path: Path | str) -> Path:
    """Create ``path`` (and missing parents) as owner-only folders; tighten it if it exists."""
    path = Path(path)
    path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    os.chmod(path, FOLDER_MODE)
    return path


@contextlib.contextmanager
def private_file(path: Path, mode: str) -> Iterator[Any]:
    """Open ``path`` for writing, created (or truncated) with owner-only permissions."""
    path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    os.fchmod(descriptor, FILE_MODE)
    handle: Any = (
        os.fdopen(descriptor, mode)
        if "b" in mode
        else os.fdopen(descriptor, mode, encoding="utf-8", newline="")
    )
    with handle:
        yield handle


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """Files and folders created meanwhile, by any library, are owner-only."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def _is_text(values: pd.Series) -> bool:
    return values.dtype == object or pd.api.types.is_string_dtype(values.dtype)


def _escaped(values: pd.Series) -> pd.Series:
    text = values.astype("string")
    risky = text.str.startswith((*FORMULA_START, ESCAPE)).fillna(False).astype(bool)
    if not risky.any():
        return values
    return values.mask(risky, ESCAPE + text)


def _unescaped(values: pd.Series) -> pd.Series:
    text = values.astype("string")
    escaped = text.str.startswith(ESCAPE).fillna(False).astype(bool) & text.str.slice(1, 2).isin(
        [*FORMULA_START, ESCAPE]
    ).fillna(False).astype(bool)
    if not escaped.any():
        return values
    return values.mask(escaped, text.str.slice(1))
