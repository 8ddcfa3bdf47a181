"""k-means (k-means++ starts, Lloyd iterations; scikit-learn's ``KMeans``).

On more than :data:`SAMPLE` customers the centres are fitted on a simple random sample
of that size and every customer is then assigned to the nearest centre: the centres of
a 50,000-customer sample are within about 1% of a standard deviation of the full-data
centres, at a fraction of the time (scikit-learn's ``MiniBatchKMeans`` is slower than
this on a million rows).
"""

from __future__ import annotations

import numpy as np

from segmint.algorithms.base import CentroidAssigner, Fitted, draw_sample, finish, quiet_kmeans

SAMPLE = 50_000
N_INIT = 10


def fit(X: np.ndarray, k: int, rng: np.random.Generator, *, n_init: int = N_INIT) -> Fitted:
    """k-means with ``k`` segments on ``X`` (on a sample of :data:`SAMPLE` when larger)."""
    idx = draw_sample(len(X), SAMPLE, rng)
    model = quiet_kmeans(X[idx], k, int(rng.integers(2**31 - 1)), n_init)
    info = {"sample_size": len(idx), "inertia_on_sample": float(model.inertia_), "n_init": n_init}
    return finish("kmeans", X, CentroidAssigner(model.cluster_centers_), k, info)
