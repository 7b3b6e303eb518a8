"""Findings grouped into ranked, explained cases, one per subject (docs/scoring.md).

A finding is about a convict, a staff member or an institution (its rule or
detector says which). All findings on one subject form one case. The risk
score combines them as a noisy-OR over rules: each rule contributes its
strongest finding's score, ``risk = 1 - prod(1 - s_rule)``, so two independent
rules make a case stronger than one, and many findings of the same rule do not
drown the others. Ties are broken by the number of findings, then the id.

``case_id`` is a hash of the subject alone: a subject has one case on every
run, whatever rules fire; new evidence makes a new version of the case
(``cases.store``), not a new case.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from anomaly.ingest.record_schema import evidence_refs

CASE_COLUMNS = [
    "case_id",
    "subject_type",
    "subject_id",
    "risk_score",
    "rank",
    "rules",
    "evidence",
    "summary",
    "findings",
]
SUBJECT_COLUMN = {
    "convict": "convict_id",
    "staff": "staff_id",
    "facility": "facility_id",
    "person": "record_id",
}  # a person's findings flag the person's own row
NOUN = {"convict": "Convict", "staff": "Staff member", "facility": "Institution",
        "person": "Person"}  # fmt: skip


def assemble_cases(flags: pd.DataFrame, subjects: dict[str, str]) -> pd.DataFrame:
    """Cases from flags; ``subjects`` maps a rule or detector code to its subject type."""
    if flags.empty:
        return pd.DataFrame(columns=CASE_COLUMNS)
    unknown = set(flags["rule"]) - set(subjects)
    if unknown:  # a finding nobody said whom it is about must not land on a convict by default
        raise ValueError(f"no subject type for rules {sorted(unknown)}")
    f = _with_subjects(flags, subjects)
    f["ref"] = f["table"] + ":" + f["record_id"].astype(str)
    grouped = f.groupby(["subject_type", "subject_id"], sort=False)
    cases = pd.DataFrame(
        {
            "risk_score": _risk(f),
            "rules": grouped["rule"].agg(lambda r: ";".join(sorted(set(r)))),
            "evidence": grouped.apply(_evidence, include_groups=False),
            "summary": grouped.apply(_summary, include_groups=False),
            "findings": grouped.size(),
        }
    ).reset_index()
    cases = _ranked(cases)
    cases["case_id"] = [
        case_id(t, s) for t, s in zip(cases["subject_type"], cases["subject_id"], strict=True)
    ]
    return cases[CASE_COLUMNS]


def ranked_risk(flags: pd.DataFrame, subjects: dict[str, str], score: str) -> pd.DataFrame:
    """Every subject's risk from the findings' column ``score``, ranked as ``assemble_cases``
    ranks (subject_type, subject_id, risk_score, rank): the ranking the cases would have
    with those scores, without assembling them."""
    f = _with_subjects(flags, subjects).assign(score=flags[score])
    grouped = f.groupby(["subject_type", "subject_id"], sort=False)
    ranked = _ranked(
        pd.DataFrame({"risk_score": _risk(f), "findings": grouped.size()}).reset_index()
    )
    return ranked[["subject_type", "subject_id", "risk_score", "rank"]]


def _risk(f: pd.DataFrame) -> pd.Series:
    """Noisy-OR over rules of each rule's strongest finding, per subject."""
    per_rule = f.groupby(["subject_type", "subject_id", "rule"], sort=False)["score"].max()
    return (1 - (1 - per_rule.clip(0, 1)).groupby(level=[0, 1]).prod()).round(4)


def _ranked(cases: pd.DataFrame) -> pd.DataFrame:
    cases = cases.sort_values(
        ["risk_score", "findings", "subject_type", "subject_id"],
        ascending=[False, False, True, True],
        kind="stable",
    ).reset_index(drop=True)
    cases["rank"] = np.arange(1, len(cases) + 1)
    return cases


def findings_by_case(flags: pd.DataFrame, subjects: dict[str, str]) -> pd.DataFrame:
    """Each finding with the case it belongs to, as the case store keeps it."""
    f = _with_subjects(flags, subjects)
    return pd.DataFrame(
        {
            "case_id": [
                case_id(t, str(s)) for t, s in zip(f["subject_type"], f["subject_id"], strict=True)
            ],
            "flag_id": f["flag_id"].astype(str).to_numpy(),
            "rule": f["rule"].to_numpy(),
            "table_name": f["table"].to_numpy(),
            "record_id": f["record_id"].astype(str).to_numpy(),
            "facility_id": f["facility_id"].to_numpy(),
            "score": f["score"].astype(float).to_numpy(),
        }
    )


def _with_subjects(flags: pd.DataFrame, subjects: dict[str, str]) -> pd.DataFrame:
    """The flags that name their subject, with ``subject_type`` and ``subject_id``."""
    f = flags.assign(subject_type=flags["rule"].map(subjects))
    f["subject_id"] = _subject_ids(f)
    return f.dropna(subset=["subject_type", "subject_id"])


def _subject_ids(f: pd.DataFrame) -> pd.Series:
    out = pd.Series(None, index=f.index, dtype=object)
    for kind, column in SUBJECT_COLUMN.items():
        rows = f["subject_type"].eq(kind)
        out[rows] = f.loc[rows, column]
    return out


def _evidence(group: pd.DataFrame) -> str:
    refs = list(group["ref"])
    for extra in group["evidence"].dropna():
        refs += evidence_refs(extra)
    return ";".join(dict.fromkeys(refs))


def _summary(group: pd.DataFrame) -> str:
    """One sentence: the strongest finding of up to three rules, and how many more."""
    best = group.sort_values("score", ascending=False).drop_duplicates("rule")
    kind, subject = group.name
    parts = [
        f"{text} ({rule})" for rule, text in zip(best["rule"], best["explanation"], strict=True)
    ]
    more = len(group) - min(3, len(best))
    tail = f"; and {more} more finding{'s' if more > 1 else ''}" if more > 0 else ""
    return f"{NOUN[kind]} {subject}: " + "; ".join(parts[:3]) + tail + "."


def case_id(subject_type: str, subject_id: str) -> str:
    """The case of a subject: the same id on every run, whatever rules fire."""
    digest = hashlib.sha256(f"{subject_type}|{subject_id}".encode()).hexdigest()
    return "C-" + digest[:12]
