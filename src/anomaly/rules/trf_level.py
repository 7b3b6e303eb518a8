"""TRF-LEVEL: a convict is held in an institution of the type the court ordered (PEC art. 96).

The court fixes the type of institution; only a court decision changes it
(art. 96: a milder type for good conduct, a stricter one after malicious
violations), recorded as a transfer on the ground ``security_level_change``
or ``court_order``. Every other transfer, intake included, must lead to an
institution of the type in force. The pre-trial centre (mixed) is exempt:
convicts of any type may be kept there for housekeeping work (the NPM 2018 report); a
move there that lands the convict at home is TRF-HOME's concern.

Lawful explanation checked in the records: a stay in a hospital is lawful
whatever the hospital's level. A transfer on the ground ``medical`` into an
institution the records show to be a hospital (``registry.institution_roles``) is
clear; one into an institution they do not show as a hospital is still
flagged, at a lower severity, and says that the explanation could not be
confirmed.
"""

from __future__ import annotations

import pandas as pd

from anomaly.registry.institution_roles import hospitals
from anomaly.registry.institution_types import LEVEL_CHANGES, with_types_in_force
from anomaly.registry.snapshot import Snapshot
from anomaly.rules.rule import Findings, Rule, flags, none_insufficient

CODE = "TRF-LEVEL"
MEDICAL_UNCONFIRMED = 0.5  # a medical move would be lawful into a hospital the records do not show


def check(s: Snapshot) -> Findings:
    court = s["convicts"].set_index("convict_id")["court_security_level"]
    t = with_types_in_force(s["transfers"], court, s.level)
    changed = t["ground"].isin(LEVEL_CHANGES)
    wrong = ~changed & t["to_level"].ne("mixed") & t["to_level"].ne(t["in_force"])
    # a level validation nulled (the court's or the institution's) is unknown, not a mismatch
    treated = hospitals(s.roles)
    medical = t["ground"].eq("medical").fillna(False)
    into_hospital = medical & t["to_facility_id"].astype(str).isin(treated)
    hit = t[wrong & t["to_level"].notna() & t["in_force"].notna() & ~into_hospital]
    unconfirmed = medical[hit.index]
    explanation = (
        "transfer on "
        + hit["departed_on"].dt.strftime("%Y-%m-%d")
        + " ("
        + hit["ground"].astype(str)
        + ") into a "
        + hit["to_level"].astype(str)
        + " institution; the type in force is "
        + hit["in_force"].astype(str)
        + pd.Series("", index=hit.index).where(
            ~unconfirmed,
            "; a medical stay would be lawful in a hospital of any level, but the records"
            " do not show this institution as a hospital",
        )
    )
    found = flags(
        CODE,
        "transfers",
        hit,
        explanation,
        score=pd.Series(1.0, index=hit.index).where(~unconfirmed, MEDICAL_UNCONFIRMED),
        facility="to_facility_id",
    )
    return Findings(found, none_insufficient(), notes=_hospital_notes(s.roles))


def _hospital_notes(roles: pd.DataFrame) -> str:
    """The roles read from the records (not given by the registry's level), with their
    evidence, for rule_outcomes.csv and the report."""
    read = roles[roles["role"].isin(["hospital", "women's colony"])]
    if read.empty:
        return "no institution's records show it to be a hospital or a women's colony"
    listed = "; ".join(read["facility_id"] + " " + read["role"] + " (" + read["evidence"] + ")")
    return "roles inferred from the records: " + listed


RULE = Rule(
    code=CODE,
    statement="A convict is held in an institution of the type in force by the court's decision.",
    legal_basis="PEC art. 96; rules.md 4; PCPI report, section 4",
    tables=("transfers", "convicts", "facilities"),
    check=check,
    per_convict=False,  # what an institution is, is read from everyone's transfers
    needs_complete=("transfers",),
    reads=(
        "transfers.departed_on",
        "transfers.to_facility_id",
        "transfers.ground",
        "convicts.court_security_level",
        "facilities.security_level",
    ),
)
