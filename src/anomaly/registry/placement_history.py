"""Where a convict was on a date, read from the transfer history alone.

A convict is at one place at a time (rules.md 5). A stay begins at a
transfer's arrival and ends at the next departure, the actual release or the
extraction of the drop. Between a departure and the arrival the convict is in
transit and at no institution.
"""

from __future__ import annotations

import pandas as pd

from anomaly.registry.id_codes import among

STAY_COLUMNS = ["convict_id", "facility_id", "start", "end", "transfer_id"]


def stays_from_transfers(
    transfers: pd.DataFrame, convicts: pd.DataFrame, extracted_at: pd.Timestamp
) -> pd.DataFrame:
    """One row per stay: convict_id, facility_id, start, end (both days inclusive), transfer_id.

    The departure day counts at the institution left: records of that day are
    normally made there before the convict leaves.

    A transfer still in transit (no ``arrived_on``) opens no stay.
    """
    t = transfers.sort_values(["convict_id", "departed_on"], kind="stable")
    next_departure = t.groupby("convict_id")["departed_on"].shift(-1)
    released = t["convict_id"].map(convicts.set_index("convict_id")["released_on"])
    horizon = pd.Timestamp(extracted_at).normalize()
    end = next_departure.fillna(released).fillna(horizon)
    stays = pd.DataFrame(
        {
            "convict_id": t["convict_id"].astype(str),
            "facility_id": t["to_facility_id"].astype(str),
            "start": t["arrived_on"],
            "end": end,
            "transfer_id": t["transfer_id"].astype(str),
        }
    )
    return stays.dropna(subset=["start"]).reset_index(drop=True)[STAY_COLUMNS]


def place_on(
    events: pd.DataFrame, stays: pd.DataFrame, on: str, facility: str = "facility_id"
) -> pd.DataFrame:
    """For each event: the facility where the convict was on ``on`` (null: nowhere known).

    Returns a frame indexed like ``events`` with ``placed_at`` and ``known``
    (whether the convict has any transfer history at all).
    """
    left = events[["convict_id", on]].reset_index(names="_row")
    left["convict_id"] = left["convict_id"].astype(str)
    left[on] = left[on].astype("datetime64[us]")
    left = left.sort_values(on, kind="stable")
    right = stays.assign(start=stays["start"].astype("datetime64[us]")).sort_values("start")
    merged = pd.merge_asof(
        left, right, left_on=on, right_on="start", by="convict_id", direction="backward"
    )
    inside = merged[on].dt.normalize() <= merged["end"]
    merged["placed_at"] = merged["facility_id"].where(inside)
    merged["known"] = among(merged["convict_id"], stays["convict_id"])
    return merged.set_index("_row").reindex(events.index)[["placed_at", "known"]]
