"""VIS-IMPOSSIBLE: the visitor could have come (PCPI report 3: "relatives who cannot come").

A visitor who had died before the visit, or who was in custody on its date
(a person who is also a convict, between sentence start and release), cannot
have visited: the log hides someone else.
"""

from __future__ import annotations

from anomaly.registry.snapshot import Snapshot
from anomaly.rules.rule import Findings, Reasons, Rule, flags, none_insufficient

CODE = "VIS-IMPOSSIBLE"


def check(s: Snapshot) -> Findings:
    visits = s["visit_logs"]
    persons = s["persons"][["person_id", "death_date", "convict_id"]].rename(
        columns={"person_id": "visitor_person_id", "convict_id": "visitor_convict"}
    )
    convicts = s["convicts"][["convict_id", "sentence_start", "released_on"]].rename(
        columns={"convict_id": "visitor_convict"}
    )
    joined = visits.reset_index(names="_row").merge(persons, on="visitor_person_id", how="inner")
    joined = joined.merge(convicts, on="visitor_convict", how="left").set_index("_row")
    day = joined["started_at"].dt.normalize()
    dead = joined["death_date"] < day
    # an empty released_on means "still held"; one that validation nulled means "unknown"
    unknown = s.was_nulled("convicts", "released_on", joined["visitor_convict"])
    jailed = (joined["sentence_start"] <= day) & (
        (joined["released_on"].isna() & ~unknown) | (joined["released_on"] > day)
    )
    reasons = Reasons(joined)
    reasons.add(dead, "visitor died on " + joined["death_date"].dt.strftime("%Y-%m-%d"))
    reasons.add(
        jailed,
        "visitor was in custody (convict " + joined["visitor_convict"].astype(str) + ")",
    )
    hit = joined[reasons.found]
    what = hit["visit_type"] + " visit on " + hit["started_at"].dt.strftime("%Y-%m-%d")
    evidence = "persons:" + hit["visitor_person_id"].astype(str)
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
    statement="No visit by a person who was dead or in custody on the day.",
    legal_basis="rules.md 3; PCPI report, section 3",
    tables=("visit_logs", "persons", "convicts"),
    check=check,
    needs_complete=(),
    reads=(
        "visit_logs.visit_type",
        "visit_logs.started_at",
        "visit_logs.visitor_person_id",
        "persons.death_date",
        "persons.convict_id",
        "convicts.sentence_start",
        "convicts.released_on",
    ),
)
