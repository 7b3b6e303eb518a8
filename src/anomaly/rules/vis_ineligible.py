"""VIS-INELIGIBLE: no long visit while serving isolation or after release (rules.md 3).

The isolation runs ``isolation_days`` from the penalty's date, or until an
``early_lift`` that names the penalty (``lifts_event_id``), if sooner.

Visits at an institution where the convict was not on the day (in transit,
transferred, before arrival) are the record-keeping rule REC-PLACE; visits in
strict conditions with a zero quota are over quota (VIS-QUOTA).
"""

from __future__ import annotations

import pandas as pd

from anomaly.registry.snapshot import Snapshot
from anomaly.rules.rule import Findings, Reasons, Rule, flags, none_insufficient

CODE = "VIS-INELIGIBLE"


def check(s: Snapshot) -> Findings:
    visits = s["visit_logs"]
    long = visits[visits["visit_type"].eq("long")]
    events = s["disciplinary_events"]
    isolation = events[events["measure"].eq("isolation") & events["isolation_days"].notna()]
    pairs = (
        long[["convict_id", "started_at"]]
        .reset_index(names="_row")
        .merge(
            isolation[["convict_id", "event_id", "occurred_on", "isolation_days"]], on="convict_id"
        )
    )
    until = pairs["occurred_on"] + pd.to_timedelta(pairs["isolation_days"].astype(float), unit="D")
    # an early lift (an incentive naming the penalty) ends the isolation on its date
    lifts = events[events["measure"].eq("early_lift") & events["lifts_event_id"].notna()]
    first_lift = lifts.groupby("lifts_event_id")["occurred_on"].min()
    if len(first_lift):
        lifted = pairs["event_id"].map(first_lift)
        until = until.where(~(lifted < until).fillna(False).astype(bool), lifted)
    day = pairs["started_at"].dt.normalize()
    serving = pairs[(pairs["occurred_on"] <= day) & (day < until)]
    during = serving.groupby("_row")["event_id"].first().reindex(long.index)
    released = long["convict_id"].map(s["convicts"].set_index("convict_id")["released_on"])
    reasons = Reasons(long)
    reasons.add(during.notna(), "during isolation")
    reasons.add(
        released < long["started_at"].dt.normalize(),
        "after release on " + released.dt.strftime("%Y-%m-%d"),
    )
    hit = long[reasons.found]
    what = "long visit on " + hit["started_at"].dt.strftime("%Y-%m-%d")
    evidence = ("disciplinary_events:" + during.reindex(hit.index).astype(str)).where(
        during.reindex(hit.index).notna(), ""
    )
    return Findings(
        flags(
            CODE,
            "visit_logs",
            hit,
            reasons.explain(what),
            evidence=evidence,
        ),
        none_insufficient(),
    )


RULE = Rule(
    code=CODE,
    statement="No long visit while the convict serves isolation or after release.",
    legal_basis="PEC art. 106, 131; rules.md 3",
    tables=("visit_logs", "disciplinary_events", "convicts"),
    check=check,
    needs_complete=("disciplinary_events",),
    reads=(
        "visit_logs.visit_type",
        "visit_logs.started_at",
        "disciplinary_events.measure",
        "disciplinary_events.occurred_on",
        "disciplinary_events.isolation_days",
        "disciplinary_events.lifts_event_id",
        "convicts.released_on",
    ),
)
