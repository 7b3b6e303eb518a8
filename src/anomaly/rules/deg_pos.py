"""DEG-POS: a positive degree needs its criteria, one step at a time (PEC art. 95).

+1: an incentive, then at least 3 months with no penalty up to the decision.
+2: holds +1 for at least 6 months with no penalty, member of a voluntary
organisation on the day. +3: holds +2 for 12 months likewise. A degree never
skips a step. Membership is read from the optional ``memberships`` table:
without it, the membership criterion is reported as not checked.
"""

from __future__ import annotations

import pandas as pd

from anomaly.registry.snapshot import Snapshot, as_of
from anomaly.rules.rule import (
    Findings,
    Reasons,
    Rule,
    flags,
    insufficient,
    none_insufficient,
)
from anomaly.rules.windows import count_in_window, member_on

CODE = "DEG-POS"


def check(s: Snapshot) -> Findings:
    rb = s.rulebook.degrees
    degrees = s["degree_assignments"].sort_values(["convict_id", "assigned_on"], kind="stable")
    previous = degrees.groupby("convict_id")[["degree", "assigned_on"]].shift()
    positive = degrees[degrees["degree"] > 0].copy()
    positive["held"] = previous["degree"].reindex(positive.index).fillna(0)
    positive["held_since"] = previous["assigned_on"].reindex(positive.index)
    events = s["disciplinary_events"]
    incentives = events[events["kind"].eq("incentive")]
    penalties = events[events["kind"].eq("penalty")]
    latest = as_of(positive, "assigned_on", incentives, "occurred_on", ["occurred_on", "event_id"])
    positive["incentive_on"] = latest["occurred_on"]

    reasons = Reasons(positive)
    d = positive["degree"]
    skipped = (d >= 2) & (positive["held"] < d - 1)
    reasons.add(
        skipped,
        "skips a step: +" + d.astype(str) + " without a prior +" + (d - 1).astype(str),
    )
    one = d.eq(1)
    months1 = rb.positive_1_clean_months.value
    no_incentive = one & positive["incentive_on"].isna()
    reasons.add(no_incentive, "+1 with no incentive on record")
    too_soon = one & (
        positive["incentive_on"] + pd.DateOffset(months=months1) > positive["assigned_on"]
    )
    reasons.add(too_soon, f"+1 less than {months1} months after the latest incentive")
    since = positive["incentive_on"].where(one, positive["held_since"])
    dirty = count_in_window(positive, "assigned_on", penalties, "occurred_on", since) > 0
    reasons.add(dirty, "a penalty since the period began")
    for step, months in (
        (2, rb.positive_2_months_after_1.value),
        (3, rb.positive_3_months_after_2.value),
    ):
        short = (
            d.eq(step)
            & ~skipped
            & (positive["held_since"] + pd.DateOffset(months=months) > positive["assigned_on"])
        )
        reasons.add(short, f"+{step} less than {months} months after +{step - 1}")
    missing = none_insufficient()
    if s.has("memberships"):
        member = member_on(positive, "assigned_on", s["memberships"])
        reasons.add((d >= 2) & ~member, "not a member of a voluntary organisation")
    else:
        missing = insufficient(positive.loc[d >= 2, "convict_id"], "memberships not delivered")
    hit = positive[reasons.found]
    what = (
        "degree +" + hit["degree"].astype(str) + " on " + hit["assigned_on"].dt.strftime("%Y-%m-%d")
    )
    evidence = "disciplinary_events:" + latest["event_id"].reindex(hit.index).astype(
        "string"
    ).fillna("")
    found = flags(
        CODE,
        "degree_assignments",
        hit,
        reasons.explain(what),
        evidence=evidence.where(latest["event_id"].reindex(hit.index).notna(), ""),
    )
    return Findings(found, missing)


RULE = Rule(
    code=CODE,
    statement=(
        "A positive degree of behaviour is assigned only when its criteria "
        "hold, one step at a time."
    ),
    legal_basis="PEC art. 95; rules.md 1; PCPI report, section 1",
    tables=("degree_assignments", "disciplinary_events"),
    optional_tables=("memberships",),
    check=check,
    reads=(
        "degree_assignments.assigned_on",
        "degree_assignments.degree",
        "disciplinary_events.kind",
        "disciplinary_events.occurred_on",
        "memberships.joined_on",
        "memberships.left_on",
    ),
)
