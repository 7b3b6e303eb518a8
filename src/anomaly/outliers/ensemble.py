"""Statistical outliers within peer groups: an ensemble of PyOD detectors, explained.

Each subject (convict, staff member, institution) is compared only with its
peers (same security level, same role). Within a peer group four detectors
that scale to large tables score every subject: ECOD, COPOD, HBOS and
IForest (fixed seed). Each detector's scores become percentile ranks within
the group; the ensemble score is their mean (higher = more anomalous, in
[0, 1]). A subject above the threshold percentile is flagged, and the flag
says which features lift it, by how much, against which peers: robust
z-scores (distance from the peer median in units of the peer MAD).

Only features where "more" is suspicious are used, and they are read
one-sided: values below the peer median are set to the median before the
detectors see them, and a subject is flagged only when at least one feature
lies 3 MADs above its peers (an institution with unusually few incentives is
not what this looks for).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import median_abs_deviation, rankdata

from anomaly.outliers.semi_supervised import with_verdicts
from anomaly.rulebook import Learning, Outliers
from anomaly.rules.rule import FLAG_COLUMNS

DETECTORS = ("ECOD", "COPOD", "HBOS", "IForest")
_CACHED: set = set()  # HBOS scoring functions already compiled with numba's cache


def ensemble_scores(features: pd.DataFrame, settings: Outliers) -> pd.Series:
    """Mean percentile rank of the four detectors' scores within the frame (higher = odder)."""
    from pyod.models.copod import COPOD
    from pyod.models.ecod import ECOD
    from pyod.models.hbos import HBOS
    from pyod.models.iforest import IForest

    _cache_hbos_compilation()
    # the same subjects give the same scores in whatever order the registry listed them
    # (the isolation forest's random draws follow the rows)
    order = features.index
    features = features.sort_index(kind="stable")

    # one-sided: only excess over the peer median is suspicious, so values
    # below the median are set to it (a strict institution is not what we look for)
    x = np.maximum(robust_z(features).to_numpy(), 0.0)
    models = {
        "ECOD": ECOD(),
        "COPOD": COPOD(),
        "HBOS": HBOS(),
        "IForest": IForest(
            random_state=settings.seed.value, n_estimators=settings.forest_trees.value
        ),
    }
    # percentile ranks put the four score scales on one; PyOD's own combination
    # functions (pyod.models.combination) need the unmaintained ``combo`` package
    ranks = np.column_stack(
        [rankdata(models[name].fit(x).decision_scores_) / len(x) for name in DETECTORS]
    )
    return pd.Series(ranks.mean(axis=1), index=features.index).reindex(order)


def _cache_hbos_compilation() -> None:
    """Compile HBOS's scoring once per installation, not once per process.

    PyOD jit-compiles it with numba without ``cache=True``: five seconds in
    every run of the pipeline on 2 cores, a fifth of the national flow. The
    same Python function, compiled with numba's cache, is read back from the
    cache by later runs and computes the same scores. If PyOD renames it,
    HBOS keeps its own compilation."""
    from numba import njit
    from pyod.models import hbos

    jitted = getattr(hbos, "_calculate_outlier_scores", None)
    if jitted is not None and hasattr(jitted, "py_func") and jitted not in _CACHED:
        cached = njit(cache=True)(jitted.py_func)
        _CACHED.add(cached)
        hbos._calculate_outlier_scores = cached


def robust_z(features: pd.DataFrame) -> pd.DataFrame:
    """(value - peer median) / peer MAD, per feature."""
    x = features.to_numpy(dtype=float)
    z = (x - np.median(x, axis=0)) / (_mad(x) + 1e-9)
    return pd.DataFrame(z, index=features.index, columns=features.columns)


def peer_outlier_flags(
    features: pd.DataFrame,
    subject_type: str,
    detector: str,
    threshold: float,
    weight: float,
    settings: Outliers,
    verdicts: pd.Series | None = None,
    learning: Learning | None = None,
) -> pd.DataFrame:
    """Flags (in the common flag shape) for subjects above ``threshold`` in their peer group.

    With ``verdicts`` (subject -> confirmed) and ``learning``, each group's scores
    are moved by the verdicts on its members (``outliers.semi_supervised``): a
    subject is flagged where either score reaches the threshold, with the learned
    score, and the unsupervised one in ``unlearned_score`` (0 where it did not
    reach the threshold)."""
    groups = _peer_groups(features, settings.min_peers.value)
    found = []
    for group, members in groups.items():
        numeric = members.drop(columns="peer_group")
        numeric = numeric.loc[:, numeric.std() > 0]
        if numeric.empty or len(numeric) < 3:
            continue
        unlearned = ensemble_scores(numeric, settings)
        z = robust_z(numeric)
        score = unlearned
        if verdicts is not None and learning is not None:
            score = with_verdicts(np.maximum(z, 0.0), unlearned, verdicts, learning)
        above = z.max(axis=1) >= settings.excess_mads.value
        chosen = score[((score >= threshold) | (unlearned >= threshold)) & above]
        for subject, value in chosen.items():
            before = float(unlearned[subject])
            row = _flag(subject, subject_type, detector, group, before, z.loc[subject],
                        numeric.loc[subject], numeric, weight)  # fmt: skip
            row["unlearned_score"] = row["score"] if before >= threshold else 0.0
            if value != before:
                row["score"] = round(weight * float(value), 4)
                row["explanation"] += f" [verdicts on similar subjects moved it to {value:.3f}]"
            found.append(row)
    return pd.DataFrame(found, columns=[*FLAG_COLUMNS, "unlearned_score"])


def _peer_groups(features: pd.DataFrame, min_peers: int) -> dict[str, pd.DataFrame]:
    """Peer groups; those smaller than ``min_peers`` are compared together."""
    groups = {str(g): f for g, f in features.groupby("peer_group")}
    small = [g for g, f in groups.items() if len(f) < min_peers]
    if small:
        merged = pd.concat([groups.pop(g) for g in small])
        groups["+".join(sorted(small))] = merged
    return groups


def _flag(subject, subject_type, detector, group, score, z, values, peers, weight) -> dict:
    top = z.sort_values(ascending=False).head(3)
    parts = [
        f"{name} {values[name]:.3g} vs peer median {peers[name].median():.3g} (z {z[name]:.1f})"
        for name in top.index
        if z[name] > 0
    ]
    explanation = (
        f"outlier among {len(peers)} {group} peers (ensemble percentile "
        f"{score:.3f}): " + "; ".join(parts)
    )
    column = {"convict": "convict_id", "staff": "staff_id", "facility": "facility_id"}[subject_type]
    row: dict[str, object] = {c: None for c in FLAG_COLUMNS}
    row.update(
        rule=detector,
        table={"convict": "convicts", "staff": "staff", "facility": "facilities"}[subject_type],
        record_id=str(subject),
        score=round(weight * float(score), 4),
        explanation=explanation,
        evidence="",
    )
    row[column] = str(subject)
    return row


def _mad(x: np.ndarray) -> np.ndarray:
    """The MAD scaled to a normal's standard deviation; the spread, where the MAD is 0."""
    mad = median_abs_deviation(x, axis=0, scale="normal")
    spread = np.std(x, axis=0)
    return np.where(mad > 0, mad, np.where(spread > 0, spread, 1.0))
