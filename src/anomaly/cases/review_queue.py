"""What to review next: the cases whose verdicts the team needs most (docs/learning.md).

A queue of ``size`` cases, each with the reason it was chosen (``why``):

- ``top``: the highest-ranked cases no analyst has judged (new, open, reopened
  or disputed): what most likely needs an investigation;
- ``teaches``: the highest-ranked case of a rule, or of a rule at an
  institution, that no verdict has touched yet: its verdict teaches the
  ranking something it does not know (``scoring.verdict_learning``);
- ``uncertain``: the unjudged cases whose score lies nearest the case
  threshold, where one verdict moves the most cases across it;
- ``blind``: a few subjects drawn at random from the watch list (below the
  threshold), to be reviewed without looking at their score: what they turn
  out to be estimates what the threshold misses.

The draw is seeded by the watch list itself, so the same run proposes the same queue.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

QUEUE_COLUMNS = ["position", "case_id", "subject_type", "subject_id", "kind", "why"]
UNJUDGED = ("new", "open", "reopened", "disputed")
SHARES = {"top": 0.4, "teaches": 0.3, "uncertain": 0.2}  # the rest, at least one, is blind


def review_queue(
    raised: pd.DataFrame,
    watchlist: pd.DataFrame,
    findings: pd.DataFrame,
    learned: pd.DataFrame,
    threshold: float,
    size: int = 20,
) -> pd.DataFrame:
    """The next ``size`` cases to review (QUEUE_COLUMNS), each with why it was chosen.

    ``raised``: the run's cases with their status (raised_cases.csv); ``watchlist``:
    subjects below the threshold; ``findings``: each case's findings (case_id,
    rule, facility_id); ``learned``: what verdicts taught (learned_weights.csv)."""
    open_cases = raised[raised["status"].isin(UNJUDGED)].sort_values("rank")
    blind = max(1, size - sum(round(size * share) for share in SHARES.values()))
    chosen: list[dict] = []
    taken: set[str] = set()

    def take(row, kind: str, why: str) -> None:
        taken.add(row.case_id)
        chosen.append({"case_id": row.case_id, "subject_type": row.subject_type,
                       "subject_id": row.subject_id, "kind": kind, "why": why})  # fmt: skip

    for row in open_cases.head(round(size * SHARES["top"])).itertuples():
        take(row, "top", f"rank {row.rank}, the highest not yet judged")
    wanted = round(size * SHARES["teaches"])
    for row, why in _untaught(open_cases, findings, learned):
        if wanted <= 0:
            break
        if row.case_id not in taken:
            take(row, "teaches", why)
            wanted -= 1
    rest = open_cases[~open_cases["case_id"].isin(taken)]
    near = rest.assign(gap=(rest["risk_score"] - threshold).abs()).sort_values(["gap", "rank"])
    for row in near.head(round(size * SHARES["uncertain"])).itertuples():
        take(
            row, "uncertain", f"score {row.risk_score:.2f}, near the case threshold {threshold:.2f}"
        )
    below = watchlist[~watchlist["case_id"].isin(taken)]
    drawn_from = ";".join(sorted(below["case_id"].astype(str))).encode()
    rng = np.random.default_rng(int(hashlib.sha256(drawn_from).hexdigest()[:8], 16))
    picks = rng.choice(len(below), size=min(blind, len(below)), replace=False)
    for row in below.iloc[sorted(int(p) for p in picks)].itertuples():
        take(row, "blind", "drawn at random below the case threshold: review it without its "
             "score, to estimate what the threshold misses")  # fmt: skip
    queue = pd.DataFrame(chosen, columns=QUEUE_COLUMNS[1:])
    queue.insert(0, "position", range(1, len(queue) + 1))
    return queue


def _untaught(open_cases: pd.DataFrame, findings: pd.DataFrame, learned: pd.DataFrame):
    """(case, why) for the best-ranked case of each rule, and rule at an institution, that
    no verdict has touched, in rank order."""
    taught = learned[learned["confirmed"].add(learned["dismissed"]).gt(0)]
    rules = set(taught.loc[taught["facility_id"].fillna("").eq(""), "rule"])
    places = set(zip(taught["rule"], taught["facility_id"].fillna("").astype(str), strict=True))
    lenders: dict[tuple[str, str], str] = {}
    if "like" in learned.columns:  # a run before habits were lent has no lenders
        lent = learned[learned["like"].fillna("").ne("")]
        keys = zip(lent["rule"], lent["facility_id"].astype(str), strict=True)
        lenders = dict(zip(keys, lent["like"], strict=True))
    mine = findings[findings["case_id"].isin(set(open_cases["case_id"]))]
    by_case = mine.groupby("case_id")[["rule", "facility_id"]]
    pairs = {case: list(zip(g["rule"], g["facility_id"].fillna("").astype(str), strict=True))
             for case, g in by_case}  # fmt: skip
    seen: set[tuple[str, str]] = set()
    for row in open_cases.itertuples():
        for rule, place in sorted(set(pairs.get(row.case_id, []))):
            if rule not in rules and (rule, "") not in seen:
                seen.add((rule, ""))
                yield row, f"no verdict yet on {rule} anywhere"
                break
            if place and (rule, place) not in places and (rule, place) not in seen:
                seen.add((rule, place))
                lender = lenders.get((rule, place))
                borrowed = f" (it borrowed the habit of institution {lender})" if lender else ""
                yield row, f"no verdict yet on {rule} at institution {place}{borrowed}"
                break
