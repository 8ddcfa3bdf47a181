"""BIRCH (Zhang, Ramakrishnan & Livny 1996; scikit-learn's ``Birch``).

One pass builds a tree of compact subclusters (radius below :data:`THRESHOLD` in the
prepared space, where every feature has standard deviation 1); the subcluster centres are
then grouped into k segments by agglomerative clustering. Every customer goes to the
nearest segment centre. Above :data:`SAMPLE` customers the tree is built on a sample.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import AgglomerativeClustering, Birch, KMeans

from segmint.algorithms.base import CentroidAssigner, Fitted, draw_sample, finish, segment_means

SAMPLE = 100_000
THRESHOLD = 0.5
MAX_SUBCLUSTERS_FOR_WARD = 5_000


def fit(X: np.ndarray, k: int, rng: np.random.Generator) -> Fitted:
    """BIRCH with ``k`` segments."""
    idx = draw_sample(len(X), SAMPLE, rng)
    sample = X[idx]
    # The threshold is relative to the data's spread so raw (unscaled) input works too.
    spread = float(np.sqrt(sample.var(axis=0).mean())) if len(sample) > 1 else 1.0
    threshold = THRESHOLD * (spread if spread > 0 else 1.0)
    model = Birch(n_clusters=None, threshold=threshold)
    model.fit(sample)
    subcenters = model.subcluster_centers_
    member_of = model.predict(sample)  # index of the nearest subcluster
    if len(subcenters) <= k:
        sub_labels = np.arange(len(subcenters))
    elif len(subcenters) <= MAX_SUBCLUSTERS_FOR_WARD:
        sub_labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(subcenters)
    else:
        # Ward on very many subclusters is quadratic; size-weighted k-means is not.
        sizes = np.bincount(member_of, minlength=len(subcenters))
        sub_labels = KMeans(
            n_clusters=k, n_init=4, random_state=int(rng.integers(2**31 - 1))
        ).fit_predict(subcenters, sample_weight=sizes)
    labels = sub_labels[member_of]
    k_found = int(labels.max()) + 1
    centers = segment_means(sample, labels, k_found)
    info = {"sample_size": len(idx), "subclusters": len(subcenters), "threshold": threshold}
    return finish("birch", X, CentroidAssigner(centers), k_found, info)
