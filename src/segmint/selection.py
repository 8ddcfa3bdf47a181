"""Choosing the number of segments, and saying when there are none.

For every k in the range (default 1..10) k-means (k-means++ starts) partitions a sample
of the customers, and every index is computed and reported per k:

* WCSS (within-cluster sum of squares) and its knee (Kneedle, Satopää et al. 2011);
* silhouette: exact up to :data:`SILHOUETTE_EXACT` customers, otherwise on a random
  sample of :data:`SILHOUETTE_SAMPLED` with a 95% confidence interval;
* Calinski-Harabasz and Davies-Bouldin;
* the gap statistic (Tibshirani, Walther & Hastie 2001) with reference data drawn
  uniformly from the box aligned with the principal components or with the features,
  whichever is tighter (smaller volume), and its standard error;
* BIC and AIC of a full-covariance Gaussian mixture with k components;
* stability: mean adjusted Rand index of k-means refits on bootstrap resamples
  (:mod:`segmint.stability`).

The rule (``k="auto"``):

1. **Are there distinct segments?** Two tests must both say yes.
   *Gap*: some k >= 2 is more clustered than uniform noise in the reference box
   by more than one standard error of the gap, ``max_k (Gap(k) - s_k) > Gap(1)``, and
   the k of step 2 is itself: ``Gap(k) - Gap(1)`` at least :data:`GAP_Z` (2) standard
   errors of that difference, ``sqrt(s_k^2 + s_1^2)`` (uniform noise in a square passed
   the first half through a lucky k = 8 and the dip test by chance at k = 2 on 3 of 50
   draws). When the k of the 1-standard-error rule fails this, the smallest stable k that
   passes it is taken instead (a first plateau no higher than one segment is no answer).
   *Dip*: at the k of step 2, some pair of neighbouring segments (relative neighbours: no
   third centre closer to both than they are to each other) is separated by a dip in
   density: Hartigan's dip test
   rejects unimodality of their customers projected on the line through the two centres
   (5% level, Bonferroni-corrected over the pairs tested). The gap alone is fooled by
   skewed or heavy-tailed continua, which are never uniform; the dip alone by tiny samples.
   On small samples the dip lacks power between groups of a few dozen customers, so
   segments that are both well separated (silhouette at least :data:`CLEAR_STRUCTURE`,
   "reasonable structure" for Kaufman & Rousseeuw) and stable (bootstrap ARI at least
   :data:`~segmint.stability.STABLE_ARI`) also count as the second witness.
2. **How many?** Tibshirani's 1-standard-error rule from k = 2: the smallest k with
   ``Gap(k) >= Gap(k+1) - s_{k+1}``. Unstable candidates are penalised: among the ks from
   2 to that k, the largest stable one is taken — stability being the mean bootstrap ARI
   of k-means (:data:`STABILITY_ROUNDS` resamples), stable meaning at least
   :data:`~segmint.stability.STABLE_ARI`, or within :data:`STABILITY_TOLERANCE` of the
   most stable k when none reaches it, but never below :data:`STABILITY_FLOOR` (0.6, the
   bootstrap agreement under which Hennig (2007) reads a cluster as no stable pattern):
   when no k from 2 to the gap's k reaches the floor there are no distinct segments
   (uniform noise is unstable at every k, and the bar must not follow it down).
   When the gap keeps rising to the end of the range
   (no k satisfies the rule: typical of many customers forming a continuum, where the
   standard errors are tiny), the gap cannot say how many, and the stable k with the
   best silhouette is taken. The gap alone keeps splitting tight groups whose
   members vary in fewer directions than the reference box (one-hot categories, constant
   features), and such splits do not come back on resampled customers.
   When the silhouette of some k from 2 to the gap's k is at least
   :data:`STRONG_SILHOUETTE` ("strong structure" in Kaufman & Rousseeuw's reading), the
   best such silhouette decides instead: clear-cut groups are not split further.
   The 1-standard-error rule stops at the first plateau of the gap curve; when a larger k
   has a silhouette of at least :data:`CLEAR_STRUCTURE` (and better than the chosen k's)
   and a gap higher than the chosen k's by more than its standard error, the groups seen
   at the plateau are merges of clearer ones, and that k (the best such silhouette)
   decides instead.
   In automatic mode at most one segment per :data:`MIN_SEGMENT_SIZE` customers is
   considered.
3. With distinct segments that k is the answer. Without, the answer is k = 1 with the
   message "no distinct segments; the groups below are a partition of a continuum"; a
   range starting above 1 or a forced k still gives a partition, labelled as such. For a
   partition of a continuum the suggested k is the earlier rule of segmint for weak
   structure: among the ks whose silhouette is at least 80% of the best, the one nearest
   the WCSS knee.

Silhouette, Calinski-Harabasz, Davies-Bouldin, the knee and BIC do not vote; each one's
own choice is reported (``votes``) so a user sees where the indices agree.
"""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score
from sklearn.mixture import GaussianMixture

from segmint.algorithms.base import (
    draw_sample,
    nearest_centers,
    seed_of,
    sweep_kmeans,
)
from segmint.stability import STABLE_ARI, kmeans_bootstrap_ari
from segmint.structure import GAP_REFERENCES, dip_test, gap_statistic
from segmint.threads import single_thread

NO_STRUCTURE = "no distinct segments; the groups below are a partition of a continuum"
SILHOUETTE_TOLERANCE = 0.80
SELECTION_SAMPLE = 10_000
SILHOUETTE_EXACT = 10_000
SILHOUETTE_SAMPLED = 3_000
CLEAR_STRUCTURE = 0.5
GAP_SAMPLE = 1_000
BIC_SAMPLE = 1_000
DIP_ALPHA = 0.05
GAP_Z = 2.0
STABILITY_TOLERANCE = 0.05
STABILITY_FLOOR = 0.6
STRONG_SILHOUETTE = 0.71
STABILITY_ROUNDS = 10
DEFAULT_RANGE = (1, 10)
MIN_SEGMENT_SIZE = 10


@dataclass(frozen=True)
class KScore:
    """Indices of one candidate k (None where an index is undefined)."""

    k: int
    wcss: float
    silhouette: float | None = None
    silhouette_ci: list[float] | None = None
    calinski_harabasz: float | None = None
    davies_bouldin: float | None = None
    gap: float | None = None
    gap_se: float | None = None
    bic: float | None = None
    aic: float | None = None
    stability: float | None = None


@dataclass(frozen=True)
class Selection:
    """How k was chosen.

    Attributes
    ----------
    k : int
        The number of segments.
    mode : {"auto", "fixed", "range"}
    rule : str
        The decision rule in words.
    reasons : list of str
        Why this k, in plain sentences.
    scores : list of KScore
        The per-k table.
    knee : int or None
        Knee of the WCSS curve.
    sample_size : int
        Customers the sweep ran on.
    structure : bool
        Whether the data shows distinct segments (both tests of step 1).
    message : str or None
        :data:`NO_STRUCTURE` when there are none.
    structure_test : dict
        The figures of the two tests.
    votes : dict
        The k each index would choose on its own.
    continuum_k : int or None
        The suggested k for a partition of a continuum.
    final_check : dict
        When the final model failed its stability check and was replaced: the rejected
        ``k``, its ``family`` and ``bootstrap_ari``, and the ``outcome`` (``"fallback"``
        to the best-supported k, or ``"none"``: no reliable segments). Empty otherwise.
    """

    k: int
    mode: str
    rule: str
    reasons: list[str]
    scores: list[KScore] = field(default_factory=list)
    knee: int | None = None
    sample_size: int = 0
    structure: bool = True
    message: str | None = None
    structure_test: dict[str, Any] = field(default_factory=dict)
    votes: dict[str, int | None] = field(default_factory=dict)
    continuum_k: int | None = None
    final_check: dict[str, Any] = field(default_factory=dict)

    def score(self, k: int) -> KScore | None:
        """The row of ``k`` in the table."""
        return next((s for s in self.scores if s.k == k), None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "k": self.k,
            "mode": self.mode,
            "rule": self.rule,
            "reasons": list(self.reasons),
            "structure": self.structure,
            "message": self.message,
            "structure_test": dict(self.structure_test),
            "votes": dict(self.votes),
            "knee": self.knee,
            "continuum_k": self.continuum_k,
            "sample_size": self.sample_size,
            "final_check": dict(self.final_check),
            "scores": [asdict(score) for score in self.scores],
        }


RULE = (
    "distinct segments when the gap statistic exceeds k = 1 by more than one standard error "
    "at some k and neighbouring segments are separated by a density dip (Hartigan's dip test) "
    f"or by a silhouette >= {CLEAR_STRUCTURE} with bootstrap stability >= {STABLE_ARI}; "
    "then the gap's 1-standard-error k, or the largest smaller k that is stable (bootstrap ARI "
    f">= {STABLE_ARI}, or within {STABILITY_TOLERANCE} of the most stable k when none reaches "
    f"it, never below {STABILITY_FLOOR}; none at or above it: no distinct segments) "
    f"(a silhouette >= {STRONG_SILHOUETTE} "
    f"decides among them; a larger k with a silhouette >= {CLEAR_STRUCTURE} and a gap higher by "
    f"more than one standard error replaces it); otherwise k = 1 ({NO_STRUCTURE})"
)


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


def silhouettes(X: np.ndarray, partitions: list[np.ndarray], chunk: int = 512) -> list[np.ndarray]:
    """Silhouette width of every row under each partition, sharing one pass over distances.

    Equal to scikit-learn's ``silhouette_samples`` (0 for members of one-customer
    segments), computed for several partitions with a single distance computation.
    """
    n = len(X)
    onehots = [np.eye(int(labels.max()) + 1)[labels] for labels in partitions]
    sizes = [onehot.sum(axis=0) for onehot in onehots]
    sums = [np.zeros((n, onehot.shape[1])) for onehot in onehots]
    sq = (X**2).sum(axis=1)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        d2 = sq[start:stop, None] - 2.0 * X[start:stop] @ X.T + sq[None, :]
        d = np.sqrt(np.maximum(d2, 0.0))
        d[np.arange(stop - start), np.arange(start, stop)] = 0.0
        for total, onehot in zip(sums, onehots, strict=True):
            total[start:stop] = d @ onehot
    out = []
    for labels, total, size in zip(partitions, sums, sizes, strict=True):
        rows = np.arange(n)
        own = size[labels]
        with np.errstate(invalid="ignore", divide="ignore"):
            a = np.where(own > 1, total[rows, labels] / np.maximum(own - 1, 1), 0.0)
            means = total / np.maximum(size, 1)[None, :]
        means[rows, labels] = np.inf
        means[:, size == 0] = np.inf
        b = means.min(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            s = np.where(own > 1, (b - a) / np.maximum(a, b), 0.0)
        out.append(np.nan_to_num(s, nan=0.0))
    return out


def score_k(
    X: np.ndarray, labels: np.ndarray, wcss: float, k: int, rng: np.random.Generator
) -> KScore:
    """Silhouette, Calinski-Harabasz and Davies-Bouldin of one partition.

    The silhouette is exact up to :data:`SILHOUETTE_EXACT` rows, otherwise computed on a
    random sample of :data:`SILHOUETTE_SAMPLED` with a 95% confidence interval.
    """
    present = len(np.unique(labels))
    if k < 2 or present < 2 or present >= len(X):
        return KScore(k=k, wcss=wcss)
    idx = (
        np.arange(len(X))
        if len(X) <= SILHOUETTE_EXACT
        else draw_sample(len(X), SILHOUETTE_SAMPLED, rng)
    )
    _, sub_labels = np.unique(labels[idx], return_inverse=True)
    widths = silhouettes(np.asarray(X[idx], dtype=float), [sub_labels])[0]
    ci = None
    if len(idx) < len(X):
        half = 1.96 * float(widths.std(ddof=1)) / math.sqrt(len(widths))
        ci = [round(float(widths.mean()) - half, 6), round(float(widths.mean()) + half, 6)]
    return KScore(
        k=k,
        wcss=wcss,
        silhouette=float(widths.mean()) if len(np.unique(sub_labels)) >= 2 else None,
        silhouette_ci=ci,
        calinski_harabasz=float(calinski_harabasz_score(X, labels)),
        davies_bouldin=float(davies_bouldin_score(X, labels)),
    )


def _first_se_k(gap: dict[int, float], se: dict[int, float], ks: list[int]) -> int:
    """Tibshirani's rule over ``ks``: the smallest k with Gap(k) >= Gap(k+1) - s_(k+1)."""
    for a, b in itertools.pairwise(ks):
        if gap[a] >= gap[b] - se[b]:
            return a
    return ks[-1]


def continuum_k(scores: list[KScore], knee: int | None, low: int, high: int) -> int | None:
    """Suggested k for a partition of a continuum: silhouette within 80% of the best,
    nearest the WCSS knee (the smaller k on a tie); no knee: the best silhouette."""
    rated = [s for s in scores if s.silhouette is not None and low <= s.k <= high]
    if not rated:
        return None
    best = max(rated, key=lambda s: s.silhouette or -1.0)
    assert best.silhouette is not None
    threshold = best.silhouette * SILHOUETTE_TOLERANCE if best.silhouette > 0 else best.silhouette
    candidates = [s for s in rated if (s.silhouette or -1.0) >= threshold]
    if knee is None:
        return best.k
    return min(candidates, key=lambda s: (abs(s.k - knee), s.k)).k


def _bic_aic(X: np.ndarray, k: int, seed: int) -> tuple[float | None, float | None]:
    if len(X) <= k or len(X) < 2:
        return None, None
    scale = float(X.var(axis=0).mean())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = GaussianMixture(
            n_components=k, covariance_type="full", random_state=seed, init_params="k-means++",
            reg_covar=1e-6 * (scale if scale > 0 else 1.0),
        ).fit(X)  # fmt: skip
    return float(model.bic(X)), float(model.aic(X))


def _argbest(values: dict[int, float | None], *, largest: bool) -> int | None:
    rated = {k: v for k, v in values.items() if v is not None and math.isfinite(v)}
    if not rated:
        return None
    sign = -1.0 if largest else 1.0
    return min(rated, key=lambda k: (sign * rated[k], k))


def choose_k(
    X: np.ndarray,
    k_range: tuple[int, int] = DEFAULT_RANGE,
    *,
    random_state: int | None = 0,
    fixed: int | None = None,
    mode: str | None = None,
    references: int = GAP_REFERENCES,
    stability_rounds: int = STABILITY_ROUNDS,
) -> Selection:
    """Choose the number of segments by the module's rule, with every index per k.

    Parameters
    ----------
    X : ndarray of shape (n_customers, n_features)
        Prepared matrix.
    k_range : (int, int)
        Smallest and largest k to consider, inclusive (default 1..10).
    random_state : int or None
        Seed of every random choice (samples, k-means starts, reference data).
    fixed : int, optional
        A given k: the indices and the null-structure test are still computed (over
        1..10 and this k) so a partition of a continuum is labelled as such.
    mode : {"auto", "range", "fixed"}, optional
        How k was asked for (inferred when not given).
    references : int
        Reference data sets of the gap statistic.
    stability_rounds : int
        Bootstrap refits per k for the stability column.

    Returns
    -------
    Selection
    """
    with single_thread():
        return _choose_k(X, k_range, random_state, fixed, mode, references, stability_rounds)


def _choose_k(
    X: np.ndarray,
    k_range: tuple[int, int],
    random_state: int | None,
    fixed: int | None,
    mode: str | None,
    references: int,
    stability_rounds: int,
) -> Selection:
    rng = np.random.default_rng(random_state)
    n = len(X)
    low, high = k_range
    if mode is None:
        mode = "fixed" if fixed is not None else "auto" if k_range == DEFAULT_RANGE else "range"
    idx = draw_sample(n, SELECTION_SAMPLE, rng)
    sample = np.asarray(X[idx], dtype=float)
    m = len(sample)
    if fixed is not None:
        wanted = sorted({*range(1, DEFAULT_RANGE[1] + 1), fixed})
        struct_low, struct_high = 2, DEFAULT_RANGE[1]
    else:
        wanted = sorted({1, *range(max(low, 2), high + 1)})
        struct_low, struct_high = max(low, 2), high
    ks = [k for k in wanted if k == 1 or k <= m - 1]
    if mode == "auto":
        # A segment of fewer than MIN_SEGMENT_SIZE customers on average describes nobody.
        ks = [k for k in ks if k <= max(struct_low, n // MIN_SEGMENT_SIZE)]
    struct_ks = [k for k in ks if struct_low <= k <= struct_high]
    total = float(((sample - sample.mean(axis=0)) ** 2).sum())
    if not struct_ks or total == 0.0:
        k = fixed if fixed is not None else 1
        why = (
            f"{n} customers are too few to look for segments"
            if total > 0 or n < 3
            else "all customers are identical"
        )
        return Selection(
            k=k,
            mode=mode,
            rule=RULE,
            reasons=[why] if fixed is None else [f"k = {k} was given", why],
            scores=[KScore(k=1, wcss=total)], sample_size=m, structure=False,
            structure_test={"gap_null": None, "dip": None},
        )  # fmt: skip

    n_init = 10 if m <= 2_000 else 4
    labels: dict[int, np.ndarray] = {1: np.zeros(m, dtype=np.int64)}
    centers: dict[int, np.ndarray] = {1: sample.mean(axis=0, keepdims=True)}
    wcss: dict[int, float] = {1: total}
    for k in ks[1:]:
        wcss[k], centers[k] = sweep_kmeans(sample, k, rng, n_init)
        labels[k] = nearest_centers(sample, centers[k])[0]

    # Silhouette: exact on up to SILHOUETTE_EXACT customers, else sampled with a 95% CI.
    multi = [k for k in ks if k >= 2 and len(np.unique(labels[k])) >= 2]
    sil: dict[int, float] = {}
    sil_ci: dict[int, list[float]] = {}
    if multi:
        sub = np.arange(m) if n <= SILHOUETTE_EXACT else draw_sample(m, SILHOUETTE_SAMPLED, rng)
        widths = silhouettes(sample[sub], [labels[k][sub] for k in multi])
        for k, w in zip(multi, widths, strict=True):
            sil[k] = float(w.mean())
            if len(sub) < m:
                half = 1.96 * float(w.std(ddof=1)) / math.sqrt(len(w))
                sil_ci[k] = [round(sil[k] - half, 6), round(sil[k] + half, 6)]

    gap_rows = draw_sample(m, GAP_SAMPLE, rng)
    gap_sample = sample[gap_rows]
    if len(gap_rows) == m:
        gap_wcss = {k: wcss[k] for k in ks}
    else:
        gap_wcss = {1: float(((gap_sample - gap_sample.mean(axis=0)) ** 2).sum())}
        for k in ks[1:]:
            gap_wcss[k] = sweep_kmeans(gap_sample, k, rng, n_init)[0]
    gap, gap_se = gap_statistic(gap_sample, gap_wcss, rng, references=references)

    bic_sample = sample[draw_sample(m, BIC_SAMPLE, rng)]
    seeds = [seed_of(rng) for _ in ks[1:]]
    aris = [
        kmeans_bootstrap_ari(
            sample, centers[k], np.random.default_rng(seed), rounds=stability_rounds
        )
        for k, seed in zip(ks[1:], seeds, strict=True)
    ]
    stability = dict(zip(ks[1:], aris, strict=True))

    scores = []
    for k in ks:
        bic, aic = _bic_aic(bic_sample, k, seed_of(rng))
        rated = k in sil
        scores.append(
            KScore(
                k=k, wcss=wcss[k],
                silhouette=sil.get(k), silhouette_ci=sil_ci.get(k),
                calinski_harabasz=(
                    float(calinski_harabasz_score(sample, labels[k])) if rated else None
                ),
                davies_bouldin=float(davies_bouldin_score(sample, labels[k])) if rated else None,
                gap=gap[k], gap_se=gap_se[k], bic=bic, aic=aic, stability=stability.get(k),
            )
        )  # fmt: skip

    curve = [k for k in ks if k <= struct_high]
    knee_x = knee_point(np.array(curve), np.array([wcss[k] for k in curve]))
    knee = int(knee_x) if knee_x is not None else None

    # Step 1 (gap part) and step 2.
    gap_margin = max(gap[k] - gap_se[k] for k in struct_ks) - gap[1]
    gap_null = gap_margin <= 0
    k_gap = _first_se_k(gap, gap_se, struct_ks)
    reasons: list[str] = []
    upto = [k for k in struct_ks if k <= k_gap]
    most = max(stability[k] for k in upto)
    # The tolerance lets a nearly-as-stable larger k through, but never below the floor:
    # otherwise noise, where every k is unstable, moves the bar down to its own level.
    bar = max(STABILITY_FLOOR, min(STABLE_ARI, most - STABILITY_TOLERANCE))
    floored = most < STABILITY_FLOOR
    k_struct = max((k for k in upto if stability[k] >= bar), default=max(upto))
    rising = len(struct_ks) > 2 and not any(
        gap[a] >= gap[b] - gap_se[b] for a, b in itertools.pairwise(struct_ks)
    )
    if rising:
        stable = {k: sil[k] for k in upto if stability[k] >= bar and k in sil}
        if stable:
            k_struct = max(stable, key=lambda k: (stable[k], -k))
            step = (
                f"the gap keeps rising up to k = {k_gap} (no 1-standard-error plateau in the "
                f"range), so it cannot say how many; of the stable ks (bootstrap ARI >= "
                f"{bar:.2f}), k = {k_struct} has the best silhouette ({stable[k_struct]:.2f})"
            )
    elif floored:
        step = (
            f"no k up to the gap's k = {k_gap} is stable: the best bootstrap ARI is {most:.2f} < "
            f"{STABILITY_FLOOR} (Hennig's floor for a stable pattern)"
        )
    elif k_struct == k_gap:
        step = f"k = {k_gap} is stable (bootstrap ARI {stability[k_gap]:.2f} >= {bar:.2f})"
    else:
        step = (
            f"k = {k_gap} is unstable (bootstrap ARI {stability[k_gap]:.2f} < {bar:.2f}); "
            f"k = {k_struct} ({stability[k_struct]:.2f}) is the largest stable k up to the gap's"
        )
    strong = {k: sil[k] for k in upto if k in sil and sil[k] >= STRONG_SILHOUETTE}
    if strong:
        k_sil = max(strong, key=lambda k: (strong[k], -k))
        if k_sil != k_struct:
            step += (
                f"; the silhouette shows strong structure at k = {k_sil} ({strong[k_sil]:.2f} >= "
                f"{STRONG_SILHOUETTE}, Kaufman & Rousseeuw), which decides"
            )
            k_struct = k_sil
    later = {k: sil[k] for k in struct_ks if k > k_struct and k in sil}
    if later and not strong:
        k_late = max(later, key=lambda k: (later[k], -k))
        if (
            later[k_late] >= CLEAR_STRUCTURE
            and later[k_late] > sil.get(k_struct, -1.0)
            and gap[k_late] >= gap[k_struct] + gap_se[k_late]
        ):
            step += (
                f"; k = {k_late} is clearly more clustered (silhouette {later[k_late]:.2f} >= "
                f"{CLEAR_STRUCTURE}, gap {gap[k_late]:.3f} above k = {k_struct}'s "
                f"{gap[k_struct]:.3f} by more than one standard error), which decides"
            )
            k_struct = k_late

    def weak(k: int) -> bool:
        return gap[k] - gap[1] < GAP_Z * float(np.hypot(gap_se[k], gap_se[1]))

    if weak(k_struct) and not floored:
        # The first plateau of the gap is no higher than one segment's: not the answer.
        # The smallest stable k (bootstrap ARI >= STABLE_ARI, no tolerance: this passes the
        # plateau over) clearly above k = 1 is the next candidate.
        beyond = [
            k for k in struct_ks if k > k_struct and stability[k] >= STABLE_ARI and not weak(k)
        ]
        if beyond:
            k_next = min(beyond)
            step += (
                f"; k = {k_struct}'s gap is within {GAP_Z:g} standard errors of one segment's, "
                f"and k = {k_next} is the smallest stable k clearly above it (gap "
                f"{gap[k_next]:.3f} vs {gap[1]:.3f}, bootstrap ARI {stability[k_next]:.2f}), "
                "which decides"
            )
            k_struct = k_next
    dip = dip_test(sample, labels[k_struct], centers[k_struct])
    separated = (
        sil.get(k_struct, -1.0) >= CLEAR_STRUCTURE and stability.get(k_struct, 0.0) >= STABLE_ARI
    )
    # The k finally chosen must itself beat k = 1 on the gap, by GAP_Z standard errors of
    # the difference: a k whose gap is within noise of one segment's is no evidence, even
    # when some other k cleared the gap's bar (noise in a square: a lucky k = 8, a split
    # at k = 2 that the dip test passes by chance).
    own = gap[k_struct] - gap[1]
    own_se = float(np.hypot(gap_se[k_struct], gap_se[1]))
    own_weak = weak(k_struct)
    structure = (
        not gap_null and not floored and not own_weak
        and (dip["p_value"] < DIP_ALPHA or separated)
    )  # fmt: skip
    suggestion = continuum_k(scores, knee, struct_low, struct_high)

    capped = mode == "auto" and max(struct_ks) < struct_high and max(struct_ks) < m - 1
    if capped:
        reasons.append(
            f"at most k = {max(struct_ks)} considered: a segment needs {MIN_SEGMENT_SIZE} "
            "customers on "
            f"average ({n:,} customers)"
        )
    if gap_null:
        reasons.append(
            "gap statistic: no k is more clustered than uniform noise in the data's box (along "
            "the principal components or the features, whichever is tighter) by more than one "
            f"standard error (best margin {gap_margin:+.3f})"
        )
    else:
        reasons.append(
            "gap statistic: more clustered than uniform noise "
            f"(margin {gap_margin:+.3f} over k = 1); "
            f"the 1-standard-error rule gives k = {k_gap}"
        )
        reasons.append(step)
        if own_weak and not floored:
            reasons.append(
                f"but k = {k_struct} is hardly more clustered than one segment: its gap is "
                f"{own:+.3f} above k = 1's, less than {GAP_Z:g} standard errors of the "
                f"difference ({GAP_Z * own_se:.3f})"
            )
        elif dip["p_value"] < DIP_ALPHA:
            reasons.append(
                f"segments {dip['pair'][0]} and {dip['pair'][1]} of k = {k_struct} are separated "
                "by a dip "
                f"in density (Hartigan's dip test, corrected p = {dip['p_value']:.2g})"
            )
        elif separated:
            reasons.append(
                f"no density dip between neighbouring segments at k = {k_struct} (smallest "
                f"corrected p = {dip['p_value']:.2g}), but they are well separated (silhouette "
                f"{sil[k_struct]:.2f} >= {CLEAR_STRUCTURE}) and stable (bootstrap ARI "
                f"{stability[k_struct]:.2f} >= {STABLE_ARI})"
            )
        else:
            reasons.append(
                f"no pair of neighbouring segments at k = {k_struct} is separated by a dip in "
                "density "
                f"(Hartigan's dip test, smallest corrected p = {dip['p_value']:.2g} >= {DIP_ALPHA})"
            )
    if fixed is not None:
        k = fixed
        reasons.insert(0, f"k = {fixed} was given")
    elif structure:
        k = k_struct
    elif low <= 1:
        k = 1
        if suggestion is not None:
            reasons.append(
                f"for a partition of the continuum k = {suggestion} is suggested "
                "(silhouette within "
                f"{SILHOUETTE_TOLERANCE:.0%} of the best, nearest the WCSS knee)"
            )
    else:
        k = suggestion if suggestion is not None else struct_low
        reasons.append(
            f"k = {k} partitions the continuum (silhouette within "
            f"{SILHOUETTE_TOLERANCE:.0%} of the best, "
            "nearest the WCSS knee)"
        )
    if structure:
        reasons.append(
            f"distinct segments: k = {k_struct}"
            + ("" if k == k_struct else f" (k = {k} was asked for)")
        )
    else:
        reasons.append(
            NO_STRUCTURE if k > 1 else "no distinct segments: the customers form one continuum"
        )
    votes = {
        "gap": 1 if gap_null else k_gap,
        "silhouette": _argbest({k: sil.get(k) for k in struct_ks}, largest=True),
        "calinski_harabasz": _argbest(
            {s.k: s.calinski_harabasz for s in scores if s.k in struct_ks}, largest=True
        ),
        "davies_bouldin": _argbest(
            {s.k: s.davies_bouldin for s in scores if s.k in struct_ks}, largest=False
        ),
        "knee": knee,
        "bic": _argbest({s.k: s.bic for s in scores if s.k <= struct_high}, largest=False),
        "stability": _argbest({k: stability[k] for k in struct_ks}, largest=True),
    }
    return Selection(
        k=k,
        mode=mode,
        rule=RULE,
        reasons=reasons,
        scores=scores,
        knee=knee,
        sample_size=m,
        structure=structure,
        message=None if structure else NO_STRUCTURE,
        structure_test={
            "gap_null": gap_null,
            "gap_margin": round(gap_margin, 6),
            "gap_k": k_gap,
            "k_tested": k_struct,
            "own_gap": round(own, 6),
            "own_gap_se": round(own_se, 6),
            "own_gap_z": GAP_Z,
            "dip": dip,
            "dip_alpha": DIP_ALPHA,
            "gap_references": references,
            "gap_sample_size": len(gap_rows),
        },
        votes=votes,
        continuum_k=suggestion,
    )
