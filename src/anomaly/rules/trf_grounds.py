"""TRF-GROUNDS: every transfer carries a ground and an order; operational need needs consent.

PEC art. 88: later transfers are decided on a stated ground by an order of the
administration; a transfer for operational need requires the convict's prior
written consent. A "reorganisation" must match an institution actually
reorganised or liquidated (``closed_on`` near the move): TRF-REORG.
"""

from __future__ import annotations

from anomaly.registry.snapshot import Snapshot
from anomaly.rules.rule import Findings, Reasons, Rule, flags, none_insufficient

CODE = "TRF-GROUNDS"


def check(s: Snapshot) -> Findings:
    t = s["transfers"]
    reasons = Reasons(t)
    reasons.add(t["ground"].isna(), "no ground recorded")
    reasons.add(t["order_no"].isna(), "no order number")
    consented = t["consent"].astype("boolean").fillna(False).astype(bool)
    no_consent = t["ground"].eq("operational_need") & ~consented
    reasons.add(no_consent, "operational need without the convict's consent")
    hit = t[reasons.found]
    what = (
        "transfer on "
        + hit["departed_on"].dt.strftime("%Y-%m-%d")
        + " to "
        + hit["to_facility_id"].astype(str)
    )
    found = flags(
        CODE,
        "transfers",
        hit,
        reasons.explain(what),
        facility="to_facility_id",
    )
    return Findings(found, none_insufficient())


RULE = Rule(
    code=CODE,
    statement="A transfer carries a ground and an order; operational need needs prior consent.",
    legal_basis="PEC art. 88; rules.md 4; PCPI report, section 4",
    tables=("transfers",),
    check=check,
    needs_complete=(),
    reads=("transfers.ground", "transfers.order_no", "transfers.consent", "transfers.departed_on"),
)
