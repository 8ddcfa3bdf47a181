"""Consensus of many partitions by co-association (evidence accumulation; Fred & Jain 2005).

On a random sample of at most :data:`SAMPLE` customers, partitions into k segments are
collected from k-means on :data:`BOOTSTRAP_RUNS` bootstrap resamples (each with its own
seed) and from the other families (Gaussian mixture, Ward, Genie) on the whole sample.
The *co-association* of two customers is the share of the partitions in which both were
present that put them in the same segment. The consensus cuts the average-linkage tree
of ``1 - co-association`` into k segments; every customer then goes to the nearest
segment centre. ``info`` holds the mean co-association inside segments (1 = every run
agreed) and the runs used.
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from segmint.algorithms import genie, gmm, kmeans, ward
from segmint.algorithms.base import CentroidAssigner, Fitted, draw_sample, finish, segment_means

SAMPLE = 2_000
BOOTSTRAP_RUNS = 20


def coassociation(partitions: list[tuple[np.ndarray, np.ndarray]], n: int) -> np.ndarray:
    """Share of partitions putting two rows together, among those containing both.

    Parameters
    ----------
    partitions : list of (rows, labels)
        Each run's row indices (into 0..n-1) and their segment labels (-1 = none).
    n : int
        Number of rows.
    """
    together = np.zeros((n, n))
    present = np.zeros((n, n))
    for rows, labels in partitions:
        keep = labels >= 0
        rows, labels = rows[keep], labels[keep]
        onehot = np.zeros((len(rows), int(labels.max()) + 1 if len(labels) else 0))
        onehot[np.arange(len(rows)), labels] = 1.0
        counts = np.bincount(rows, minlength=n).astype(float)
        weight = np.zeros((n, onehot.shape[1]))
        np.add.at(weight, rows, onehot)
        # A row drawn twice in a bootstrap counts once.
        weight = np.minimum(weight, 1.0)
        together += weight @ weight.T
        seen = (counts > 0).astype(float)
        present += np.outer(seen, seen)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(present > 0, together / np.maximum(present, 1.0), 0.0)
    np.fill_diagonal(share, 1.0)
    return share


def fit(X: np.ndarray, k: int, rng: np.random.Generator) -> Fitted:
    """Consensus partition into ``k`` segments."""
    idx = draw_sample(len(X), SAMPLE, rng)
    sample = X[idx]
    n = len(sample)
    if k <= 1 or n <= k:
        return finish(
            "consensus",
            X,
            CentroidAssigner(sample.mean(axis=0, keepdims=True)),
            1,
            {"sample_size": n},
        )
    runs: list[tuple[np.ndarray, np.ndarray]] = []
    used: list[str] = []
    for _ in range(BOOTSTRAP_RUNS):
        rows = rng.integers(0, n, n)
        fitted = kmeans.fit(sample[rows], k, rng, n_init=1)
        runs.append((rows, fitted.labels))
        used.append("kmeans-bootstrap")
    everyone = np.arange(n)
    for family in (gmm, ward, genie):
        fitted = family.fit(sample, k, rng)
        runs.append((everyone, fitted.labels))
        used.append(fitted.algorithm)
    share = coassociation(runs, n)
    tree = linkage(squareform(1.0 - share, checks=False), method="average")
    cut = fcluster(tree, t=k, criterion="maxclust") - 1
    k_found = int(cut.max()) + 1
    inside = [share[np.ix_(cut == s, cut == s)].mean() for s in range(k_found)]
    info = {
        "sample_size": n,
        "runs": len(runs),
        "run_families": sorted(set(used)),
        "mean_coassociation_within": float(np.mean(inside)),
    }
    return finish(
        "consensus", X, CentroidAssigner(segment_means(sample, cut, k_found)), k_found, info
    )
