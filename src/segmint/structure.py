"""Evidence that segments exist at all: the gap statistic against a uniform reference box
(Tibshirani, Walther & Hastie 2001) and Hartigan's dip test between neighbouring segments
(Hartigan & Hartigan 1985). :mod:`segmint.selection` weighs them to choose k.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from segmint.algorithms.base import seed_of, sweep_kmeans

GAP_REFERENCES = 20


def _log_volume(points: np.ndarray) -> float:
    """Log of the volume of the box of ``points``' ranges along the axes."""
    return float(np.log(np.maximum(np.ptp(points, axis=0), 1e-12)).sum())


def gap_statistic(
    X: np.ndarray,
    wcss: dict[int, float],
    rng: np.random.Generator,
    *,
    references: int = GAP_REFERENCES,
    n_init: int = 2,
) -> tuple[dict[int, float], dict[int, float]]:
    """Gap(k) and its standard error s_k for every k of ``wcss`` (Tibshirani et al. 2001).

    Reference data sets are drawn uniformly from the box aligned with the principal
    components of ``X`` (their method "b"), or from the box of the features' own ranges
    (method "a") when that box has the smaller volume: the tighter null is the more
    honest one. The principal axes of data with no preferred direction (a uniform
    square) are arbitrary, and a box along rotated axes is larger than the data's own:
    uniform noise then looked more clustered than its reference. ``s_k = sd_k *
    sqrt(1 + 1/B)``.

    Parameters
    ----------
    X : ndarray
        The customers the WCSS values were computed on.
    wcss : dict
        k -> within-cluster sum of squares of ``X``'s k-means partition (k = 1: total).
    rng : Generator
    references : int
        Number of reference data sets B.
    n_init : int
        k-means starts on each reference set.
    """
    centred = X - X.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    if _log_volume(centred) < _log_volume(centred @ vt.T):
        vt = np.eye(X.shape[1])  # the features' own box is the tighter null
    projected = centred @ vt.T
    low, high = projected.min(axis=0), projected.max(axis=0)
    ks = sorted(wcss)

    def reference_logs(seed: int) -> list[float]:
        own = np.random.default_rng(seed)
        reference = own.uniform(low, high, size=projected.shape) @ vt
        out = []
        for k in ks:
            if k == 1:
                w = float(((reference - reference.mean(axis=0)) ** 2).sum())
            else:
                w = sweep_kmeans(reference, k, own, n_init)[0]
            out.append(math.log(max(w, 1e-300)))
        return out

    seeds = [seed_of(rng) for _ in range(references)]
    # one thread: these small NumPy fits hold the GIL, so threads only add contention
    logs = np.array([reference_logs(seed) for seed in seeds])
    expected = logs.mean(axis=0)
    se = logs.std(axis=0) * math.sqrt(1.0 + 1.0 / references)
    gap = {k: float(expected[j] - math.log(max(wcss[k], 1e-300))) for j, k in enumerate(ks)}
    return gap, {k: float(se[j]) for j, k in enumerate(ks)}


def neighbouring_pairs(centers: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of centres that are relative neighbours (Toussaint 1980): no third centre is
    closer to both of them than they are to each other."""
    d = np.sqrt(((centers[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))
    pairs = []
    for i in range(len(centers)):
        for j in range(i + 1, len(centers)):
            others = [m for m in range(len(centers)) if m not in (i, j)]
            if not any(max(d[i, m], d[j, m]) < d[i, j] for m in others):
                pairs.append((i, j))
    return pairs


def dip_test(X: np.ndarray, labels: np.ndarray, centers: np.ndarray) -> dict[str, Any]:
    """Hartigan's dip test between neighbouring segments (see :mod:`segmint.selection`).

    Returns
    -------
    dict
        ``p_value`` (smallest pair p-value, Bonferroni-corrected; 1.0 when no pair could
        be tested), ``pair`` (the segments of that pair), ``pairs_tested``.
    """
    from diptest import diptest

    best_p, best_pair, tested = 1.0, None, 0
    results = []
    for i, j in neighbouring_pairs(centers):
        members = (labels == i) | (labels == j)
        if members.sum() < 4:
            continue
        direction = centers[j] - centers[i]
        norm = float(np.linalg.norm(direction))
        if norm == 0:
            continue
        projection = X[members] @ (direction / norm)
        if np.ptp(projection) == 0:
            continue
        results.append(((i, j), float(diptest(projection)[1])))
        tested += 1
    for pair, p in results:
        corrected = min(1.0, p * tested)
        if corrected < best_p or best_pair is None:
            best_p, best_pair = corrected, pair
    return {
        "p_value": best_p,
        "pair": list(best_pair) if best_pair else None,
        "pairs_tested": tested,
    }
