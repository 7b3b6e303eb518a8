"""What an analyst may say of a case or of one finding, and how a feedback file says it.

A verdict on a whole case: ``confirmed``, ``dismissed`` or ``needs_more``
(raised again, marked for more work). A verdict on one finding of a case
(``flag_id`` given): ``agree`` or ``disagree``. Each verdict carries a reason
code (``REASON_CODES``, after the lawful explanations of the rule pages), the
analyst's free text and name. A dismissal or a disagreement needs a reason: a
code other than ``other``, or a text. ``withdrawn``, on a case or on a finding,
takes back the analyst's own earlier verdict there: the case is as if that
analyst had never judged it, and what the verdict taught the ranking is
unlearned on the next run.

A feedback file is a CSV with ``case_id`` and ``verdict``, and optionally
``reason``, ``analyst``, ``flag_id`` and ``reason_code``. The earlier form,
``case_id,verdict,reason,analyst``, reads as it did: its free-text reason is
kept and coded ``other`` (or the code itself, where the text is one).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pandas as pd

from anomaly.known_failures import KnownFailure

WITHDRAWN = "withdrawn"
CASE_VERDICTS = ("confirmed", "dismissed", "needs_more", WITHDRAWN)
FINDING_VERDICTS = ("agree", "disagree", WITHDRAWN)
NEEDS_A_REASON = ("dismissed", "disagree")
REASON_CODES = {
    "lawful_medical_stay": "a stay in hospital, or a move for treatment, explains the record",
    "court_order": "a court's decision (a hearing, a milder or stricter type) explains it",
    "paper_record_exists": "the paper file holds the document the registry lacks",
    "entry_delay_office": "the records office enters such records late, as a habit",
    "data_error": "the record is wrong in the registry (a typo, a wrong id, a duplicate)",
    "other": "another reason, said in the text",
}
INSTITUTION_REASONS = ("lawful_medical_stay", "entry_delay_office")
"""Reasons that lie with the institution (its hospital, its records office): a dismissal for
one of them teaches the rule's weight at that institution, not everywhere (docs/learning.md)."""
FEEDBACK_COLUMNS = ["case_id", "verdict", "reason", "analyst", "flag_id", "reason_code"]


class FeedbackError(KnownFailure, ValueError):
    """A verdict that cannot be recorded (unknown case, finding, verdict or reason code)."""


class Verdict(NamedTuple):
    case_id: str
    verdict: str
    reason: str
    analyst: str
    flag_id: str  # "" for a verdict on the whole case
    reason_code: str


def read_feedback(path: Path | str) -> pd.DataFrame:
    """Verdicts of a feedback CSV (``FEEDBACK_COLUMNS``), with where each came from."""
    try:
        feedback = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as error:
        raise FeedbackError(f"{path}: cannot be read as CSV: {error}") from error
    missing = {"case_id", "verdict"} - set(feedback.columns)
    if missing:
        raise FeedbackError(f"{path}: missing columns {sorted(missing)}")
    for column in FEEDBACK_COLUMNS:
        if column not in feedback.columns:
            feedback[column] = ""
    where = [f"{path}, line {n}" for n in range(2, 2 + len(feedback))]
    return feedback[FEEDBACK_COLUMNS].assign(where=where)


def checked_verdict(row, findings: dict[str, set[str]], store_path: object) -> Verdict:
    """One feedback row as a ``Verdict``; ``findings`` maps each known case to its flag ids."""
    where = f"{row.where}: " if row.where else ""
    case, verdict, flag = str(row.case_id), str(row.verdict), str(row.flag_id or "").strip()
    allowed = FINDING_VERDICTS if flag else CASE_VERDICTS
    if verdict not in allowed:
        on = f"finding {flag}" if flag else "a case"
        raise FeedbackError(
            f"{where}a verdict on {on} is one of {', '.join(allowed)}, not {verdict!r}"
        )
    if case not in findings:
        raise FeedbackError(f"{where}case {case} is not in the store {store_path}")
    if flag and flag not in findings[case]:
        raise FeedbackError(f"{where}finding {flag} is not one of case {case}'s findings")
    reason = str(row.reason or "").strip()
    code = str(row.reason_code or "").strip() or (reason if reason in REASON_CODES else "other")
    if code not in REASON_CODES:
        raise FeedbackError(
            f"{where}reason code must be one of {', '.join(REASON_CODES)}, not {code!r}"
        )
    if verdict in NEEDS_A_REASON and code == "other" and not reason:
        raise FeedbackError(f"{where}case {case}: {verdict} needs a reason (a code or a text)")
    return Verdict(case, verdict, reason, str(row.analyst or ""), flag, code)


def analysts_on_cases(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Per case: each analyst's latest verdict, and whether analysts differ (``disputed``).

    ``verdicts``: verdicts on whole cases (``Verdict`` columns), the latest last.
    """
    latest = standing(verdicts.assign(flag_id=""))
    latest = latest.sort_values(["case_id", "analyst"], kind="stable")
    said = (latest["analyst"].replace("", "?") + ": " + latest["verdict"]).groupby(
        latest["case_id"]
    )
    return (
        pd.DataFrame(
            {
                "analyst_verdicts": said.agg("; ".join),
                "disputed": latest.groupby("case_id")["verdict"].nunique().gt(1),
            }
        )
        .rename_axis("case_id")
        .reset_index()
    )


def standing(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Each analyst's latest verdict on each case and finding, without those withdrawn.

    ``verdicts``: ``Verdict`` columns, the latest last."""
    flag = verdicts["flag_id"].fillna("")
    latest = verdicts.assign(flag_id=flag).drop_duplicates(
        ["case_id", "flag_id", "analyst"], keep="last"
    )
    return latest[latest["verdict"].ne(WITHDRAWN)]
