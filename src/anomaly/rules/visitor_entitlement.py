"""VIS-KIN: long visits only by relatives entitled to them (PEC art. 106; seed 002 s.3).

The visitor must be in the convict's kinship registry with an entitled
relation (spouse, close relative, a child in common), registered before the
visit. A relation registered only days before the visit without a supporting
document is the "relative" of convenience seed 002 describes.
"""

from __future__ import annotations

import pandas as pd

from anomaly.registry_snapshot import Snapshot
from anomaly.rules.rule import Findings, Rule, add_reason, explained, flags, none_insufficient

CODE = "VIS-KIN"


def check(s: Snapshot) -> Findings:
    visits = s["visit_logs"]
    long = visits[visits["visit_type"].eq("long")]
    kin = s["kinship"].rename(columns={"person_id": "visitor_person_id"})
    joined = (
        long.reset_index(names="_row")
        .merge(
            kin[["convict_id", "visitor_person_id", "relation", "registered_on", "document_no"]],
            on=["convict_id", "visitor_person_id"],
            how="left",
        )
        .set_index("_row")
    )
    lead = pd.Timedelta(days=s.rulebook.visits.kin_registration_lead_days.value)
    day = joined["started_at"].dt.normalize()
    reasons = pd.Series("", index=joined.index)
    reasons = add_reason(reasons, joined["visitor_person_id"].isna(), "unidentified visitor")
    absent = joined["relation"].isna() & joined["visitor_person_id"].notna()
    reasons = add_reason(reasons, absent, "visitor not in the convict's kinship registry")
    not_entitled = joined["relation"].notna() & ~joined["relation"].isin(
        s.rulebook.entitled_relations
    )
    reasons = add_reason(
        reasons, not_entitled, "relation '" + joined["relation"].astype(str) + "' is not entitled"
    )
    after = joined["registered_on"] > day
    reasons = add_reason(reasons, after, "relation registered only after the visit")
    hasty = ~after & (joined["registered_on"] > day - lead) & joined["document_no"].isna()
    reasons = add_reason(reasons, hasty, "relation registered days before, with no document")
    hit = joined[reasons.ne("")]
    what = (
        "long visit on "
        + hit["started_at"].dt.strftime("%Y-%m-%d")
        + " by "
        + hit["visitor_person_id"].astype(str)
    )
    evidence = ("persons:" + hit["visitor_person_id"].astype(str)).where(
        hit["visitor_person_id"].notna(), ""
    )
    return Findings(
        flags(
            CODE,
            "visit_logs",
            hit,
            explained(hit, reasons, what),
            evidence=evidence,
        ),
        none_insufficient(),
    )


RULE = Rule(
    code=CODE,
    statement=(
        "Long visits are only by spouses, close relatives and persons with a child in common."
    ),
    legal_basis="PEC art. 106; rules.md 3; seed 002 section 3",
    tables=("visit_logs", "kinship"),
    check=check,
)
