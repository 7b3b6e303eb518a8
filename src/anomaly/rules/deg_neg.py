"""DEG-NEG: a negative degree rests on penalties of the 12 months before it (PEC art. 95).

-1 needs a penalty in the 12 months before the decision, -2 at least two
(assumed threshold), -3 a ``malicious_violator`` decision. A basis entered in
the register only after the degree that relies on it was itself entered is
back-filled (the NPM 2018 report: decisions written after the moves they justify).
"""

from __future__ import annotations

import pandas as pd

from anomaly.registry.snapshot import Snapshot
from anomaly.rulebook import Param, RuleParameters
from anomaly.rules.rule import Findings, Reasons, Rule, flags, none_insufficient
from anomaly.rules.windows import count_in_window

CODE = "DEG-NEG"


class Parameters(RuleParameters):
    """DEG-NEG's section of the rule book."""

    late_basis_days: Param[int] = Param(
        value=30,
        source="NPM 2018 report: a negative degree whose every penalty was entered this long "
        "after the degree was written into the file afterwards",
        assumed=True,
    )


def check(s: Snapshot) -> Findings:
    rb = s.rulebook.degrees
    degrees = s["degree_assignments"]
    negative = degrees[degrees["degree"] < 0]
    events = s["disciplinary_events"]
    penalties = events[events["kind"].eq("penalty")]
    malicious = penalties[penalties["measure"].eq("malicious_violator")]
    year_before = negative["assigned_on"] - pd.DateOffset(months=rb.negative_lookback_months.value)
    count = count_in_window(negative, "assigned_on", penalties, "occurred_on", year_before, False)
    n_malicious = count_in_window(
        negative, "assigned_on", malicious, "occurred_on", year_before, False
    )
    d = negative["degree"]
    need = d.map({-1: 1, -2: rb.negative_2_min_penalties.value, -3: 1})
    reasons = Reasons(negative)
    reasons.add(
        count < need,
        "penalties in the 12 months before: " + count.astype(str) + ", needed " + need.astype(str),
    )
    reasons.add(
        d.eq(-3) & n_malicious.eq(0) & (count >= need),
        "no malicious-violator decision in the 12 months before",
    )
    tolerance = pd.Timedelta(days=s.rulebook.rule(CODE, Parameters).late_basis_days.value)
    late_basis = _basis_entered_after(negative, penalties, year_before, tolerance)
    reasons.add(
        late_basis & (count >= need),
        "its penalties were entered in the register long after the degree",
    )
    hit = negative[reasons.found]
    what = (
        "degree " + hit["degree"].astype(str) + " on " + hit["assigned_on"].dt.strftime("%Y-%m-%d")
    )
    return Findings(
        flags(
            CODE,
            "degree_assignments",
            hit,
            reasons.explain(what),
        ),
        none_insufficient(),
    )


def _basis_entered_after(
    negative: pd.DataFrame, penalties: pd.DataFrame, year_before: pd.Series, tolerance: pd.Timedelta
) -> pd.Series:
    """Every penalty of the window was recorded well after the degree itself was recorded.

    Ordinary entry delays make a penalty's entry trail the degree's by days;
    more than the back-dating tolerance means the basis was written afterwards.
    """
    left = pd.DataFrame(
        {
            "convict_id": negative["convict_id"].astype(str),
            "on": negative["assigned_on"],
            "since": year_before,
            "entered": negative["recorded_at"],
        }
    ).reset_index(names="_row")
    right = pd.DataFrame(
        {
            "convict_id": penalties["convict_id"].astype(str),
            "at": penalties["occurred_on"],
            "penalty_entered": penalties["recorded_at"],
        }
    )
    pairs = left.merge(right, on="convict_id")
    pairs = pairs[(pairs["at"] > pairs["since"]) & (pairs["at"] <= pairs["on"])]
    earliest = pairs.groupby("_row")["penalty_entered"].min()
    entered = left.set_index("_row")["entered"]
    late = earliest > entered.reindex(earliest.index) + tolerance
    late = late.reindex(negative.index, fill_value=False)
    return late.astype(bool)


RULE = Rule(
    code=CODE,
    parameters=Parameters,
    statement="A negative degree rests on penalties recorded in the 12 months before it.",
    legal_basis="PEC art. 95; rules.md 1; PCPI report, section 1; NPM 2018 report",
    tables=("degree_assignments", "disciplinary_events"),
    check=check,
    reads=(
        "degree_assignments.assigned_on",
        "degree_assignments.degree",
        "degree_assignments.recorded_at",
        "disciplinary_events.kind",
        "disciplinary_events.measure",
        "disciplinary_events.occurred_on",
        "disciplinary_events.recorded_at",
    ),
)
