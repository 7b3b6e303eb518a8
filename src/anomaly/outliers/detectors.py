"""The statistical detectors: one per subject type, registered like the rules.

Each compares subjects with their peers (docs/rules/STAT-*.md) using
``outliers.ensemble`` over the features of ``outliers.features``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from anomaly.outliers import features as features
from anomaly.outliers.ensemble import peer_outlier_flags
from anomaly.registry.snapshot import Snapshot


@dataclass(frozen=True)
class OutlierDetector:
    code: str
    subject: str
    statement: str
    peers: str
    features: Callable[[Snapshot, pd.DataFrame], pd.DataFrame]


DETECTORS: tuple[OutlierDetector, ...] = (
    OutlierDetector(
        "STAT-FACILITY",
        "facility",
        "An institution grants incentives, degrees and better conditions far more readily "
        "(and punishes far less) than institutions of the same security level.",
        "institutions of the same security level",
        features.facility_features,
    ),
    OutlierDetector(
        "STAT-STAFF",
        "staff",
        "A staff member grants extra visits, incentives, degrees or approvals far more often "
        "than staff of the same role, per convict of their institution.",
        "staff members of the same role",
        features.staff_features,
    ),
    OutlierDetector(
        "STAT-CONVICT",
        "convict",
        "A convict's visits, visitors, decisions and moves stand far out from convicts "
        "held at the same security level.",
        "convicts at the same security level",
        features.convict_features,
    ),
)


def run_detectors(
    s: Snapshot, rule_flags: pd.DataFrame, verdicts: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Statistical flags of every detector, scored by the rule book's weights.

    ``verdicts`` (subject_type, subject_id, confirmed): the analysts' verdicts
    on subjects, which move their neighbours' scores (``outliers.semi_supervised``)."""
    scoring = s.rulebook.scoring
    found = []
    for detector in DETECTORS:
        table = detector.features(s, rule_flags)
        judged = None
        if verdicts is not None and not verdicts.empty:
            mine = verdicts[verdicts["subject_type"].eq(detector.subject)]
            judged = pd.Series(mine["confirmed"].to_numpy(), index=mine["subject_id"].astype(str))
            judged = judged[judged.index.isin(table.index.astype(str))]
        found.append(
            peer_outlier_flags(
                table,
                detector.subject,
                detector.code,
                scoring.statistical_threshold.value[detector.subject],
                scoring.statistical_weight.value[detector.subject],
                s.rulebook.outliers,
                judged if judged is not None and len(judged) else None,
                s.rulebook.learning,
            )
        )
    out = pd.concat(found, ignore_index=True)
    return _with_signed_findings(out, rule_flags, s.rulebook.outliers.cited_staff_entries.value)


def _with_signed_findings(
    flags: pd.DataFrame, rule_flags: pd.DataFrame, cited: int
) -> pd.DataFrame:
    """A staff outlier's case cites the entries the member made that rules flagged: the
    records an analyst opens first (``rule_flags`` is one of the features compared)."""
    staff = flags["rule"].eq("STAT-STAFF")
    if not staff.any() or rule_flags.empty:
        return flags
    signed = rule_flags.dropna(subset=["staff_id"]).sort_values(
        ["score", "table", "record_id"], ascending=[False, True, True], kind="stable"
    )  # one canonical order, however the rules were partitioned
    refs = (
        (signed["table"] + ":" + signed["record_id"].astype(str))
        .groupby(signed["staff_id"].astype(str))
        .agg(lambda r: ";".join(list(dict.fromkeys(r))[:cited]))
    )
    out = flags.copy()
    entries = out.loc[staff, "staff_id"].astype(str).map(refs)
    out.loc[staff, "evidence"] = entries.fillna(out.loc[staff, "evidence"])
    return out
