"""Recency: a finding on an event inside the period under review outranks years-old history.

The period under review is the ``scoring.review_period_months`` before the
extraction. A finding on an event before it keeps its place in the outputs
but weighs less: its score is halved for every ``history_half_life_years``
before the period, down to ``history_floor``, and its explanation says so.
A finding about a subject as a whole (a statistical outlier) or on a record
without a date of its own is not weighed by age.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.ingest.record_schema import EVENT_DATES
from anomaly.registry.snapshot import Snapshot

YEAR_DAYS = 365.25


def review_start(snapshot: Snapshot) -> pd.Timestamp:
    months = int(snapshot.rulebook.scoring.review_period_months.value)
    return snapshot.extracted_at.normalize() - pd.DateOffset(months=months)


def event_dates(snapshot: Snapshot, flags: pd.DataFrame) -> pd.Series:
    """The date of the event each flag is about (NaT where the record has no date)."""
    out = pd.Series(pd.NaT, index=flags.index, dtype="datetime64[ns]")
    for table, column in EVENT_DATES.items():
        mine = flags["table"].eq(table)
        if not mine.any() or not snapshot.has(table):
            continue
        dates = snapshot.by_record(table, column)
        out[mine] = flags.loc[mine, "record_id"].astype(str).map(dates).dt.normalize().to_numpy()
    return out


def weighed_by_age(snapshot: Snapshot, flags: pd.DataFrame) -> pd.DataFrame:
    """Flags with ``event_on`` and the scores of history weighed down, with the reason."""
    scoring = snapshot.rulebook.scoring
    start = review_start(snapshot)
    on = event_dates(snapshot, flags)
    years = ((start - on).dt.days / YEAR_DAYS).where(on < start)
    half_life = float(scoring.history_half_life_years.value)
    weight = np.maximum(float(scoring.history_floor.value), 0.5 ** (years / half_life))
    weight = weight.fillna(1.0)
    out = flags.assign(event_on=on.dt.strftime("%Y-%m-%d"), score=flags["score"] * weight)
    old = years.notna()
    out.loc[old, "explanation"] = (
        out.loc[old, "explanation"]
        + " [history: "
        + years[old].round(1).astype(str)
        + " years before the period under review, which starts "
        + start.strftime("%Y-%m-%d")
        + "; weight x"
        + weight[old].round(2).astype(str)
        + "]"
    )
    return out
