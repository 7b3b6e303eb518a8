"""What the analysts' verdicts teach the ranking: each rule's weight, everywhere and at
one institution (docs/learning.md).

A rule's weight in the rule book (its evidence class: what one finding proves
on its own) is a prior belief in its precision. Each verdict that touches the
rule is one observation: a finding of the rule in a confirmed case (or one an
analyst agreed with) is a success, one in a dismissed case (or one an analyst
disagreed with) a failure. The learned weight is the mean of a Beta
posterior, deterministic and shrunk towards what is known:

    everywhere:        w_rule = (prior x n_rule + confirmed) / (n_rule + confirmed + dismissed)
    at institution f:  w_f    = (w_rule x n_inst + confirmed_f) / (n_inst + confirmed_f
                                                                 + dismissed_f)

with ``n_rule`` and ``n_inst`` from the rule book's ``learning`` section. A
dismissal whose reason lies with the institution (a hospital, a records
office's habit: ``scope`` "institution") counts at that institution only; any
other dismissal is about its case and counts for the rule everywhere (and so
at every institution, through ``w_rule``). A confirmation counts in both. A
finding's score is then multiplied by ``w / prior`` (``w_f`` where the
institution has verdicts on the rule, else ``w_rule``), so that every
unreviewed finding of the rule, or of the rule at that institution, moves with
what the verdicts taught, not only the reviewed case. The score before is
kept (``unlearned_score``).

The statistical detectors learn differently (``outliers.semi_supervised``):
their findings are about subjects in a space of features, and a verdict on a
subject moves the scores of its neighbours there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from anomaly.rulebook import Rulebook

LABEL_COLUMNS = ["case_id", "subject_type", "subject_id", "rule", "facility_id", "confirmed",
                 "scope"]  # fmt: skip
SUBJECT_LABEL_COLUMNS = ["subject_type", "subject_id", "confirmed"]
WEIGHT_COLUMNS = ["rule", "facility_id", "confirmed", "dismissed", "prior", "weight", "like",
                  "per_1000"]  # fmt: skip
EVERYWHERE = ""  # facility_id of a rule's weight at every institution


@dataclass(frozen=True)
class VerdictLabels:
    """What the verdicts say, as the store reads them (``cases.store``).

    ``findings``: one row per case, rule and institution of its findings, with
    whether the verdicts found them right (LABEL_COLUMNS). ``subjects``: each
    judged case's subject, confirmed or dismissed (SUBJECT_LABEL_COLUMNS)."""

    findings: pd.DataFrame
    subjects: pd.DataFrame

    @classmethod
    def none(cls) -> VerdictLabels:
        return cls(pd.DataFrame(columns=LABEL_COLUMNS), pd.DataFrame(columns=SUBJECT_LABEL_COLUMNS))

    @property
    def empty(self) -> bool:
        return self.findings.empty and self.subjects.empty


def learned_weights(labels: pd.DataFrame, rulebook: Rulebook) -> pd.DataFrame:
    """The weight each rule has learned, everywhere and per institution (WEIGHT_COLUMNS).

    Only rules of the rule book learn here; detector codes are left to
    ``outliers.semi_supervised``."""
    labels = labels[labels["rule"].isin(rulebook.rules)]
    if labels.empty:
        return pd.DataFrame(columns=WEIGHT_COLUMNS)
    settings = rulebook.learning
    n_rule, n_inst = settings.rule_prior_verdicts.value, settings.institution_prior_verdicts.value
    confirmed = labels["confirmed"].astype(bool)
    counted = labels.assign(confirmed=confirmed.astype(int), dismissed=(~confirmed).astype(int))
    everywhere = counted[counted["scope"].eq("rule")]  # an institution's habit stays there
    per_rule = everywhere.groupby("rule")[["confirmed", "dismissed"]].sum()
    per_rule = per_rule.reindex(sorted(set(counted["rule"])), fill_value=0)
    per_rule = per_rule.rename_axis("rule").reset_index()
    per_rule["prior"] = per_rule["rule"].map(rulebook.strength)
    per_rule["weight"] = _posterior(per_rule, per_rule["prior"], n_rule)
    per_rule["facility_id"] = EVERYWHERE
    # at an institution: what was confirmed there, and the dismissals its own habits explain
    at = counted.dropna(subset=["facility_id"]).astype({"facility_id": str})
    at = at.assign(dismissed=at["dismissed"].where(at["scope"].eq("institution"), 0))
    per_place = at.groupby(["rule", "facility_id"])[["confirmed", "dismissed"]].sum().reset_index()
    per_place = per_place[per_place["confirmed"].add(per_place["dismissed"]).gt(0)]
    per_place["prior"] = per_place["rule"].map(rulebook.strength)
    shrunk_to = per_place["rule"].map(per_rule.set_index("rule")["weight"]).astype(float)
    per_place["weight"] = _posterior(per_place, shrunk_to, n_inst)
    weights = pd.concat([per_rule, per_place], ignore_index=True)
    weights = weights.assign(like="", per_1000=np.nan)[WEIGHT_COLUMNS]
    weights["weight"] = weights["weight"].round(4)
    return weights.sort_values(["rule", "facility_id"], kind="stable").reset_index(drop=True)


def habit_rules(weights: pd.DataFrame) -> set[str]:
    """The rules that verdicts dismissed at an institution for its own habits."""
    places = weights[weights["facility_id"].ne(EVERYWHERE)]
    return set(places.loc[places["dismissed"].gt(0), "rule"])


def borrowed_weights(weights: pd.DataFrame, firing: pd.DataFrame) -> pd.DataFrame:
    """``weights`` with the lesson of an institution's habit lent to the institutions where the
    rule fires like it, and where no verdict has been recorded on the rule.

    A records office that enters everything late makes the rule fire on most of its
    records; so does the next such office, which no analyst has reviewed yet. Per rule
    with an institution-scoped dismissal: each institution is placed by its firing rate
    (``firing``: ``rule_health.firing_by_institution``; log of 1 + the rate per 1,000),
    beside the institutions whose verdicts dismissed the rule there (the habits), the
    institutions whose verdicts only confirmed it, and the median institution (most
    institutions keep the law). An unreviewed institution nearer a habit than any of the
    others takes that habit's learned weight, and names it (``like``). Ties stay
    unlearned. An analyst who confirms a finding there stops the loan: the institution
    then has verdicts of its own."""
    rules = habit_rules(weights)
    if not rules or firing.empty:
        return weights
    lent = [_lent(weights[weights["rule"].eq(r)], firing[firing["rule"].eq(r)]) for r in rules]
    rates = firing.set_index(["rule", "facility_id"])["per_1000"]
    out = pd.concat([weights, *lent], ignore_index=True)
    at = pd.MultiIndex.from_arrays([out["rule"], out["facility_id"].astype(str)])
    out["per_1000"] = rates.reindex(at).to_numpy()
    return out.sort_values(["rule", "facility_id"], kind="stable").reset_index(drop=True)


def _lent(weights: pd.DataFrame, firing: pd.DataFrame) -> pd.DataFrame:
    """One rule's borrowed rows (WEIGHT_COLUMNS)."""
    place = np.log1p(firing.set_index("facility_id")["per_1000"].astype(float))
    judged = weights[
        weights["facility_id"].ne(EVERYWHERE) & weights["facility_id"].isin(place.index)
    ]
    habits = judged[judged["dismissed"].gt(0)]
    if habits.empty:
        return pd.DataFrame(columns=WEIGHT_COLUMNS)
    lawful = np.append(place[judged.loc[judged["dismissed"].eq(0), "facility_id"]].to_numpy(),
                       place.median())  # fmt: skip
    habit_at = place[habits["facility_id"]].to_numpy()
    open_places = place[~place.index.isin(judged["facility_id"]) & place.gt(0)]
    to_habit = np.abs(open_places.to_numpy()[:, None] - habit_at[None, :])
    to_lawful = np.abs(open_places.to_numpy()[:, None] - lawful[None, :]).min(axis=1)
    nearest = to_habit.argmin(axis=1)
    lends = to_habit.min(axis=1) < to_lawful
    like = habits.iloc[nearest[lends]]
    return pd.DataFrame({
        "rule": like["rule"].to_numpy(), "facility_id": open_places.index[lends].astype(str),
        "confirmed": 0, "dismissed": 0, "prior": like["prior"].to_numpy(),
        "weight": like["weight"].to_numpy(), "like": like["facility_id"].to_numpy(),
    })  # fmt: skip


def relearned(flags: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    """``flags`` with each rule finding's score multiplied by its learned weight over its prior;
    the score before in ``unlearned_score``."""
    out = flags.assign(unlearned_score=flags["score"])
    if weights.empty or flags.empty:
        return out
    ratio = weights.assign(ratio=weights["weight"] / weights["prior"])
    everywhere = ratio[ratio["facility_id"].eq(EVERYWHERE)].set_index("rule")["ratio"]
    places = ratio[ratio["facility_id"].ne(EVERYWHERE)]
    place_key = places["rule"] + "|" + places["facility_id"]
    key = out["rule"] + "|" + out["facility_id"].astype(str)
    factor = key.map(pd.Series(places["ratio"].to_numpy(), index=place_key.to_numpy()))
    factor = factor.fillna(out["rule"].map(everywhere)).fillna(1.0)
    out["score"] = (out["score"].astype(float) * factor).clip(0, 1).round(4)
    return out


def _posterior(counts: pd.DataFrame, prior: pd.Series, strength: float) -> pd.Series:
    """The mean of Beta(prior x strength + confirmed, (1 - prior) x strength + dismissed)."""
    confirmed = counts["confirmed"].astype(float)
    verdicts = confirmed + counts["dismissed"].astype(float)
    return (prior.astype(float) * strength + confirmed) / (strength + verdicts)


def what_moved(
    weights: pd.DataFrame, flags: pd.DataFrame, cases: pd.DataFrame, reviewed: set[str]
) -> pd.DataFrame:
    """``weights`` with how many unreviewed cases each learned weight moved up and down.

    ``flags`` carry ``case_id``; ``cases``, every subject's ``rank`` and
    ``unlearned_rank`` (learned and not). A case counts under a weight when one
    of its findings took that weight."""
    if weights.empty:
        return weights.assign(moved_up=pd.Series(dtype=int), moved_down=pd.Series(dtype=int))
    per_case = cases.set_index("case_id")
    shift = (per_case["unlearned_rank"] - per_case["rank"]).rename("shift")  # > 0: moved up
    f = flags[~flags["case_id"].isin(reviewed)][["case_id", "rule", "facility_id"]]
    f = f.assign(facility_id=f["facility_id"].astype(str)).drop_duplicates()
    f = f.join(shift, on="case_id").dropna(subset=["shift"])
    at_place = weights[weights["facility_id"].ne(EVERYWHERE)]
    has_place = set(zip(at_place["rule"], at_place["facility_id"], strict=True))
    pairs = zip(f["rule"], f["facility_id"], strict=True)
    local = np.array([pair in has_place for pair in pairs], dtype=bool)
    f = f.assign(facility_id=np.where(local, f["facility_id"], EVERYWHERE))
    f = f.drop_duplicates(["case_id", "rule", "facility_id"])
    counts = f.groupby(["rule", "facility_id"])["shift"].agg(
        moved_up=lambda s: int((s > 0).sum()), moved_down=lambda s: int((s < 0).sum())
    )
    out = weights.join(counts, on=["rule", "facility_id"])
    return out.fillna({"moved_up": 0, "moved_down": 0}).astype({"moved_up": int, "moved_down": int})
