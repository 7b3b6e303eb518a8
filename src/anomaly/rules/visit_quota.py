"""VIS-QUOTA: visits within the yearly quota of the condition in force (PEC art. 106; seed 002 s.3).

A visit is over quota when the visits of its type in that calendar year, up to
and including it, exceed the quota of the condition in force on its date plus
the extra visits of that type granted as incentives earlier that year.
"""

from __future__ import annotations

import pandas as pd

from anomaly.registry_snapshot import Snapshot, as_of
from anomaly.rulebook import LEVELS
from anomaly.rules.rule import Findings, Rule, flags, insufficient

CODE = "VIS-QUOTA"
EXTRA = {"short": "extra_short_visit", "long": "extra_long_visit"}


def check(s: Snapshot) -> Findings:
    needed = ["visit_id", "convict_id", "facility_id", "visit_type", "started_at", "logged_by"]
    visits = s["visit_logs"][needed].sort_values(["convict_id", "started_at"], kind="stable")
    visits = visits.assign(year=visits["started_at"].dt.year)
    condition = as_of(visits, "started_at", s["condition_changes"], "changed_on", ["to_condition"])[
        "to_condition"
    ]
    visits = visits.assign(
        level=s.level.reindex(visits["facility_id"].astype(str)).to_numpy(),
        condition=condition.astype(object),
    )
    visits["quota"] = (
        _quota_table(s)
        .reindex(
            pd.MultiIndex.from_arrays(
                [visits["level"], visits["condition"], visits["visit_type"].astype(object)]
            )
        )
        .to_numpy()
    )
    visits["n"] = visits.groupby(["convict_id", "year", "visit_type"]).cumcount() + 1
    visits["extras"] = _extras_before(s, visits)
    over = visits[(visits["n"] > visits["quota"] + visits["extras"]) & visits["quota"].notna()]
    explanation = (
        over["visit_type"]
        + " visit no. "
        + over["n"].astype(str)
        + " in "
        + over["year"].astype(str)
        + " at a "
        + over["level"]
        + " institution in "
        + over["condition"].astype(str)
        + " conditions: quota "
        + over["quota"].astype(int).astype(str)
        + " + "
        + over["extras"].astype(str)
        + " incentive visits"
    )
    excess = (over["n"] - over["quota"] - over["extras"]).clip(1, 4)
    unknown = visits.loc[visits["condition"].isna(), "convict_id"]
    return Findings(
        flags(CODE, "visit_logs", over, explanation, 0.6 + 0.1 * excess),
        insufficient(unknown, "no condition on record for the visit date"),
    )


def _quota_table(s: Snapshot) -> pd.Series:
    """Quota by (level, condition, visit type); conditions an institution lacks are left out."""
    rows = {}
    for level in LEVELS:
        for condition in ("strict", "regular", "light", "preferential"):
            q = s.rulebook.quota(level, condition)
            if q is not None:
                rows[(level, condition, "short")], rows[(level, condition, "long")] = q
    return pd.Series(rows, dtype=float)


def _extras_before(s: Snapshot, visits: pd.DataFrame) -> pd.Series:
    """Extra visits of the same type granted as incentives earlier in the visit's year."""
    events = s["disciplinary_events"]
    out = pd.Series(0, index=visits.index)
    for kind, measure in EXTRA.items():
        granted = events[events["kind"].eq("incentive") & events["measure"].eq(measure)]
        granted = granted.assign(year=granted["occurred_on"].dt.year)
        rows = visits[visits["visit_type"].eq(kind)]
        pairs = (
            rows[["convict_id", "year", "started_at"]]
            .reset_index(names="_row")
            .merge(granted[["convict_id", "year", "occurred_on"]], on=["convict_id", "year"])
        )
        earlier = pairs[pairs["occurred_on"] <= pairs["started_at"]]
        out = out.add(earlier.groupby("_row").size(), fill_value=0)
    return out.astype(int)


RULE = Rule(
    code=CODE,
    statement=(
        "Visits stay within the yearly quota of the condition in force plus incentive visits."
    ),
    legal_basis="PEC art. 106, 136 p.4, 140 p.2 and the per-institution articles; rules.md 3",
    tables=("visit_logs", "condition_changes", "disciplinary_events"),
    check=check,
)
