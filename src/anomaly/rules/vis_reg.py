"""VIS-REG: each long visit rests on an approved registration for it (PEC art. 106; rules.md 3).

The registration must exist, be approved (and decided before the visit), and
be for the same convict, visitor and dates (planned_start to planned_start +
planned_days). A registration granted as an incentive must point to an
extra-long-visit incentive of the same convict.
"""

from __future__ import annotations

import pandas as pd

from anomaly.registry.snapshot import Snapshot
from anomaly.rules.rule import Findings, Reasons, Rule, flags, none_insufficient

CODE = "VIS-REG"
# A registration on a false incentive basis: the paper is wrong, the visit may still be due.
FALSE_BASIS = 0.8


def check(s: Snapshot) -> Findings:
    found = pd.concat([_visits(s), _incentive_basis(s)], ignore_index=True)
    return Findings(found, none_insufficient())


def _visits(s: Snapshot) -> pd.DataFrame:
    visits = s["visit_logs"]
    long = visits[visits["visit_type"].eq("long")]
    regs = s["long_visit_registrations"].add_prefix("reg_")
    j = (
        long.reset_index(names="_row")
        .merge(regs, left_on="registration_id", right_on="reg_registration_id", how="left")
        .set_index("_row")
    )
    day = j["started_at"].dt.normalize()
    last = j["reg_planned_start"] + pd.to_timedelta(j["reg_planned_days"].astype("float"), unit="D")
    reasons = Reasons(j)
    reasons.add(j["registration_id"].isna(), "no registration")
    unknown = j["registration_id"].notna() & j["reg_registration_id"].isna()
    reasons.add(unknown, "registration not in the register")
    known = j["reg_registration_id"].notna()
    reasons.add(
        known & j["reg_decision"].ne("approved"),
        "registration " + j["reg_decision"].astype(str),
    )
    other = known & (
        (j["reg_convict_id"] != j["convict_id"])
        | (j["reg_visitor_person_id"] != j["visitor_person_id"])
    )
    reasons.add(other, "registration for another convict or visitor")
    unnamed = known & j["visitor_person_id"].isna()  # records.md: null only when unidentified
    reasons.add(unnamed, "visitor not identified, although the registration names one")
    dates = known & ((day < j["reg_planned_start"]) | (day > last))
    reasons.add(dates, "registration for other dates")
    late = known & (j["reg_decided_on"] > day)
    reasons.add(late, "approved only after the visit")
    hit = j[reasons.found]
    what = "long visit on " + hit["started_at"].dt.strftime("%Y-%m-%d")
    evidence = ("long_visit_registrations:" + hit["registration_id"].astype(str)).where(
        hit["reg_registration_id"].notna(), ""
    )
    return flags(
        CODE,
        "visit_logs",
        hit,
        reasons.explain(what),
        evidence=evidence,
    )


def _incentive_basis(s: Snapshot) -> pd.DataFrame:
    regs = s["long_visit_registrations"]
    extra = regs[regs["basis"].eq("incentive") & regs["decision"].eq("approved")]
    events = s["disciplinary_events"][["event_id", "convict_id", "kind", "measure"]].add_prefix(
        "ev_"
    )
    j = (
        extra.reset_index(names="_row")
        .merge(events, left_on="incentive_event_id", right_on="ev_event_id", how="left")
        .set_index("_row")
    )
    valid = (j["ev_convict_id"] == j["convict_id"]) & j["ev_measure"].eq("extra_long_visit")
    hit = j[~valid.fillna(False).astype(bool)]
    why = pd.Series(
        "incentive basis is not an extra-long-visit incentive of this convict", index=hit.index
    )
    why = why.where(hit["incentive_event_id"].notna(), "incentive basis without an incentive")
    return flags(
        CODE,
        "long_visit_registrations",
        hit,
        "registration " + hit["registration_id"].astype(str) + ": " + why,
        score=FALSE_BASIS,
    )


RULE = Rule(
    code=CODE,
    statement=(
        "Every long visit rests on an approved registration for the same "
        "convict, visitor and dates."
    ),
    legal_basis="PEC art. 106; rules.md 3; PCPI report, section 3 (visits not documented)",
    tables=("visit_logs", "long_visit_registrations", "disciplinary_events"),
    check=check,
    needs_complete=("long_visit_registrations", "disciplinary_events"),
    reads=(
        "visit_logs.visit_type",
        "visit_logs.started_at",
        "visit_logs.registration_id",
        "visit_logs.visitor_person_id",
        "long_visit_registrations.decision",
        "long_visit_registrations.decided_on",
        "long_visit_registrations.planned_start",
        "long_visit_registrations.planned_days",
        "long_visit_registrations.basis",
        "long_visit_registrations.incentive_event_id",
        "disciplinary_events.measure",
    ),
    per_convict=False,  # a visit may rest on another convict's registration
)
