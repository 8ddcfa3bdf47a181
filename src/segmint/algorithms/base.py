"""What every clustering family returns, and the rules that label new customers.

A fitted family is a :class:`Fitted`: labels and confidence of the training customers,
the centroid of every segment, and an :class:`Assigner` — the rule that labels any
customer, old or new, and that is saved in the model folder as plain arrays:

* :class:`CentroidAssigner` — nearest segment centre (k-means, Ward, BIRCH, consensus);
  confidence ``1 - d1 / d2`` (distances to the nearest and second-nearest centre);
* :class:`GaussianAssigner` — the mixture's posterior (Gaussian mixture); confidence is
  the posterior probability of the segment;
* :class:`CorePointAssigner` — the segment of the nearest core point (Genie, HDBSCAN,
  DBSCAN), for segments that need not be convex; confidence ``1 - r1 / r2`` with r1 the
  distance to the 5th nearest core point of the customer's segment and r2 to the 5th
  nearest of the closest other segment (a k-th neighbour, because training customers
  are core points themselves and their nearest one is at distance 0). With radii
  (HDBSCAN, DBSCAN) a customer farther from its nearest core point than that point's
  radius is *unassigned* (segment -1).

Every family labels all training customers with its own assigner, so a saved model gives
the training customers exactly the labels they got at fit time.

Segment ids run from 0 (the largest segment) to k - 1; ties are broken by the centroid's
coordinates, so row order never changes ids. -1 is the "unassigned" group.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import logsumexp
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning

from segmint.threads import parallel_map

UNASSIGNED = -1
BRUTE_FORCE_POINTS = 3_000
NEIGHBOURS = 5
RADIUS_TOLERANCE = 1e-9
"""Relative slack of a core point's radius (rounding, not geometry)."""


def draw_sample(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Sorted indices of a simple random sample of ``size`` of ``n`` rows (all when n <= size)."""
    if n <= size:
        return np.arange(n)
    return np.sort(rng.choice(n, size=size, replace=False))


def seed_of(rng: np.random.Generator) -> int:
    """A 31-bit seed drawn from ``rng`` for scikit-learn's ``random_state``."""
    return int(rng.integers(0, 2**31 - 1))


def quiet_kmeans(X: np.ndarray, k: int, seed: int, n_init: int) -> KMeans:
    """k-means++ with ``n_init`` starts, quiet when duplicates leave fewer distinct points than k.

    Bootstrap resamples and customer data with many identical rows can hold fewer distinct
    points than k; the fit is still the one wanted, so scikit-learn's warning is dropped.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return KMeans(n_clusters=k, n_init=n_init, random_state=seed).fit(X)


def _plus_plus(X: np.ndarray, sq: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Greedy k-means++ seeding as in scikit-learn: 2 + log(k) candidates per step, keep
    the one that lowers the potential most (``sq``: the rows' squared norms)."""
    n = len(X)
    trials = 2 + int(np.log(k))
    centers = np.empty((k, X.shape[1]))
    centers[0] = X[rng.integers(n)]
    closest = np.maximum(sq - 2.0 * X @ centers[0] + centers[0] @ centers[0], 0.0)
    for j in range(1, k):
        total = closest.sum()
        if total > 0:
            picks = np.minimum(
                np.searchsorted(np.cumsum(closest), rng.uniform(size=trials) * total), n - 1
            )
        else:
            picks = rng.integers(n, size=trials)
        cand = X[picks]
        d_cand = np.maximum(sq[None, :] - 2.0 * cand @ X.T + (cand**2).sum(axis=1)[:, None], 0.0)
        potentials = np.minimum(closest[None, :], d_cand).sum(axis=1)
        best_trial = int(np.argmin(potentials))
        centers[j] = cand[best_trial]
        closest = np.minimum(closest, d_cand[best_trial])
    return centers


def lloyd_wcss(
    X: np.ndarray, k: int, rng: np.random.Generator, *, n_init: int = 2, max_iter: int = 50
) -> tuple[float, np.ndarray]:
    """Best within-cluster sum of squares of ``n_init`` k-means++ + Lloyd runs, and its centres.

    A plain NumPy k-means for the many small internal fits (gap reference sets, bootstrap
    refits of the selection), where scikit-learn's per-call overhead dominates; final
    models use scikit-learn's ``KMeans``.
    """
    n, d = X.shape
    k = min(k, n)
    sq = (X**2).sum(axis=1)
    flat, columns = np.ascontiguousarray(X).ravel(), np.arange(d)
    best, best_centers = np.inf, X[:k].copy()
    for _ in range(n_init):
        centers = _plus_plus(X, sq, k, rng)
        labels = np.full(n, -1)
        for _ in range(max_iter):
            d2 = sq[:, None] - 2.0 * X @ centers.T + (centers**2).sum(axis=1)[None, :]
            new_labels = d2.argmin(axis=1)
            if np.array_equal(new_labels, labels):
                break
            labels = new_labels
            counts = np.bincount(labels, minlength=k)
            # every (segment, feature) sum in one bincount, added in row order as one
            # bincount per feature would: the same floating-point sums, faster
            cells = (labels[:, None] * d + columns).ravel()
            sums = np.bincount(cells, weights=flat, minlength=k * d).reshape(k, d)
            filled = counts > 0
            centers[filled] = sums[filled] / counts[filled, None]
        d2 = sq[:, None] - 2.0 * X @ centers.T + (centers**2).sum(axis=1)[None, :]
        wcss = float(np.maximum(d2.min(axis=1), 0.0).sum())
        if wcss < best:
            best, best_centers = wcss, centers.copy()
    return best, best_centers


SMALL = 1_000


def sweep_kmeans(
    X: np.ndarray, k: int, rng: np.random.Generator, n_init: int
) -> tuple[float, np.ndarray]:
    """WCSS and centres of k-means for the selection's many fits.

    NumPy :func:`lloyd_wcss` up to :data:`SMALL` rows (scikit-learn's per-call overhead
    would dominate), scikit-learn's ``KMeans`` above.
    """
    if len(X) <= SMALL:
        return lloyd_wcss(X, k, rng, n_init=n_init)
    model = quiet_kmeans(X, k, seed_of(rng), n_init)
    return float(model.inertia_), model.cluster_centers_


CHUNK = 32_768


def nearest_centers(X: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label every row with its nearest centre and give the ``1 - d1/d2`` confidence.

    Rows go in blocks of :data:`CHUNK`; a large table's blocks are shared among the cores
    (each block is computed exactly as alone, so the result does not depend on it).
    """
    n = len(X)
    if len(centers) == 1:
        return np.zeros(n, dtype=np.int64), np.ones(n)
    labels = np.empty(n, dtype=np.int64)
    confidence = np.empty(n)
    squares = (centers**2).sum(axis=1)[None, :]
    starts = list(range(0, n, CHUNK))
    halves = [starts[: (len(starts) + 1) // 2], starts[(len(starts) + 1) // 2 :]]
    parallel_map(
        lambda part: _nearest_blocks(X, centers, squares, part, labels, confidence),
        [half for half in halves if half],
    )
    return labels, np.clip(confidence, 0.0, 1.0)


def _nearest_blocks(
    X: np.ndarray,
    centers: np.ndarray,
    squares: np.ndarray,
    starts: list[int],
    labels: np.ndarray,
    confidence: np.ndarray,
) -> None:
    """:func:`nearest_centers` for the blocks of rows beginning at ``starts``, written into
    ``labels`` and ``confidence`` (before clipping)."""
    for start in starts:
        part = X[start : start + CHUNK]
        d2 = (part**2).sum(axis=1)[:, None] - 2.0 * part @ centers.T + squares
        np.maximum(d2, 0.0, out=d2)
        rows = np.arange(len(part))
        first = d2.argmin(axis=1)
        d1 = np.sqrt(d2[rows, first])
        d2[rows, first] = np.inf
        second = np.sqrt(d2.min(axis=1))
        labels[start : start + len(part)] = first
        with np.errstate(invalid="ignore", divide="ignore"):
            confidence[start : start + len(part)] = np.where(second > 0, 1.0 - d1 / second, 0.0)


def nearest_by_segment(
    X: np.ndarray, points: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every row: the nearest point's index and distance, and the distance to the nearest
    point of another segment (brute force in chunks; for up to a few thousand points)."""
    k = int(labels.max()) + 1
    order = np.argsort(labels, kind="stable")
    sorted_points, sorted_labels = points[order], labels[order]
    starts = np.searchsorted(sorted_labels, np.arange(k))
    squares = (sorted_points**2).sum(axis=1)[None, :]
    n = len(X)
    nearest, d1, d_other = np.empty(n, dtype=np.int64), np.empty(n), np.full(n, np.inf)
    step = max(1, CHUNK * 8 // max(len(points), 1))
    for start in range(0, n, step):
        part = X[start : start + step]
        d2 = (part**2).sum(axis=1)[:, None] - 2.0 * part @ sorted_points.T + squares
        np.maximum(d2, 0.0, out=d2)
        best = d2.argmin(axis=1)
        rows = np.arange(len(part))
        nearest[start : start + len(part)] = order[best]
        # exact distance to the nearest point (the expansion above loses digits near 0)
        d1[start : start + len(part)] = np.sqrt(((part - sorted_points[best]) ** 2).sum(axis=1))
        if k > 1:
            per_segment = np.minimum.reduceat(d2, starts, axis=1)
            own = sorted_labels[best]
            per_segment[rows, own] = np.inf
            d_other[start : start + len(part)] = np.sqrt(per_segment.min(axis=1))
    return nearest, d1, d_other


def neighbour_confidence(reach: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``1 - r_own / r_other`` per row, in [0, 1].

    ``reach`` holds each row's distance to its :data:`NEIGHBOURS`-th nearest core point of
    every segment; ``r_own`` is that of the row's segment, ``r_other`` the smallest of the
    others. A k-th neighbour rather than the nearest one, because the training customers
    are core points themselves: their nearest core point is at distance 0, which would
    make every one of them fully confident. With one segment every confidence is 1.
    """
    n, k = reach.shape
    if k <= 1:
        return np.ones(n)
    rows = np.arange(n)
    own = reach[rows, np.maximum(labels, 0)]
    others = reach.copy()
    others[rows, np.maximum(labels, 0)] = np.inf
    other = others.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.where(other > 0, 1.0 - own / other, 0.0)
    return np.clip(confidence, 0.0, 1.0)


class Assigner:
    """A rule that labels customers in the prepared space (see the module docstring)."""

    kind: ClassVar[str] = ""
    gives_probabilities: ClassVar[bool] = False  # whether :meth:`probabilities` gives them

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Segment (-1 for unassigned) and confidence of every row of ``X``."""
        raise NotImplementedError

    def arrays(self) -> dict[str, np.ndarray]:
        """The numbers to save."""
        raise NotImplementedError

    def probabilities(self, X: np.ndarray) -> np.ndarray | None:
        """Membership probability of every row in every segment (rows summing to 1), or
        None for a rule that gives no probabilities (all but the Gaussian mixture)."""
        return None

    def params(self) -> dict[str, Any]:
        """JSON-ready settings to save beside the arrays."""
        return {}

    def permuted(self, order: np.ndarray) -> Assigner:
        """The same rule with segment ``order[i]`` renamed ``i`` (others dropped)."""
        raise NotImplementedError


@dataclass(frozen=True)
class CentroidAssigner(Assigner):
    """Nearest segment centre."""

    centers: np.ndarray
    kind: ClassVar[str] = "nearest_centroid"

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest centre and ``1 - d1/d2``."""
        return nearest_centers(X, self.centers)

    def arrays(self) -> dict[str, np.ndarray]:
        """Nothing beyond the model's centres."""
        return {}

    def permuted(self, order: np.ndarray) -> CentroidAssigner:
        """Centres reordered."""
        return CentroidAssigner(self.centers[order])


@dataclass(frozen=True)
class GaussianAssigner(Assigner):
    """Posterior of a Gaussian mixture with full covariances."""

    means: np.ndarray  # (k, d)
    covariances: np.ndarray  # (k, d, d)
    weights: np.ndarray  # (k,)
    kind: ClassVar[str] = "gaussian_posterior"
    gives_probabilities: ClassVar[bool] = True

    def log_densities(self, X: np.ndarray) -> np.ndarray:
        """``log(weight_j) + log N(x | mean_j, cov_j)`` for every row and component."""
        n, d = X.shape
        out = np.empty((n, len(self.means)))
        for j, (mean, cov) in enumerate(zip(self.means, self.covariances, strict=True)):
            chol = np.linalg.cholesky(cov)
            z = np.linalg.solve(chol, (X - mean).T)
            log_det = 2.0 * np.log(np.diag(chol)).sum()
            out[:, j] = -0.5 * ((z**2).sum(axis=0) + d * np.log(2 * np.pi) + log_det)
        return cast(np.ndarray, out + np.log(self.weights)[None, :])

    def posterior(self, X: np.ndarray) -> np.ndarray:
        """Membership probabilities, rows summing to 1."""
        log_p = self.log_densities(X)
        return cast(np.ndarray, np.exp(log_p - logsumexp(log_p, axis=1, keepdims=True)))

    def probabilities(self, X: np.ndarray) -> np.ndarray:
        """The posterior of every segment (:meth:`posterior`)."""
        return self.posterior(X)

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Most probable segment and its posterior probability."""
        post = self.posterior(X)
        labels = post.argmax(axis=1).astype(np.int64)
        return labels, post[np.arange(len(X)), labels]

    def arrays(self) -> dict[str, np.ndarray]:
        """Means, covariances and weights."""
        return {"means": self.means, "covariances": self.covariances, "weights": self.weights}

    def permuted(self, order: np.ndarray) -> GaussianAssigner:
        """Components reordered (a subset keeps its relative weights)."""
        weights = self.weights[order]
        return GaussianAssigner(self.means[order], self.covariances[order], weights / weights.sum())


@dataclass(frozen=True)
class CorePointAssigner(Assigner):
    """Segment of the nearest core point; beyond a core point's radius, unassigned."""

    points: np.ndarray  # (m, d)
    labels: np.ndarray  # (m,), 0..k-1
    radius: np.ndarray | None = None  # (m,) or None: always assign
    kind: ClassVar[str] = "nearest_core_point"
    _trees: dict[int, Any] = field(default_factory=dict, compare=False, repr=False)

    def _kdtree(self, segment: int | None = None) -> cKDTree:
        """KD-tree of all core points (None) or of one segment's, built once."""
        key = -2 if segment is None else segment
        if key not in self._trees:
            points = self.points if segment is None else self.points[self.labels == segment]
            self._trees[key] = cKDTree(points)
        return self._trees[key]

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest core point's segment, and the confidence of :func:`neighbour_confidence`."""
        n = len(X)
        if n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        if len(self.points) <= BRUTE_FORCE_POINTS:
            idx, d1, _ = nearest_by_segment(X, self.points, self.labels)
        else:
            d1, idx = self._kdtree().query(X, k=1)
        labels = self.labels[idx].astype(np.int64)
        confidence = neighbour_confidence(self.segment_reach(X), labels)
        if self.radius is not None:
            # The distance to the chosen core point from the differences, as the radius is
            # measured (the matrix product's rounding depends on the batch and the threads),
            # and a point at the radius within it: the neighbour that sets a core point's
            # radius is assigned alike at fit and at assignment.
            d1 = np.sqrt(((X - self.points[idx]) ** 2).sum(axis=1))
            outside = d1 > self.radius[idx] * (1 + RADIUS_TOLERANCE)
            labels[outside] = UNASSIGNED
            confidence[outside] = 0.0
        return labels, confidence

    def segment_reach(self, X: np.ndarray) -> np.ndarray:
        """Distance of every row to its :data:`NEIGHBOURS`-th nearest core point of each
        segment (of its farthest one when the segment has fewer), shape (n, k)."""
        k = int(self.labels.max()) + 1 if len(self.labels) else 0
        out = np.empty((len(X), k))
        for seg in range(k):
            own = self.points[self.labels == seg]
            m = min(NEIGHBOURS, len(own))
            if len(self.points) <= BRUTE_FORCE_POINTS:
                squares = (own**2).sum(axis=1)[None, :]
                step = max(1, CHUNK * 8 // max(len(own), 1))
                for start in range(0, len(X), step):
                    part = X[start : start + step]
                    d2 = (part**2).sum(axis=1)[:, None] - 2.0 * part @ own.T + squares
                    kth = np.partition(d2, m - 1, axis=1)[:, m - 1]
                    out[start : start + len(part), seg] = np.sqrt(np.maximum(kth, 0.0))
            else:
                distances, _ = self._kdtree(seg).query(X, k=m)
                out[:, seg] = distances if distances.ndim == 1 else distances[:, -1]
        return out

    def arrays(self) -> dict[str, np.ndarray]:
        """Core points, their segments and (HDBSCAN) radii."""
        # Stored as floats like every model array; read back as integers.
        out = {"points": self.points, "labels": self.labels.astype(float)}
        if self.radius is not None:
            out["radius"] = self.radius
        return out

    def permuted(self, order: np.ndarray) -> CorePointAssigner:
        """Core point labels renamed."""
        rename = np.empty(len(order), dtype=np.int64)
        rename[order] = np.arange(len(order))
        return CorePointAssigner(self.points, rename[self.labels], self.radius)


@dataclass(frozen=True)
class Fitted:
    """A fitted partition of the training customers.

    Attributes
    ----------
    algorithm : str
        Registry name of the family.
    labels : ndarray of int
        Segment of every training customer, 0..k-1, or -1 (unassigned).
    confidence : ndarray of float
        Assignment confidence in [0, 1] (0 for unassigned customers).
    centers : ndarray of shape (k, n_features)
        Mean of every segment's members in the prepared space.
    assigner : Assigner
        The rule that labels customers (the training ones included).
    info : dict
        Family-specific facts: sample size, BIC/AIC, dendrogram, noise count, ...
    """

    algorithm: str
    labels: np.ndarray
    confidence: np.ndarray
    centers: np.ndarray
    assigner: Assigner
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def k(self) -> int:
        """Number of segments (the unassigned group not counted)."""
        return len(self.centers)


def segment_means(X: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Mean of the rows of each segment 0..k-1 (unassigned rows ignored)."""
    centers = np.zeros((k, X.shape[1]))
    for seg in range(k):
        members = labels == seg
        if members.any():
            centers[seg] = X[members].mean(axis=0)
    return centers


def canonical_order(labels: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Permutation putting segments by size (largest first), then by centre coordinates."""
    k = len(centers)
    sizes = np.bincount(labels[labels >= 0], minlength=k)
    keys = [(-int(sizes[j]), *np.round(centers[j], 9).tolist()) for j in range(k)]
    return np.array(sorted(range(k), key=lambda j: keys[j]), dtype=np.int64)


def finish(
    algorithm: str, X: np.ndarray, assigner: Assigner, k: int, info: dict[str, Any] | None = None
) -> Fitted:
    """Label every training row with ``assigner`` and put segments in canonical order.

    A segment that gets no customer (a mixture component that is nowhere the most
    probable) is dropped, and counted in ``info["empty_segments_dropped"]``.
    """
    info = dict(info or {})
    labels, _ = assigner.predict(X)
    centers = segment_means(X, labels, k)
    order = canonical_order(labels, centers)
    sizes = np.bincount(labels[labels >= 0], minlength=k)
    if (sizes == 0).any():
        info["empty_segments_dropped"] = int((sizes == 0).sum())
        order = order[sizes[order] > 0]
    assigner = assigner.permuted(order)
    centers = centers[order]
    if isinstance(assigner, CentroidAssigner):
        assigner = CentroidAssigner(centers)
    labels, confidence = assigner.predict(X)
    return Fitted(algorithm, labels, confidence, centers, assigner, info)
