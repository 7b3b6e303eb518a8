"""How a planted scheme moves a convict: the transfer row, and the records after it.

A scheme that plants a move writes the transfer, then drops the convict's
records at the old institution after the move day, so that the world stays
consistent apart from the breach planted.
"""

from __future__ import annotations

import pandas as pd

from anomaly.synthetic.planting import DAY, Planter


def add_transfer(
    p: Planter,
    convict_id: str,
    src: str,
    dst: str,
    on: pd.Timestamp,
    ground: str,
    consent: bool | None = None,
) -> str:
    transfer = p.new_id("transfers", "transfer_id", "TR")
    arrived = on + int(p.rng.integers(1, 4)) * DAY
    p.add(
        "transfers",
        {
            "transfer_id": transfer,
            "convict_id": convict_id,
            "from_facility_id": src,
            "to_facility_id": dst,
            "departed_on": on,
            "arrived_on": arrived,
            "ground": ground,
            "consent": consent,
            "order_no": f"ORD-{on.year}-{int(p.rng.integers(1, 99999)):05d}",
            "decided_by": p.staff_on(dst, "head", on),
            "recorded_at": p.recorded(arrived),
        },
    )
    p.add(
        "condition_changes",
        {
            "change_id": p.new_id("condition_changes", "change_id", "CC"),
            "convict_id": convict_id,
            "facility_id": dst,
            "changed_on": arrived,
            "from_condition": None,
            "to_condition": "regular",
            "protocol_no": None,
            "decided_by": p.staff_on(dst, "commission_member", arrived),
            "recorded_at": p.recorded(arrived),
        },
    )
    return transfer


def planted_move(
    p: Planter,
    code: str,
    stay: pd.Series,
    to: str,
    on: pd.Timestamp,
    ground: str,
    note: str,
    consent: bool | None = None,
) -> None:
    """A scheme's move of a convict for good out of ``stay`` on ``on``: the records of the old
    institution after that day go, the transfer (and arrival) is written, and labelled."""
    _drop_after(p, stay["convict_id"], stay["facility_id"], on)
    transfer = add_transfer(p, stay["convict_id"], stay["facility_id"], to, on, ground, consent)
    p.world.label("scheme", code, "convict", stay["convict_id"], [f"transfers:{transfer}"], note)


def _drop_after(p: Planter, convict_id: str, facility_id: str, on: pd.Timestamp) -> None:
    """The convict left on ``on``: records of the old institution after that day did not happen."""
    for table, date in (
        ("visit_logs", "started_at"),
        ("degree_assignments", "assigned_on"),
        ("condition_changes", "changed_on"),
        ("disciplinary_events", "occurred_on"),
        ("long_visit_registrations", "planned_start"),
    ):
        frame = p.t[table]
        gone = (
            frame["convict_id"].eq(convict_id)
            & frame["facility_id"].eq(facility_id)
            & (frame[date] >= on)
        )
        p.t[table] = frame[~gone].reset_index(drop=True)
    for table, start, end in (
        ("memberships", "joined_on", "left_on"),
        ("work_assignments", "started_on", "ended_on"),
    ):
        frame = p.t[table]
        mine = frame["convict_id"].eq(convict_id) & frame["facility_id"].eq(facility_id)
        frame = frame[~(mine & (frame[start] >= on))].copy()
        mine = frame["convict_id"].eq(convict_id) & frame["facility_id"].eq(facility_id)
        frame.loc[mine & (frame[end].isna() | (frame[end] > on)), end] = on
        p.t[table] = frame.reset_index(drop=True)
