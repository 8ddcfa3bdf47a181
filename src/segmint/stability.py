"""Would the same segments come back tomorrow? Bootstrap and seed agreement.

Two questions, both answered on a random sample of at most :data:`SAMPLE` customers:

* **bootstrap agreement**: the family is refitted on a bootstrap resample (customers
  drawn with replacement) and the refit labels every sample customer; agreement with the
  chosen model's labels is the adjusted Rand index (ARI; 1 = the same partition, 0 =
  chance). :data:`ROUNDS` resamples by default.
* **seed agreement**: the family is refitted on the same customers with other random
  seeds (:data:`SEEDS`); the mean ARI says whether the answer depends on luck of the
  starts.

Per segment, the clusterwise Jaccard similarity of Hennig (2007): for every segment of
the chosen model, the best Jaccard overlap with any segment of a refit, averaged over the
bootstrap rounds. Hennig's reading: below 0.5 the segment dissolves, 0.6-0.75 it is a
pattern but its members are uncertain, above 0.85 it is highly stable.

A model (or a candidate k in the selection) is called *stable* when its mean bootstrap
ARI is at least :data:`STABLE_ARI`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from segmint.algorithms.base import Fitted, draw_sample, nearest_centers, sweep_kmeans

SAMPLE = 2_000
SWEEP_SAMPLE = 1_000
ROUNDS = 5
SEEDS = 3
STABLE_ARI = 0.8

Refit = Callable[[np.ndarray, np.random.Generator], Fitted]


@dataclass(frozen=True)
class Stability:
    """Bootstrap and seed agreement of a fitted model.

    Attributes
    ----------
    bootstrap_ari : float
        Mean ARI between the model and its bootstrap refits.
    bootstrap_ari_sd : float
        Its standard deviation over the rounds.
    seed_ari : float or None
        Mean ARI between the model and refits with other seeds (None for deterministic
        families, where every seed gives the same answer).
    jaccard : list of float
        Per segment (by id), Hennig's clusterwise Jaccard similarity.
    rounds, seeds, sample_size : int
        How much work went into the figures.
    stable : bool
        ``bootstrap_ari >= STABLE_ARI``.
    """

    bootstrap_ari: float
    bootstrap_ari_sd: float
    seed_ari: float | None
    jaccard: list[float] = field(default_factory=list)
    rounds: int = ROUNDS
    seeds: int = SEEDS
    sample_size: int = 0
    stable: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "bootstrap_ari": round(self.bootstrap_ari, 4),
            "bootstrap_ari_sd": round(self.bootstrap_ari_sd, 4),
            "seed_ari": None if self.seed_ari is None else round(self.seed_ari, 4),
            "jaccard": [round(j, 4) for j in self.jaccard],
            "rounds": self.rounds,
            "seeds": self.seeds,
            "sample_size": self.sample_size,
            "stable": self.stable,
            "threshold": STABLE_ARI,
            "reading": (
                "mean adjusted Rand index between the model and refits on bootstrap resamples "
                "(1 = identical, 0 = chance); per-segment Jaccard after Hennig (2007): < 0.5 "
                "dissolves, > 0.85 highly stable"
            ),
        }


def clusterwise_jaccard(reference: np.ndarray, other: np.ndarray, k: int) -> np.ndarray:
    """For each reference segment 0..k-1, its best Jaccard overlap with a segment of ``other``."""
    out = np.zeros(k)
    other_ids = np.unique(other[other >= 0])
    for seg in range(k):
        members = reference == seg
        if not members.any():
            continue
        best = 0.0
        for o in other_ids:
            theirs = other == o
            union = np.count_nonzero(members | theirs)
            best = max(best, np.count_nonzero(members & theirs) / union if union else 0.0)
        out[seg] = best
    return out


def model_stability(
    X: np.ndarray,
    labels: np.ndarray,
    k: int,
    refit: Refit,
    rng: np.random.Generator,
    *,
    rounds: int = ROUNDS,
    seeds: int = SEEDS,
    deterministic: bool = False,
) -> Stability:
    """Bootstrap and seed agreement of a model with labels ``labels`` on ``X``.

    Parameters
    ----------
    X : ndarray
        Prepared matrix (all training customers).
    labels : ndarray
        The model's segment of every row (-1 = unassigned).
    k : int
        Number of segments.
    refit : callable
        ``refit(X_subset, rng) -> Fitted``: the same family and k on other customers.
    rng : Generator
        Source of the sample, resamples and seeds.
    rounds, seeds : int
        Bootstrap resamples and extra seeds.
    deterministic : bool
        The family gives the same answer for every seed (seed agreement is skipped).
    """
    idx = draw_sample(len(X), SAMPLE, rng)
    sample, reference = X[idx], labels[idx]
    n = len(sample)
    if k <= 1 or n < 4:
        return Stability(1.0, 0.0, None if deterministic else 1.0, [1.0] * max(k, 1), 0, 0, n, True)
    aris: list[float] = []
    jaccards = np.zeros(k)
    for _ in range(rounds):
        rows = rng.integers(0, n, n)
        fitted = refit(sample[rows], rng)
        predicted, _ = fitted.assigner.predict(sample)
        aris.append(float(adjusted_rand(reference, predicted)))
        jaccards += clusterwise_jaccard(reference, predicted, k)
    seed_aris: list[float] = []
    if not deterministic:
        for _ in range(seeds):
            fitted = refit(sample, rng)
            seed_aris.append(float(adjusted_rand(reference, fitted.labels)))
    mean = float(np.mean(aris)) if aris else 1.0
    return Stability(
        bootstrap_ari=mean,
        bootstrap_ari_sd=float(np.std(aris)) if aris else 0.0,
        seed_ari=float(np.mean(seed_aris)) if seed_aris else None,
        jaccard=(jaccards / max(rounds, 1)).tolist(),
        rounds=rounds,
        seeds=0 if deterministic else seeds,
        sample_size=n,
        stable=mean >= STABLE_ARI,
    )


def adjusted_rand(labels_a: np.ndarray, labels_b: np.ndarray) -> float:
    """The adjusted Rand index, computed as scikit-learn's ``adjusted_rand_score`` does
    (exact integer pair counts, then one division: the same value), without its input
    checks and sparse table, which cost a millisecond a call; the selection and the
    stability figures make hundreds of calls on small label arrays."""
    n = len(labels_a)
    if n == 0:
        return 1.0
    _, a = np.unique(np.asarray(labels_a), return_inverse=True)
    _, b = np.unique(np.asarray(labels_b), return_inverse=True)
    kb = int(b.max()) + 1
    table = np.bincount(a.ravel() * kb + b.ravel(), minlength=(int(a.max()) + 1) * kb)
    table = table.reshape(-1, kb).astype(np.int64)
    sum_squares = int((table**2).sum())
    fp = int((table @ table.sum(axis=0)).sum()) - sum_squares
    fn = int((table.T @ table.sum(axis=1)).sum()) - sum_squares
    tp = sum_squares - n
    tn = n * n - fp - fn - sum_squares
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


def kmeans_bootstrap_ari(
    X: np.ndarray,
    centers: np.ndarray,
    rng: np.random.Generator,
    *,
    rounds: int = ROUNDS,
    n_init: int = 2,
    sample: int = SWEEP_SAMPLE,
) -> float:
    """Mean ARI between the k-means partition given by ``centers`` and bootstrap refits.

    Used for every candidate k of the selection: cheap (k-means on at most
    :data:`SAMPLE` customers) and enough to tell a real split from an arbitrary one.
    """
    k = len(centers)
    if k <= 1:
        return 1.0
    idx = draw_sample(len(X), sample, rng)
    points = X[idx]
    n = len(points)
    if n <= k:
        return 1.0
    reference, _ = nearest_centers(points, centers)
    aris = []
    for _ in range(rounds):
        rows = rng.integers(0, n, n)
        _, refit = sweep_kmeans(points[rows], k, rng, n_init)
        predicted, _ = nearest_centers(points, refit)
        aris.append(adjusted_rand(reference, predicted))
    return float(np.mean(aris))
