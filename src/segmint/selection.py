"""Choosing the number of segments.

The rule used by ``k="auto"`` (documented in the README, recorded in every summary):

1. For every k in the range, k-means (k-means++, several starts) is fitted and scored:
   within-cluster sum of squares (WCSS), silhouette (exact up to 10,000 customers,
   otherwise on a seeded random sample of 10,000), Calinski-Harabasz and Davies-Bouldin.
2. The *knee* of WCSS over k (including k = 1, the total sum of squares) is found with
   Kneedle (Satopää et al. 2011): the k where the normalised curve is farthest below the
   straight line joining its ends.
3. When the best silhouette is at least ``CLEAR_STRUCTURE`` (0.5, "reasonable structure"
   in Kaufman & Rousseeuw's reading of the silhouette), the segments are really there:
   the k with the best silhouette is chosen.
4. Otherwise the structure is weak, as on most customer data (a continuum more than
   separate groups). Candidates are the ks whose silhouette is at least
   ``SILHOUETTE_TOLERANCE`` (80%) of the best; among them the one nearest the knee is
   chosen (the smaller k on a tie); with no knee, the best silhouette.

On weak structure the silhouette alone favours k = 2 (one big split, e.g. active vs
lapsed) and the elbow alone ignores separation; together they give segments that are as
well separated as the data allows and not coarser than its diminishing-returns point.
On clear structure the elbow is unreliable (several big drops), and the silhouette
decides.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

SILHOUETTE_TOLERANCE = 0.80
CLEAR_STRUCTURE = 0.5
SILHOUETTE_SAMPLE = 10_000
SELECTION_SAMPLE = 50_000
SWEEP_N_INIT = 4


@dataclass(frozen=True)
class KScore:
    """Indices of one candidate k."""

    k: int
    wcss: float
    silhouette: float | None
    calinski_harabasz: float | None
    davies_bouldin: float | None


@dataclass(frozen=True)
class Selection:
    """How k was chosen.

    Attributes
    ----------
    k : int
        The chosen number of segments.
    mode : {"auto", "fixed", "range"}
        ``k="auto"``, a given k, or a given range.
    rule : str
        The decision rule in words.
    reasons : list of str
        Why this k, in plain sentences.
    scores : list of KScore
        The per-k table.
    knee : int or None
        Knee of the WCSS curve.
    sample_size : int
        Customers the sweep was run on.
    """

    k: int
    mode: str
    rule: str
    reasons: list[str]
    scores: list[KScore] = field(default_factory=list)
    knee: int | None = None
    sample_size: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "k": self.k,
            "mode": self.mode,
            "rule": self.rule,
            "reasons": list(self.reasons),
            "knee": self.knee,
            "sample_size": self.sample_size,
            "scores": [asdict(score) for score in self.scores],
        }


def knee_point(x: np.ndarray, y: np.ndarray) -> float | None:
    """Knee of a decreasing convex curve by Kneedle (Satopää et al. 2011).

    Both axes are scaled to [0, 1]; the knee is the x where the scaled curve lies farthest
    below the line joining its first and last points.

    Parameters
    ----------
    x, y : ndarray
        Increasing x and the curve's values; at least three points.

    Returns
    -------
    float or None
        The knee's x, or None when the curve has no knee (flat, too short or not convex).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    xn = (x - x.min()) / np.ptp(x)
    yn = (y - y.min()) / np.ptp(y)
    # For a decreasing convex curve flip y so the knee becomes a maximum of the difference.
    if y[0] > y[-1]:
        yn = 1.0 - yn
    difference = yn - xn
    best = int(np.argmax(difference))
    if difference[best] <= 0:
        return None
    return float(x[best])


def _sample(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    if n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


def score_k(X: np.ndarray, labels: np.ndarray, wcss: float, k: int, rng: np.random.Generator) -> KScore:
    """Indices of one partition (silhouette sampled above :data:`SILHOUETTE_SAMPLE`)."""
    if k < 2 or k >= len(X):
        return KScore(k=k, wcss=wcss, silhouette=None, calinski_harabasz=None, davies_bouldin=None)
    idx = _sample(len(X), SILHOUETTE_SAMPLE, rng)
    if len(np.unique(labels[idx])) < 2:
        silhouette = None
    else:
        silhouette = float(silhouette_score(X[idx], labels[idx]))
    return KScore(
        k=k,
        wcss=wcss,
        silhouette=silhouette,
        calinski_harabasz=float(calinski_harabasz_score(X, labels)),
        davies_bouldin=float(davies_bouldin_score(X, labels)),
    )


def choose_k(
    X: np.ndarray,
    k_range: tuple[int, int] = (2, 10),
    *,
    random_state: int | None = 0,
) -> Selection:
    """Choose the number of segments in ``k_range`` by the module's documented rule.

    Parameters
    ----------
    X : ndarray of shape (n_customers, n_features)
        Prepared matrix.
    k_range : (int, int)
        Smallest and largest k to consider, inclusive.
    random_state : int or None
        Seed for k-means starts and samples.

    Returns
    -------
    Selection
    """
    rng = np.random.default_rng(random_state)
    n = len(X)
    low, high = k_range
    high = min(high, n - 1)
    if high < low:
        return Selection(
            k=1,
            mode="auto",
            rule="too few customers",
            reasons=[f"{n} customers are too few to compare {k_range[0]} or more segments"],
            sample_size=n,
        )
    idx = _sample(n, SELECTION_SAMPLE, rng)
    sample = X[idx]
    total = float(((sample - sample.mean(axis=0)) ** 2).sum())
    scores = [KScore(k=1, wcss=total, silhouette=None, calinski_harabasz=None, davies_bouldin=None)]
    for k in range(max(low, 2), high + 1):
        model = KMeans(n_clusters=k, n_init=SWEEP_N_INIT, random_state=random_state).fit(sample)
        scores.append(score_k(sample, model.labels_, float(model.inertia_), k, rng))

    ks = np.array([s.k for s in scores])
    wcss = np.array([s.wcss for s in scores])
    knee_x = knee_point(ks, wcss)
    knee = int(knee_x) if knee_x is not None else None
    rated = [s for s in scores if s.silhouette is not None and low <= s.k <= high]
    if not rated:
        return Selection(
            k=max(low, 1), mode="auto", rule="no silhouette", reasons=["no k could be scored"],
            scores=scores, knee=knee, sample_size=len(idx),
        )  # fmt: skip
    best = max(rated, key=lambda s: s.silhouette or -1.0)
    assert best.silhouette is not None
    threshold = best.silhouette * SILHOUETTE_TOLERANCE if best.silhouette > 0 else best.silhouette
    candidates = [s for s in rated if (s.silhouette or -1.0) >= threshold]
    if best.silhouette >= CLEAR_STRUCTURE:
        chosen = best
        reasons = [
            f"best silhouette {best.silhouette:.3f} at k = {best.k}: clear structure "
            f"(>= {CLEAR_STRUCTURE}), the silhouette decides"
        ]
    elif knee is None:
        chosen = best
        reasons = [f"best silhouette {best.silhouette:.3f} at k = {best.k}; WCSS has no knee"]
    else:
        chosen = min(candidates, key=lambda s: (abs(s.k - knee), s.k))
        reasons = [
            f"WCSS knee at k = {knee}",
            f"best silhouette {best.silhouette:.3f} at k = {best.k} (weak structure, "
            f"< {CLEAR_STRUCTURE}); k within {SILHOUETTE_TOLERANCE:.0%} of it: "
            f"{', '.join(str(s.k) for s in candidates)}",
            f"k = {chosen.k} is the candidate nearest the knee (silhouette {chosen.silhouette:.3f})",
        ]
    return Selection(
        k=chosen.k,
        mode="auto" if k_range == (2, 10) else "range",
        rule=(
            f"best silhouette when it is >= {CLEAR_STRUCTURE}; otherwise, among k with "
            f"silhouette >= {SILHOUETTE_TOLERANCE:.0%} of the best, the one nearest the WCSS knee"
        ),
        reasons=reasons,
        scores=scores,
        knee=knee,
        sample_size=len(idx),
    )
