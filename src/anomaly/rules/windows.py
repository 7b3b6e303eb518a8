"""Counting a convict's events inside a date window, vectorised (shared by the rules)."""

from __future__ import annotations

import pandas as pd


def count_in_window(
    rows: pd.DataFrame,
    on: str,
    events: pd.DataFrame,
    event_on: str,
    since: pd.Series,
    include_since: bool = True,
) -> pd.Series:
    """For each row: events of the same convict dated in [since, row[on]] (or (since, ...]).

    Rows whose ``since`` is null count nothing.
    """
    left = pd.DataFrame(
        {"convict_id": rows["convict_id"].astype(str), "until": rows[on], "since": since}
    ).reset_index(names="_row")
    left = left.dropna(subset=["since"])
    right = pd.DataFrame({"convict_id": events["convict_id"].astype(str), "at": events[event_on]})
    pairs = left.merge(right, on="convict_id")
    after = pairs["at"] >= pairs["since"] if include_since else pairs["at"] > pairs["since"]
    inside = pairs[after & (pairs["at"] <= pairs["until"])]
    return inside.groupby("_row").size().reindex(rows.index, fill_value=0)


def member_on(rows: pd.DataFrame, on: str, memberships: pd.DataFrame) -> pd.Series:
    """Whether the convict was a member of a voluntary organisation on the row's date."""
    left = pd.DataFrame({"convict_id": rows["convict_id"].astype(str), "at": rows[on]})
    left = left.reset_index(names="_row")
    right = memberships.assign(convict_id=memberships["convict_id"].astype(str))
    pairs = left.merge(right[["convict_id", "joined_on", "left_on"]], on="convict_id")
    inside = (pairs["joined_on"] <= pairs["at"]) & (
        pairs["left_on"].isna() | (pairs["left_on"] >= pairs["at"])
    )
    members = set(pairs.loc[inside, "_row"])
    return pd.Series(rows.index.isin(list(members)), index=rows.index)


def working_on(rows: pd.DataFrame, on: str, work: pd.DataFrame) -> pd.DataFrame:
    """Whether the convict had work, and study, in progress on the row's date."""
    left = pd.DataFrame({"convict_id": rows["convict_id"].astype(str), "at": rows[on]})
    left = left.reset_index(names="_row")
    right = work.assign(convict_id=work["convict_id"].astype(str))
    pairs = left.merge(right[["convict_id", "started_on", "ended_on", "kind"]], on="convict_id")
    inside = pairs[
        (pairs["started_on"] <= pairs["at"])
        & (pairs["ended_on"].isna() | (pairs["ended_on"] >= pairs["at"]))
    ]
    out = pd.DataFrame(index=rows.index)
    for kind in ("work", "study"):
        out[kind] = rows.index.isin(list(set(inside.loc[inside["kind"].eq(kind), "_row"])))
    return out
