"""HDBSCAN (Campello, Moulavi & Sander 2013; scikit-learn's ``HDBSCAN``).

Density-based: it finds the number of segments itself and leaves customers in sparse
regions as noise. Noise customers are never dropped: they form the explicit
*unassigned* group, segment id -1, named "Unassigned" in the outputs.

Minimum segment size: :data:`MIN_SHARE` of the customers (at least
:data:`MIN_CLUSTER_SIZE`), since smaller groups are rarely worth a campaign. Above
:data:`SAMPLE` customers HDBSCAN runs on a random sample (its cost grows faster than
linearly). The sample's segment members are kept as core points, each with its core
distance as radius: a customer takes the segment of the nearest core point when it lies
within that point's radius, and is unassigned otherwise — the same rule for the sample,
the other training customers and new customers.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.spatial import cKDTree
from sklearn.cluster import HDBSCAN

from segmint.algorithms.base import UNASSIGNED, CorePointAssigner, Fitted, draw_sample, finish

SAMPLE = 50_000
MIN_SHARE = 0.01
MIN_CLUSTER_SIZE = 5
MIN_SAMPLES = 5


def fit(X: np.ndarray, rng: np.random.Generator) -> Fitted:
    """HDBSCAN; the number of segments is found, not given."""
    idx = draw_sample(len(X), SAMPLE, rng)
    sample = X[idx]
    n = len(sample)
    min_size = max(MIN_CLUSTER_SIZE, math.ceil(MIN_SHARE * n))
    min_samples = min(MIN_SAMPLES, max(1, n - 1))
    info: dict[str, object] = {
        "sample_size": n,
        "min_cluster_size": min_size,
        "min_samples": min_samples,
    }
    if n < max(2, min_size):
        labels = np.full(n, UNASSIGNED, dtype=np.int64)
    else:
        labels = HDBSCAN(
            min_cluster_size=min(min_size, n), min_samples=min_samples, copy=True
        ).fit_predict(sample)
        labels = np.asarray(labels, dtype=np.int64)
        labels[labels < 0] = UNASSIGNED
    members = labels >= 0
    if not members.any():
        # No dense region: one segment of everyone, as for no structure.
        labels = np.zeros(n, dtype=np.int64)
        members = labels >= 0
        info["no_dense_region"] = True
    # Core distance: distance to the min_samples-th neighbour (the point itself included).
    neighbours = min(min_samples, n)
    distances, _ = cKDTree(sample).query(sample, k=neighbours)
    radius = distances[:, -1] if distances.ndim == 2 else distances
    core = members
    assigner = CorePointAssigner(sample[core], labels[core], np.asarray(radius[core], dtype=float))
    k_found = int(labels[core].max()) + 1
    return finish("hdbscan", X, assigner, k_found, info)
