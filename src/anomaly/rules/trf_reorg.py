"""TRF-REORG: a "reorganisation" transfer leaves an institution that was reorganised.

PEC art. 88 allows moving convicts when their institution is reorganised or
liquidated. The facilities table records that with ``closed_on``. A transfer
on that ground out of an institution that stayed open, or far from the date
it closed, uses the ground as cover.
"""

from __future__ import annotations

import pandas as pd

from anomaly.registry.snapshot import Snapshot
from anomaly.rulebook import Param, RuleParameters
from anomaly.rules.rule import Findings, Rule, flags, none_insufficient

CODE = "TRF-REORG"


class Parameters(RuleParameters):
    """TRF-REORG's section of the rule book."""

    reorganization_window_days: Param[int] = Param(
        value=90,
        source="rules.md 4: a reorganisation move happens around the date the institution closes",
        assumed=True,
    )


def check(s: Snapshot) -> Findings:
    t = s["transfers"]
    moved = t[t["ground"].eq("reorganization")]
    closed = moved["from_facility_id"].map(s["facilities"].set_index("facility_id")["closed_on"])
    window = pd.Timedelta(days=s.rulebook.rule(CODE, Parameters).reorganization_window_days.value)
    gap = (moved["departed_on"] - closed).abs()
    # an empty closed_on means "still open"; one that validation nulled means "unknown"
    unknown = s.was_nulled("facilities", "closed_on", moved["from_facility_id"])
    open_ = closed.isna() & ~unknown
    far = closed.notna() & (gap > window)
    hit = moved[open_ | far]
    why = pd.Series("the institution stayed open", index=hit.index).where(
        open_[hit.index], "the institution closed on " + closed[hit.index].dt.strftime("%Y-%m-%d")
    )
    explanation = (
        "'reorganisation' transfer on "
        + hit["departed_on"].dt.strftime("%Y-%m-%d")
        + " out of "
        + hit["from_facility_id"].astype(str)
        + ": "
        + why
    )
    evidence = "facilities:" + hit["from_facility_id"].astype(str)
    found = flags(
        CODE,
        "transfers",
        hit,
        explanation,
        evidence=evidence,
        facility="from_facility_id",
    )
    return Findings(found, none_insufficient())


RULE = Rule(
    code=CODE,
    parameters=Parameters,
    statement=(
        "Transfers on the ground of reorganisation leave an institution actually reorganised."
    ),
    legal_basis="PEC art. 88; rules.md 4",
    tables=("transfers", "facilities"),
    check=check,
    needs_complete=(),
    reads=(
        "transfers.ground",
        "transfers.departed_on",
        "transfers.from_facility_id",
        "facilities.closed_on",
    ),
)
