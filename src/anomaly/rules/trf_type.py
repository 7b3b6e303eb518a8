"""TRF-TYPE: a change of institution type meets PEC art. 96.

rules.md 4: a court changes the type, for convicts with degree +2 or +3:
from complete to maximum or medium after half of the sentence; from medium
or maximum to minimum for convicts in light or preferential conditions
after a quarter (minor and medium gravity) or a third (grave) of the term.
Especially grave crimes are excluded. Moves to a stricter type follow
malicious violations. A bought softer regime shows as a change on the
ground ``security_level_change`` (or ``court_order``) that skips them.

Lawful explanations, checked before flagging:

- a trip to court: a ``court_order`` move into a pre-trial centre is not a
  change of type (the pre-trial centre stands outside the order of types),
  nor is the return from it;
- a stay in hospital: a move into an institution the records show to be a
  hospital (``registry.institution_roles``) is not a change of type;
- a change to a stricter type after a malicious violation: a
  ``malicious_violator`` penalty, or degree -3 in force, in the 12 months
  before the move.

A milder change that art. 96 as quoted in the rule book does not list
(extreme to maximum, say) is flagged at ``UNLISTED_CHANGE``: the current
edition of the code could not be verified, and the finding says so.
"""

from __future__ import annotations

import pandas as pd

from anomaly.registry.institution_roles import hospitals
from anomaly.registry.institution_types import LEVEL_CHANGES, STRICTNESS, with_types_in_force
from anomaly.registry.snapshot import Snapshot, as_of
from anomaly.rules.rule import Findings, Reasons, Rule, flags, none_insufficient

CODE = "TRF-TYPE"
UNLISTED_CHANGE = 0.6  # a milder change the rule book's summary of art. 96 does not list
LISTED = {("complete", "maximum"), ("complete", "medium"), ("medium", "minimum"),
          ("maximum", "minimum")}  # fmt: skip
PART_OF_TERM = {"minor": 1 / 4, "medium": 1 / 4, "grave": 1 / 3}  # to minimum (art. 96)
PART_FROM_COMPLETE = 1 / 2


def check(s: Snapshot) -> Findings:
    convicts = s["convicts"].set_index("convict_id")
    t = with_types_in_force(s["transfers"], convicts["court_security_level"], s.level)
    treated = hospitals(s.roles)
    into_hospital = t["to_facility_id"].astype(str).isin(treated)
    # the type served before the move: the institution left, where it is a colony of a
    # general type (not a pre-trial centre, juvenile colony or hospital); else the type in force
    left = t["from_facility_id"].map(s.level)
    served = left.isin(list(STRICTNESS)) & ~t["from_facility_id"].astype(str).isin(treated)
    t["in_force"] = left.where(served, t["in_force"])
    rank_to, rank_from = t["to_level"].map(STRICTNESS), t["in_force"].map(STRICTNESS)
    change = t["ground"].isin(LEVEL_CHANGES) & rank_to.notna() & rank_from.notna()
    change &= rank_to.ne(rank_from) & ~into_hospital
    moves = t[change].copy()
    moves["degree"] = _latest_before(s["degree_assignments"], "assigned_on", "degree", moves)
    milder = moves[rank_to[moves.index] < rank_from[moves.index]]
    stricter = moves[rank_to[moves.index] > rank_from[moves.index]]
    found = pd.concat([_milder(s, milder, convicts), _stricter(s, stricter)], ignore_index=True)
    return Findings(found, none_insufficient())


def _milder(s: Snapshot, moves: pd.DataFrame, convicts: pd.DataFrame) -> pd.DataFrame:
    gravity = moves["convict_id"].map(convicts["offense_gravity"])
    start = moves["convict_id"].map(convicts["sentence_start"])
    end = moves["convict_id"].map(convicts["sentence_end"])
    served = ((moves["departed_on"] - start) / (end - start)).astype(float)  # null: life
    pair = pd.Series(
        list(zip(moves["in_force"], moves["to_level"], strict=True)), index=moves.index
    )
    listed = pair.isin(LISTED)
    condition = _latest_before(s["condition_changes"], "changed_on", "to_condition", moves)
    to_minimum = moves["to_level"].eq("minimum")
    part = gravity.astype(object).map(PART_OF_TERM).astype(float)
    part = part.where(to_minimum, PART_FROM_COMPLETE)
    grave = gravity.eq("especially_grave")
    low = moves["degree"].fillna(0).lt(2)
    early = listed & (served < part)
    not_light = listed & to_minimum & ~condition.isin(["light", "preferential"])
    reasons = Reasons(moves)
    reasons.add(grave, "art. 96 excludes especially grave crimes")
    reasons.add(low, "degree " + _signed(moves["degree"]) + " (art. 96 needs +2 or +3)")
    reasons.add(
        early,
        "served " + (100 * served).round().astype("Int64").astype(str) + "% of the term, needs "
        + (100 * part).round().astype("Int64").astype(str) + "%",
    )  # fmt: skip
    reasons.add(
        not_light,
        "in " + condition.astype("string").fillna("unknown") + " conditions, not light or"
        " preferential",
    )  # fmt: skip
    reasons.add(~listed, "a change art. 96 (as the rule book quotes it) does not provide")
    hit = moves[reasons.found]
    proven = (grave | low | early | not_light)[hit.index]
    score = pd.Series(1.0, index=hit.index).where(proven, UNLISTED_CHANGE)
    what = _what(hit, "change to a milder type")
    return flags(CODE, "transfers", hit, reasons.explain(what), score, facility="to_facility_id")


def _stricter(s: Snapshot, moves: pd.DataFrame) -> pd.DataFrame:
    events = s["disciplinary_events"]
    malicious = events[events["measure"].eq("malicious_violator")]
    months = int(s.rulebook.degrees.negative_lookback_months.value)
    last = _latest_before(malicious, "occurred_on", "occurred_on", moves)
    recent = last.notna() & (last >= moves["departed_on"] - pd.DateOffset(months=months))
    violator = moves["degree"].eq(-3) | recent
    hit = moves[~violator.fillna(False).astype(bool)]
    explanation = _what(hit, "change to a stricter type") + (
        f": no malicious violation in the {months} months before, nor degree -3 in force"
    )
    return flags(CODE, "transfers", hit, explanation, facility="to_facility_id")


def _latest_before(events: pd.DataFrame, on: str, value: str, moves: pd.DataFrame) -> pd.Series:
    """Per move, ``value`` of the convict's latest event on or before the departure."""
    return as_of(moves, "departed_on", events, on, [value])[value]


def _what(hit: pd.DataFrame, kind: str) -> pd.Series:
    return (
        kind + " on " + hit["departed_on"].dt.strftime("%Y-%m-%d") + " ("
        + hit["ground"].astype(str) + "), " + hit["in_force"].astype(str) + " to "
        + hit["to_level"].astype(str)
    )  # fmt: skip


def _signed(degree: pd.Series) -> pd.Series:
    d = degree.fillna(0).astype(int)
    return d.map(lambda v: f"{v:+d}" if v else "0").astype(str)


RULE = Rule(
    code=CODE,
    statement=(
        "A change of institution type follows art. 96: milder only for degree +2 or +3 after"
        " the required part of the term, never for especially grave crimes; stricter only"
        " after a malicious violation."
    ),
    legal_basis="PEC art. 96; rules.md 4; PCPI report, section 4; NPM 2018 report",
    tables=(
        "transfers",
        "convicts",
        "facilities",
        "degree_assignments",
        "disciplinary_events",
        "condition_changes",
    ),  # fmt: skip
    judges=("transfers",),
    check=check,
    per_convict=False,  # a hospital is read from everyone's transfers
    needs_complete=("transfers", "degree_assignments", "disciplinary_events", "condition_changes"),
    reads=(
        "transfers.departed_on",
        "transfers.to_facility_id",
        "transfers.ground",
        "convicts.court_security_level",
        "convicts.offense_gravity",
        "convicts.sentence_start",
        "convicts.sentence_end",
        "facilities.security_level",
        "degree_assignments.assigned_on",
        "degree_assignments.degree",
        "disciplinary_events.measure",
        "disciplinary_events.occurred_on",
        "condition_changes.changed_on",
        "condition_changes.to_condition",
    ),
)
