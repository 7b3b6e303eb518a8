"""COND: a move between conditions meets the criteria of the institution type (PEC art. 103).

regular -> light: the minimum months in regular (complete: of the sentence),
degree >= +1, work or study (juvenile: both, and no penalty). light ->
preferential: the minimum months in light, degree +3, within the months
before release, and only where preferential conditions exist. strict ->
regular: the minimum months in strict without penalty (complete: and degree
>= +1). -> strict: only a malicious violator (degree -3). Back from light
or preferential: only after a violation (a penalty since the last change);
a demotion without one is the lever the PCPI report describes. Any other jump
(regular -> preferential, strict -> light) skips a step. An arrival (no
``from_condition``) is in regular conditions: one straight into light or
preferential skips the commission (rules.md 2: regular for everyone on arrival).
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
from anomaly.rules.windows import count_in_window, working_on

CODE = "COND"
STEPS = {
    ("regular", "light"),
    ("light", "preferential"),
    ("strict", "regular"),
    ("light", "regular"),
    ("preferential", "light"),
    ("preferential", "regular"),
}


def check(s: Snapshot) -> Findings:
    changes = s["condition_changes"].sort_values(["convict_id", "changed_on"], kind="stable")
    changes = changes.assign(since=changes.groupby("convict_id")["changed_on"].shift())
    moves = changes[changes["from_condition"].notna()].copy()
    moves["level"] = s.rule_level(moves["facility_id"])
    moves["degree"] = as_of(
        moves, "changed_on", s["degree_assignments"], "assigned_on", ["degree"]
    )["degree"].fillna(0)
    convicts = s["convicts"].set_index("convict_id")
    moves["sentence_start"] = moves["convict_id"].map(convicts["sentence_start"])
    moves["sentence_end"] = moves["convict_id"].map(convicts["sentence_end"])
    moves["sentence_end_nulled"] = s.was_nulled("convicts", "sentence_end", moves["convict_id"])
    events = s["disciplinary_events"]
    penalties = events[events["kind"].eq("penalty")]
    moves["penalties_since"] = count_in_window(
        moves, "changed_on", penalties, "occurred_on", moves["since"]
    )
    periods = {lvl: s.rulebook.periods(lvl) for lvl in moves["level"].dropna().unique()}
    months = {
        k: moves["level"].map({lvl: getattr(p, k) for lvl, p in periods.items()}).astype(float)
        for k in (
            "regular_to_light",
            "light_to_preferential",
            "preferential_before_release",
            "strict_to_regular",
        )
    }
    reasons = Reasons(moves)
    pair = list(zip(moves["from_condition"], moves["to_condition"], strict=True))
    step = pd.Series([p in STEPS or p[1] == "strict" for p in pair], index=moves.index)
    reasons.add(~step, "skips a step")
    missing = _to_light(s, moves, months, reasons)
    _to_preferential(moves, months, reasons)
    _back_to_regular(moves, months, reasons)
    demoted = (moves["from_condition"].eq("light") & moves["to_condition"].eq("regular")) | (
        moves["from_condition"].eq("preferential")
        & moves["to_condition"].isin(["light", "regular"])
    )
    reasons.add(
        demoted & moves["penalties_since"].eq(0),
        "moved back without a penalty since the last change",
    )
    to_strict = moves["to_condition"].eq("strict") & moves["degree"].ne(-3)
    reasons.add(to_strict, "moved to strict without being a malicious violator")
    hit = moves[reasons.found]
    what = (
        hit["from_condition"]
        + " -> "
        + hit["to_condition"]
        + " on "
        + hit["changed_on"].dt.strftime("%Y-%m-%d")
    )
    found = flags(
        CODE,
        "condition_changes",
        hit,
        reasons.explain(what),
    )
    return Findings(pd.concat([found, _arrivals(changes)], ignore_index=True), missing)


def _arrivals(changes: pd.DataFrame) -> pd.DataFrame:
    """rules.md 2: everyone arrives in regular conditions (an arrival row has no
    ``from_condition``); arriving straight into light or preferential skips the commission."""
    arriving = changes[changes["from_condition"].isna() & changes["to_condition"].notna()]
    hit = arriving[arriving["to_condition"].ne("regular")]
    explanation = (
        "arrival on " + hit["changed_on"].dt.strftime("%Y-%m-%d") + " in "
        + hit["to_condition"].astype(str) + " conditions: everyone arrives in regular conditions"
    )  # fmt: skip
    return flags(CODE, "condition_changes", hit, explanation)


def _served(moves: pd.DataFrame, start: pd.Series, months: pd.Series) -> pd.Series:
    """Whether ``months`` calendar months have passed from ``start`` to the change."""
    return (_shifted(start, months) <= moves["changed_on"]).fillna(False).astype(bool)


def _to_light(s, moves, months, reasons: Reasons) -> pd.DataFrame:
    """Adds the reasons against moves to light conditions; returns who could not be judged."""
    light = moves["from_condition"].eq("regular") & moves["to_condition"].eq("light")
    complete = moves["level"].eq("complete")
    start = moves["since"].where(~complete, moves["sentence_start"])
    served = _served(moves, start, months["regular_to_light"])
    no_light = months["regular_to_light"].isna()
    reasons.add(light & no_light, "no light conditions at this institution")
    reasons.add(
        light & ~no_light & ~served,
        "less than "
        + months["regular_to_light"].astype("Int64").astype(str)
        + " months in regular",
    )
    reasons.add(light & (moves["degree"] < 1), "degree below +1")
    juvenile = moves["level"].eq("juvenile")
    reasons.add(light & juvenile & (moves["penalties_since"] > 0), "a penalty while in regular")
    missing = none_insufficient()
    needs_work = light & ~complete
    if s.has("work_assignments"):
        work = working_on(moves, "changed_on", s["work_assignments"])
        enough = (work["work"] & work["study"]).where(juvenile, work["work"] | work["study"])
        reasons.add(needs_work & ~enough, "no work or study on record")
    else:
        missing = insufficient(
            moves.loc[needs_work, "convict_id"], "work_assignments not delivered"
        )
    return missing


def _to_preferential(moves, months, reasons: Reasons) -> None:
    pref = moves["from_condition"].eq("light") & moves["to_condition"].eq("preferential")
    none = months["light_to_preferential"].isna()
    reasons.add(pref & none, "no preferential conditions at this institution")
    served = _served(moves, moves["since"], months["light_to_preferential"])
    reasons.add(pref & ~none & ~served, "too short a time in light")
    reasons.add(pref & moves["degree"].ne(3), "degree below +3")
    before = _shifted(moves["sentence_end"], -months["preferential_before_release"])
    # an empty sentence_end is a life sentence; one that validation nulled is unknown
    life = moves["sentence_end"].isna() & ~moves["sentence_end_nulled"]
    far = life | (moves["changed_on"] < before)
    reasons.add(pref & ~none & far, "not within the months before release")


def _shifted(dates: pd.Series, months: pd.Series) -> pd.Series:
    """Each date moved by its own number of calendar months (null where months is null)."""
    out = pd.Series(pd.NaT, index=dates.index, dtype=dates.dtype)
    for m in months.dropna().unique():
        rows = months.eq(m)
        out[rows] = dates[rows] + pd.DateOffset(months=int(m))
    return out


def _back_to_regular(moves, months, reasons: Reasons) -> None:
    back = moves["from_condition"].eq("strict") & moves["to_condition"].eq("regular")
    served = _served(moves, moves["since"], months["strict_to_regular"])
    reasons.add(back & ~served, "too short a time in strict")
    reasons.add(back & (moves["penalties_since"] > 0), "a penalty while in strict")
    complete = moves["level"].eq("complete")
    reasons.add(back & complete & (moves["degree"] < 1), "degree below +1")


RULE = Rule(
    code=CODE,
    statement="A change of conditions meets the criteria of the institution type.",
    legal_basis=(
        "PEC art. 103, 150 and the per-institution articles; rules.md 2; PCPI report, section 2"
    ),
    tables=("condition_changes", "degree_assignments", "disciplinary_events"),
    optional_tables=("work_assignments",),
    check=check,
    reads=(
        "condition_changes.changed_on",
        "condition_changes.from_condition",
        "condition_changes.to_condition",
        "degree_assignments.assigned_on",
        "degree_assignments.degree",
        "disciplinary_events.kind",
        "disciplinary_events.occurred_on",
        "convicts.sentence_start",
        "convicts.sentence_end",
        "facilities.security_level",
        "work_assignments.started_on",
        "work_assignments.ended_on",
        "work_assignments.kind",
    ),
)
