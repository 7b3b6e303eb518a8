"""The analysts' verdicts as labels the ranking can learn from (docs/learning.md).

Only what the analysts stand by teaches: each analyst's latest verdict, not
withdrawn (``verdicts.standing``); ``needs_more`` teaches nothing yet. Where
analysts differ on a case (``disputed``) or on a finding, that case or finding
teaches nothing until they agree.

A verdict on a finding (``agree``, ``disagree``) labels that finding. A verdict
on a whole case (``confirmed``, ``dismissed``) labels every finding of the
case the analysts did not judge one by one: the findings of the case as the
store last recorded them, the ones the analyst saw. A case's findings of one
rule at one institution count once: the rule was right or wrong on that case.
"""

from __future__ import annotations

import pandas as pd

from anomaly.cases.verdicts import standing
from anomaly.scoring.verdict_learning import LABEL_COLUMNS, SUBJECT_LABEL_COLUMNS, VerdictLabels


def labels_of(
    verdicts: pd.DataFrame, findings: pd.DataFrame, subjects: pd.DataFrame
) -> VerdictLabels:
    """Labels from ``verdicts`` (``Verdict`` columns, the latest last).

    ``findings``: each judged case's findings (case_id, flag_id, rule,
    facility_id); ``subjects``: each case's subject_type and subject_id."""
    if verdicts.empty:
        return VerdictLabels.none()
    held = standing(verdicts)
    held = held[held["verdict"].ne("needs_more")]
    case_label = _unanimous(held[held["flag_id"].eq("")], ["case_id"], "confirmed")
    finding_label = _unanimous(held[held["flag_id"].ne("")], ["case_id", "flag_id"], "agree")
    f = findings.assign(facility_id=findings["facility_id"].astype(object))
    by_finding = pd.MultiIndex.from_frame(f[["case_id", "flag_id"]]).map(finding_label.get)
    label = pd.Series(list(by_finding), index=f.index, dtype=object)
    label = label.where(label.notna(), f["case_id"].map(case_label))
    f = f.assign(confirmed=label).dropna(subset=["confirmed"])
    per_rule = (
        f.assign(confirmed=f["confirmed"].astype(bool))
        .groupby(["case_id", "rule", "facility_id"], dropna=False)["confirmed"]
        .max()
        .reset_index()
        .merge(subjects, on="case_id", how="inner")
    )
    judged = pd.DataFrame(
        {"case_id": list(case_label), "confirmed": list(case_label.values())}
    ).merge(subjects, on="case_id", how="inner")
    return VerdictLabels(
        per_rule[LABEL_COLUMNS].reset_index(drop=True),
        judged[SUBJECT_LABEL_COLUMNS].reset_index(drop=True),
    )


def _unanimous(held: pd.DataFrame, by: list[str], yes: str) -> dict:
    """Where every analyst said the same: key -> whether they said ``yes``."""
    if held.empty:
        return {}
    said = held.groupby(by)["verdict"].agg(lambda v: tuple(sorted(set(v))))
    agreed = said[said.map(len).eq(1)]
    keys = agreed.index if len(by) > 1 else agreed.index.tolist()
    return {key: verdict[0] == yes for key, verdict in zip(keys, agreed, strict=True)}
