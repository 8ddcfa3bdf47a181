"""Genie (Gagolewski, Bartoszuk & Cena 2016; the ``genieclust`` package).

Hierarchical clustering on the Euclidean minimum spanning tree that keeps merging the
closest clusters, except that while the Gini index of the cluster sizes exceeds a
threshold (0.3, the authors' default) the smallest cluster is merged first. It follows
gaps in density, so segments need not be convex (rings, bands, elongated groups), while
the Gini correction keeps it from splitting off single outliers.

Above :data:`SAMPLE` customers Genie runs on a random sample; the sample's customers are
kept as *core points* and every customer takes the segment of the nearest core point
(the sample's own customers keep theirs).
"""

from __future__ import annotations

import numpy as np

from segmint.algorithms.base import CorePointAssigner, Fitted, draw_sample, finish

SAMPLE = 20_000
GINI_THRESHOLD = 0.3


def fit(X: np.ndarray, k: int, rng: np.random.Generator) -> Fitted:
    """Genie with ``k`` segments (Gini threshold :data:`GINI_THRESHOLD`)."""
    import genieclust

    idx = draw_sample(len(X), SAMPLE, rng)
    sample = np.ascontiguousarray(X[idx], dtype=float)
    # Genie ties on duplicate points; it needs at least k distinct points anyway.
    if k <= 1 or len(sample) <= k:
        labels = np.zeros(len(sample), dtype=np.int64) if k <= 1 else np.arange(len(sample))
    else:
        # The MST routine wants at least two columns; a zero column changes no distance.
        points = sample if sample.shape[1] > 1 else np.column_stack([sample, np.zeros(len(sample))])
        labels = genieclust.Genie(n_clusters=k, gini_threshold=GINI_THRESHOLD).fit_predict(points)
    labels = np.asarray(labels, dtype=np.int64)
    k_found = int(labels.max()) + 1
    assigner = CorePointAssigner(sample, labels)
    return finish(
        "genie", X, assigner, k_found, {"sample_size": len(idx), "gini_threshold": GINI_THRESHOLD}
    )
