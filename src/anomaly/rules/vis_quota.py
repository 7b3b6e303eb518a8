"""VIS-QUOTA: visits within the yearly quota of the condition in force (PEC art. 106).

A visit is over quota when the visits of its type in that calendar year, up to
and including it, exceed the quota of the condition in force on its date plus
the extra visits of that type granted as incentives earlier that year.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.registry.snapshot import Snapshot, as_of
from anomaly.rulebook import CONDITIONS, LEVELS
from anomaly.rules.rule import Findings, Rule, flags, insufficient

CODE = "VIS-QUOTA"
TYPES = ("short", "long")
EXTRA = {"short": "extra_short_visit", "long": "extra_long_visit"}
OVER_BY_NONE, PER_VISIT_OVER = 0.6, 0.1  # severity grows with the visits above quota
YEARS = 10_000  # convict code * YEARS + year: one integer per convict and calendar year


def check(s: Snapshot) -> Findings:
    v = s["visit_logs"]
    convict = s.ids("visit_logs", "convict_id")
    started = v["started_at"].to_numpy()
    order = np.lexsort((started, convict))  # by convict, then time; ties keep registry order
    visits = pd.DataFrame(
        {
            "convict": convict[order],
            "started_at": started[order],
            "year": v["started_at"].dt.year.to_numpy()[order],
            "kind": _codes(v["visit_type"], TYPES)[order],
            "level": _facility_levels(s)[s.ids("visit_logs", "facility_id")][order],
        }
    )
    changes = s["condition_changes"]
    history = pd.DataFrame(
        {
            "convict": s.ids("condition_changes", "convict_id"),
            "changed_on": changes["changed_on"],
            "condition": _codes(changes["to_condition"], CONDITIONS),
        }
    )
    held = as_of(visits, "started_at", history, "changed_on", ["condition"], by="convict")
    visits["condition"] = held["condition"].fillna(-1).astype(int).to_numpy()
    visits["quota"] = _quota_table(s)[visits["level"], visits["condition"], visits["kind"]]
    group = (visits["convict"] * YEARS + visits["year"]) * len(TYPES) + visits["kind"]
    visits["n"] = group.groupby(group, sort=False).cumcount() + 1
    visits["extras"] = _extras_before(s, visits)
    over = visits[(visits["n"] > visits["quota"] + visits["extras"]) & visits["quota"].notna()]
    hit = v.iloc[order[over.index]]
    over = over.set_axis(hit.index)
    explanation = (
        hit["visit_type"]
        + " visit no. "
        + over["n"].astype(str)
        + " in "
        + over["year"].astype(str)
        + " at a "
        + over["level"].map(dict(enumerate(LEVELS)))
        + " institution in "
        + over["condition"].map(dict(enumerate(CONDITIONS)))
        + " conditions: quota "
        + over["quota"].astype(int).astype(str)
        + " + "
        + over["extras"].astype(str)
        + " incentive visits"
    )
    excess = (over["n"] - over["quota"] - over["extras"]).clip(1, 4)  # 0.7 .. 1.0
    unknown = v["convict_id"].iloc[order[visits["condition"].to_numpy() < 0]]
    return Findings(
        flags(CODE, "visit_logs", hit, explanation, OVER_BY_NONE + PER_VISIT_OVER * excess),
        insufficient(unknown, "no condition on record for the visit date"),
    )


def _codes(values: pd.Series, names: tuple[str, ...]) -> np.ndarray:
    """Position of each value in ``names``; -1 for anything else or null."""
    return pd.Categorical(values, categories=list(names)).codes.astype(np.int64)


def _facility_levels(s: Snapshot) -> np.ndarray:
    """Level code by facility code, with -1 appended for unknown or missing institutions.

    Indexing it with facility codes gives -1 for a null (-1) code and for an
    institution missing from the facilities table.
    """
    known = _codes(s["facilities"]["security_level"], LEVELS)
    strays = s.ids("visit_logs", "facility_id").max(initial=0) + 1 - len(known)
    return np.concatenate([known, np.full(max(strays, 0) + 1, -1)])


def _quota_table(s: Snapshot) -> np.ndarray:
    """Quota by (level, condition, visit type) codes; NaN where the institution lacks it.

    The last entry of each axis is NaN, so a -1 code (unknown) finds no quota.
    """
    table = np.full((len(LEVELS) + 1, len(CONDITIONS) + 1, len(TYPES) + 1), np.nan)
    for i, level in enumerate(LEVELS):
        for j, condition in enumerate(CONDITIONS):
            q = s.rulebook.quota(level, condition)
            if q is not None:
                table[i, j, : len(TYPES)] = q
    return table


def _extras_before(s: Snapshot, visits: pd.DataFrame) -> pd.Series:
    """Extra visits of the same type granted as incentives earlier in the visit's year."""
    events = s["disciplinary_events"]
    convict = s.ids("disciplinary_events", "convict_id")
    out = pd.Series(0, index=visits.index)
    for kind, measure in EXTRA.items():
        granted = (events["kind"].eq("incentive") & events["measure"].eq(measure)).to_numpy(
            dtype=bool, na_value=False
        )
        occurred = events["occurred_on"][granted]
        given = pd.DataFrame(
            {
                "_year_of": convict[granted] * YEARS + occurred.dt.year.to_numpy(),
                "occurred_on": occurred.to_numpy(),
            }
        )
        rows = visits[visits["kind"].eq(TYPES.index(kind))]
        pairs = (
            pd.DataFrame(
                {"_year_of": rows["convict"] * YEARS + rows["year"], "at": rows["started_at"]}
            )
            .reset_index(names="_row")
            .merge(given, on="_year_of")
        )
        earlier = pairs[pairs["occurred_on"] <= pairs["at"]]
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
    needs_complete=("condition_changes", "disciplinary_events"),
    reads=(
        "visit_logs.started_at",
        "visit_logs.visit_type",
        "condition_changes.changed_on",
        "condition_changes.to_condition",
        "disciplinary_events.kind",
        "disciplinary_events.measure",
        "disciplinary_events.occurred_on",
        "facilities.security_level",
    ),
)
