"""VIS-KIN: long visits only by relatives entitled to them (PEC art. 106; PCPI report, section 3).

The visitor must be in the convict's kinship registry with an entitled
relation (spouse, close relative, a child in common), registered before the
visit. A relation registered only days before the visit without a supporting
document is the "relative" of convenience the PCPI report describes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from anomaly.registry.id_codes import NULL
from anomaly.registry.snapshot import Snapshot
from anomaly.rulebook import Param, RuleParameters
from anomaly.rules.rule import Findings, Reasons, Rule, flags, none_insufficient

CODE = "VIS-KIN"


class Parameters(RuleParameters):
    """VIS-KIN's section of the rule book."""

    kin_registration_lead_days: Param[int] = Param(
        value=30,
        source="rules.md 3 (registration timing): a relation entered days before a visit "
        "without a document is suspect",
        assumed=True,
    )


NOT_KIN = "visitor not in the convict's kinship registry"


def check(s: Snapshot) -> Findings:
    visits = s["visit_logs"]
    long = np.flatnonzero(visits["visit_type"].eq("long").fillna(False).to_numpy(dtype=bool))
    kin = s["kinship"]
    kin_pair = s.ids.pair("kinship", "convict_id", "person_id")
    known = kin_pair != NULL
    joined = pd.DataFrame(
        {"_pos": long, "_pair": s.ids.pair("visit_logs", "convict_id", "visitor_person_id")[long]}
    ).merge(
        kin.loc[known, ["relation", "registered_on", "document_no"]].assign(_pair=kin_pair[known]),
        on="_pair",
        how="left",
    )
    rows = joined["_pos"].to_numpy()
    visitor = visits["visitor_person_id"].iloc[rows].reset_index(drop=True)
    day = visits["started_at"].iloc[rows].dt.normalize().reset_index(drop=True)
    lead = pd.Timedelta(days=s.rulebook.rule(CODE, Parameters).kin_registration_lead_days.value)
    reasons = Reasons(joined)
    reasons.add(visitor.isna(), "unidentified visitor")
    reasons.add(joined["relation"].isna() & visitor.notna(), NOT_KIN)
    not_entitled = joined["relation"].notna() & ~joined["relation"].isin(
        s.rulebook.entitled_relations
    )
    reasons.add(not_entitled, "relation '" + joined["relation"].astype(str) + "' is not entitled")
    after = joined["registered_on"] > day
    reasons.add(after, "relation registered only after the visit")
    hasty = ~after & (joined["registered_on"] > day - lead) & joined["document_no"].isna()
    reasons.add(hasty, "relation registered days before, with no document")
    hit = visits.iloc[rows[reasons.found]]
    what = (
        "long visit on "
        + hit["started_at"].dt.strftime("%Y-%m-%d")
        + " by "
        + hit["visitor_person_id"].astype("string").fillna("(no visitor id)")
    )
    evidence = ("persons:" + hit["visitor_person_id"].astype(str)).where(
        hit["visitor_person_id"].notna(), ""
    )
    return Findings(
        flags(CODE, "visit_logs", hit, reasons.explain(what), evidence=evidence),
        none_insufficient(),
    )


RULE = Rule(
    code=CODE,
    parameters=Parameters,
    statement=(
        "Long visits are only by spouses, close relatives and persons with a child in common."
    ),
    legal_basis="PEC art. 106; rules.md 3; PCPI report, section 3",
    tables=("visit_logs", "kinship"),
    check=check,
    needs_complete=("kinship",),
    reads=(
        "visit_logs.visit_type",
        "visit_logs.started_at",
        "visit_logs.visitor_person_id",
        "kinship.relation",
        "kinship.registered_on",
        "kinship.document_no",
    ),
)
