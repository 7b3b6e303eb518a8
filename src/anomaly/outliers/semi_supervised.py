"""Verdicts on a few subjects move the statistical scores of their neighbours (SSDO).

The peer-group ensemble (``outliers.ensemble``) is unsupervised. Once analysts
have judged some subjects, SSDO (Vercruyssen et al., "Semi-supervised anomaly
detection with an application to water analytics", ICDM 2018; the
``anomatools`` implementation) takes the ensemble's score as its prior and
propagates each verdict to the subjects near the judged one in the same
features: near a confirmed subject a score rises, near a dismissed one it
falls, far from both it stays. It works from a single label, where a fully
supervised detector (XGBOD, say) needs labels on every class and many of them;
its one weight (``learning.ssdo_alpha``) and its reach (the harmonic mean of
the distances to the k-th neighbour, k a tenth of the peer group and at most
``learning.ssdo_neighbours``) are in the rule book: in a small group one
verdict reaches the few nearest peers, not half the group. Deterministic: no random draw.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pandas as pd

from anomaly.rulebook import Learning


class _FixedPrior:
    """The ensemble's scores of the peer group, served to SSDO as its base detector."""

    def __init__(self, scores: np.ndarray) -> None:
        self.scores = scores

    def fit(self, x: np.ndarray, sample_weight: np.ndarray | None = None) -> _FixedPrior:
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        if len(x) != len(self.scores):
            raise ValueError("the prior scores are those of the peer group SSDO was fitted on")
        return np.column_stack([1 - self.scores, self.scores])


def with_verdicts(
    x: pd.DataFrame, prior: pd.Series, verdicts: pd.Series, settings: Learning
) -> pd.Series:
    """Scores of a peer group after the verdicts on some of its members.

    ``x``: the features the ensemble read (one row per subject); ``prior``: its
    scores in [0, 1]; ``verdicts``: subject -> True (confirmed) or False
    (dismissed), for the judged subjects (others are ignored)."""
    judged = verdicts[verdicts.index.isin(x.index)]
    if judged.empty or len(x) < 3:
        return prior
    with contextlib.redirect_stdout(io.StringIO()):  # it prints that dtaidistance is missing
        from anomatools.models import SSDO  # (only its dtw metric needs it; euclidean here)

    y = pd.Series(0, index=x.index)
    y[judged.index] = np.where(judged.astype(bool), 1, -1)
    model = SSDO(
        k=max(1, min(settings.ssdo_neighbours.value, len(x) // 10)),
        alpha=settings.ssdo_alpha.value,
        base_detector=_FixedPrior(prior.reindex(x.index).to_numpy(dtype=float)),
    )
    features = x.to_numpy(dtype=float)
    model.fit(features, y.to_numpy())
    return pd.Series(model.decision_function(features), index=x.index).clip(0, 1)
