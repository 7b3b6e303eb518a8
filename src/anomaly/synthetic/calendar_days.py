"""Days as integers (days since 1970-01-01) and calendar-month arithmetic.

Legal periods ("6 months in regular conditions") are calendar months: the same
day of the month N months later, clamped to the month's end.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

EPOCH = dt.date(1970, 1, 1).toordinal()


def day(text: str) -> int:
    """Day number of an ISO date."""
    return dt.date.fromisoformat(text).toordinal() - EPOCH


def to_date(number: int) -> dt.date:
    return dt.date.fromordinal(int(number) + EPOCH)


def add_months(number: int, months: int) -> int:
    """The day ``months`` calendar months after day ``number`` (negative: before)."""
    d = to_date(number)
    total = d.year * 12 + d.month - 1 + months
    year, month = divmod(total, 12)
    month += 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(d.day, last)).toordinal() - EPOCH


def year_of(number: int) -> int:
    return to_date(number).year


def year_start(year: int) -> int:
    return dt.date(year, 1, 1).toordinal() - EPOCH


def as_dates(numbers: np.ndarray | list[int]) -> pd.Series:
    """Day numbers to datetime64 dates (null for negative sentinels are not used)."""
    return pd.Series(np.asarray(numbers, dtype="int64").astype("datetime64[D]")).astype(
        "datetime64[us]"
    )


def as_timestamps(days: np.ndarray | list[float]) -> pd.Series:
    """Fractional day numbers to timestamps rounded to the second."""
    seconds = np.round(np.asarray(days, dtype="float64") * 86400).astype("int64")
    return pd.Series(seconds.astype("datetime64[s]")).astype("datetime64[us]")
