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

A dismissal (or disagreement) whose reason lies with the institution
(``verdicts.INSTITUTION_REASONS``: a hospital's stays, a records office's
habit) is scoped to it (``scope`` "institution"): it teaches the rule's weight
there, and leaves the rule's weight everywhere alone. Every other label has
scope "rule".
"""

from __future__ import annotations

import pandas as pd

from anomaly.cases.verdicts import INSTITUTION_REASONS, standing
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
    pairs = zip(f["case_id"], f["flag_id"], strict=True)
    label = pd.Series([finding_label.get(pair) for pair in pairs], index=f.index, dtype=object)
    label = label.where(label.notna(), f["case_id"].map(case_label))
    f = f.assign(label=label).dropna(subset=["label"])
    f = f.assign(confirmed=[c for c, _ in f["label"]], scope=[s for _, s in f["label"]])
    per_rule = (
        f.groupby(["case_id", "rule", "facility_id"], dropna=False)
        .agg(confirmed=("confirmed", "max"), scope=("scope", "min"))  # "institution" < "rule"
        .reset_index()
        .merge(subjects, on="case_id", how="left")  # a watch-list subject has no case row
    )
    judged = pd.DataFrame(
        {"case_id": list(case_label), "confirmed": [c for c, _ in case_label.values()]}
    ).merge(subjects, on="case_id", how="inner")
    return VerdictLabels(
        per_rule[LABEL_COLUMNS].reset_index(drop=True),
        judged[SUBJECT_LABEL_COLUMNS].reset_index(drop=True),
    )


def _unanimous(held: pd.DataFrame, by: list[str], yes: str) -> dict:
    """Where every analyst said the same: key -> (whether they said ``yes``, scope)."""
    if held.empty:
        return {}
    grouped = held.groupby(by)
    said = grouped["verdict"].agg(lambda v: tuple(sorted(set(v))))
    local = grouped["reason_code"].agg(lambda c: all(code in INSTITUTION_REASONS for code in c))
    agreed = said.map(len).eq(1)
    keys = said.index[agreed] if len(by) > 1 else said.index[agreed].tolist()
    return {
        key: (verdict[0] == yes, "institution" if here and verdict[0] != yes else "rule")
        for key, verdict, here in zip(keys, said[agreed], local[agreed], strict=True)
    }
