"""REC-LIFT: an early lift lifts a penalty of the same convict, given before it (records.md).

An ``early_lift`` is an incentive that cancels a penalty before its term: it
clears the way to a better degree, lighter conditions or a long visit
(rules.md 1 to 3). The record names the penalty it lifts (``lifts_event_id``).
A lift that names an incentive, another convict's penalty, or a penalty given
after the lift, lifts nothing the law allows; a lift that names no penalty at
all, or one the registry does not hold, cannot be checked and is flagged at a
lower severity. A cancelled penalty is what a bought pardon looks like in the
records (PCPI report, section 1: incentives bought from the administration).
"""

from __future__ import annotations

import pandas as pd

from anomaly.registry.snapshot import Snapshot
from anomaly.rules.rule import Findings, Reasons, Rule, flags, none_insufficient

CODE = "REC-LIFT"
UNCHECKABLE = 0.5  # the lifted penalty is not named, or not in the registry: nothing to compare


def check(s: Snapshot) -> Findings:
    events = s["disciplinary_events"]
    lifts = events[events["measure"].eq("early_lift").fillna(False).astype(bool)]
    named = lifts["lifts_event_id"]
    lifted = (
        events.set_index("event_id")[["convict_id", "kind", "occurred_on"]]
        .reindex(named.astype(object).where(named.notna(), None))
        .set_axis(lifts.index)
    )
    found = lifted["kind"].notna()
    incentive = found & lifted["kind"].ne("penalty").fillna(False)
    other = found & lifted["convict_id"].ne(lifts["convict_id"]).fillna(False)
    later = found & (lifted["occurred_on"] > lifts["occurred_on"]).fillna(False)
    reasons = Reasons(lifts)
    reasons.add(named.isna(), "names no penalty")
    reasons.add(named.notna() & ~found, "names an event the registry does not hold")
    reasons.add(incentive, "names an incentive, not a penalty")
    reasons.add(other, "lifts a penalty of convict " + lifted["convict_id"].astype(str))
    reasons.add(later, "lifts a penalty given after it")
    chosen = reasons.found
    hit = lifts[chosen]
    what = "early lift on " + hit["occurred_on"].dt.strftime("%Y-%m-%d")
    contradiction = (incentive | other | later)[chosen]
    severity = pd.Series(1.0, index=hit.index).where(contradiction, UNCHECKABLE)
    evidence = ("disciplinary_events:" + hit["lifts_event_id"].astype(str)).where(found[chosen], "")
    return Findings(
        flags(CODE, "disciplinary_events", hit, reasons.explain(what), severity, evidence),
        none_insufficient(),
    )


RULE = Rule(
    code=CODE,
    statement="An early lift lifts a penalty of the same convict, given before the lift.",
    legal_basis="records.md (disciplinary_events.lifts_event_id); rules.md 1 to 3",
    tables=("disciplinary_events",),
    check=check,
    per_convict=False,  # the penalty named may be another convict's
    reads=(
        "disciplinary_events.measure",
        "disciplinary_events.lifts_event_id",
        "disciplinary_events.kind",
        "disciplinary_events.occurred_on",
    ),
)
