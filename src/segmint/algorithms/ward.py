"""Hierarchical clustering with Ward's criterion (SciPy's ``linkage``).

Ward needs all pairwise merges, O(n^2) memory: above :data:`SAMPLE` customers the tree is
built on a random sample, cut into k segments, and every customer (in the sample or not)
goes to the nearest segment centre, so a saved model labels them the same way.
The dendrogram of the sample is kept: ``info["linkage"]`` is SciPy's linkage matrix
(merged clusters, height, size per merge) and ``info["dendrogram"]`` the heights of the
last merges (the top of the tree, for a plot or to see where to cut).
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from segmint.algorithms.base import CentroidAssigner, Fitted, draw_sample, finish, segment_means

SAMPLE = 5_000
TOP_MERGES = 30


def fit(X: np.ndarray, k: int, rng: np.random.Generator) -> Fitted:
    """Ward's hierarchical clustering cut at ``k`` segments."""
    idx = draw_sample(len(X), SAMPLE, rng)
    sample = X[idx]
    if len(sample) < 2:
        centers = sample[:1].copy()
        return finish("ward", X, CentroidAssigner(centers), 1, {"sample_size": len(idx)})
    tree = linkage(sample, method="ward")
    cut = fcluster(tree, t=k, criterion="maxclust") - 1
    k_found = int(cut.max()) + 1
    centers = segment_means(sample, cut, k_found)
    heights = tree[:, 2]
    info = {
        "sample_size": len(idx),
        "linkage": tree,
        "dendrogram": {
            "merge_heights_top": [float(h) for h in heights[::-1][:TOP_MERGES]],
            "cut_height": float((heights[-k_found] + heights[-k_found + 1]) / 2)
            if 2 <= k_found <= len(heights)
            else None,
        },
    }
    return finish("ward", X, CentroidAssigner(centers), k_found, info)
