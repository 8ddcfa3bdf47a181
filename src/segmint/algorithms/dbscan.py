"""DBSCAN (Ester, Kriegel, Sander & Xu 1996; scikit-learn's ``DBSCAN``).

Density-based with one distance ``eps``: customers with at least ``min_samples``
customers (themselves included) within ``eps`` are *core points*; segments are the
groups of core points linked through each other's ``eps``-neighbourhoods, plus the
customers within ``eps`` of one of them. It finds the number of segments itself; the
customers within ``eps`` of no core point are noise, never dropped: they form the
explicit *unassigned* group, segment id -1, named "Unassigned", as with HDBSCAN.

Settings, read from the data rather than asked for:

* ``min_samples`` = twice the number of features, at least :data:`MIN_SAMPLES`
  (Sander et al. 1998; Schubert et al. 2017, "DBSCAN revisited");
* ``eps`` = the knee (Kneedle, :func:`segmint.selection.knee_point`) of the sorted
  k-distance curve — every customer's distance to its ``min_samples``-th nearest
  customer, itself included — the distance where dense regions end and sparse ones
  begin; when the curve has no knee, its :data:`FALLBACK_QUANTILE` quantile.

Above :data:`SAMPLE` customers DBSCAN runs on a random sample. Every customer — of the
sample, the other training customers and new ones — takes the segment of the nearest
core point when it lies within ``eps`` of it and is unassigned otherwise, which is
DBSCAN's own rule for border and noise points.

DBSCAN is available by name (``--algorithm dbscan``); the automatic comparison, which
compares families at a chosen k, does not include it.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree
from sklearn.cluster import DBSCAN

from segmint.algorithms.base import UNASSIGNED, CorePointAssigner, Fitted, draw_sample, finish

SAMPLE = 20_000
MIN_SAMPLES = 5
FALLBACK_QUANTILE = 0.9


def k_distance_eps(X: np.ndarray, min_samples: int) -> tuple[float, bool]:
    """``eps`` from the knee of the sorted k-distance curve, and whether a knee was found.

    Distances run from the largest down (a decreasing convex curve, the shape
    :func:`knee_point` reads); identical customers give zero distances, and an ``eps``
    of 0 would make every customer noise, so the smallest positive distance is a floor.
    """
    from segmint.selection import knee_point  # selection imports the families

    distances, _ = cKDTree(X).query(X, k=min_samples)
    kth = distances if distances.ndim == 1 else distances[:, -1]
    curve = np.sort(kth)[::-1]
    knee = knee_point(np.arange(len(curve), dtype=float), curve)
    found = knee is not None
    eps = (
        float(curve[int(knee)]) if knee is not None else float(np.quantile(kth, FALLBACK_QUANTILE))
    )
    positive = kth[kth > 0]
    if eps <= 0:
        eps = float(positive.min()) if len(positive) else 1.0
    return eps, found


def fit(X: np.ndarray, rng: np.random.Generator) -> Fitted:
    """DBSCAN; the number of segments is found, not given."""
    idx = draw_sample(len(X), SAMPLE, rng)
    sample = np.ascontiguousarray(X[idx], dtype=float)
    n = len(sample)
    min_samples = max(1, min(max(MIN_SAMPLES, 2 * sample.shape[1]), n))
    eps, knee_found = k_distance_eps(sample, min_samples) if n > 1 else (1.0, False)
    info: dict[str, object] = {
        "sample_size": n,
        "min_samples": min_samples,
        "eps": eps,
        "eps_rule": "k-distance knee"
        if knee_found
        else f"k-distance {FALLBACK_QUANTILE:.0%} quantile",
    }
    model = DBSCAN(eps=eps, min_samples=min_samples).fit(sample)
    labels = np.asarray(model.labels_, dtype=np.int64)
    core = np.zeros(n, dtype=bool)
    core[model.core_sample_indices_] = True
    if not (labels >= 0).any():
        # No dense region: one segment of everyone, as for no structure.
        info["no_dense_region"] = True
        assigner = CorePointAssigner(sample, np.zeros(n, dtype=np.int64))
        return finish("dbscan", X, assigner, 1, info)
    labels[labels < 0] = UNASSIGNED
    radius = np.full(int(core.sum()), eps)
    assigner = CorePointAssigner(sample[core], labels[core], radius)
    return finish("dbscan", X, assigner, int(labels[core].max()) + 1, info)
