"""Clustering: the scikit-learn estimator :class:`Segmenter` and :func:`fit_segmentation`.

:func:`fit_segmentation` is the whole modelling step on a prepared matrix: choose k and
test for structure (:mod:`segmint.selection`), choose the family (``auto``,
:mod:`segmint.algorithms.auto`) or use the one asked for (:mod:`segmint.algorithms`), fit
on all customers (families that need it fit on a sample and assign the rest), then
measure stability (:mod:`segmint.stability`) and validity (:mod:`segmint.validity`).

Segment ids run from 0 to k - 1 in order of size, largest first (ties broken by the
centroid's coordinates), so the same data gives the same ids whatever the row order;
-1 is the "unassigned" group of HDBSCAN.

Confidence of an assignment: ``1 - d1 / d2`` for centre-based families (d1 and d2 are
the distances to the nearest and the second-nearest segment centre; 1 means squarely
inside a segment, 0 on the boundary between two), the posterior probability for the
Gaussian mixture, and ``1 - r1 / r2`` over core points for Genie, HDBSCAN and DBSCAN
(r1 and r2: distances to the 5th nearest core point of the customer's segment and of the
closest other segment; see :mod:`segmint.algorithms.base`). With one segment every
confidence is 1. The training customers' confidence is the saved rule's, so ``assign``
gives them the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from segmint.algorithms import FAMILIES, Fitted, check_algorithm, fit_family
from segmint.algorithms import kmeans as kmeans_family
from segmint.algorithms.auto import STABILITY_TOLERANCE, AlgorithmChoice, choose_algorithm
from segmint.algorithms.base import CorePointAssigner, nearest_centers
from segmint.errors import UsageError
from segmint.prepare import Preparation, fit_preparation
from segmint.selection import DEFAULT_RANGE, STABILITY_FLOOR, Selection, choose_k
from segmint.stability import STABLE_ARI, Stability, model_stability
from segmint.threads import single_thread
from segmint.validity import Validity, discriminant_check, validity_warnings

__all__ = [
    "FINAL_N_INIT",
    "KMeansFit",
    "KSpec",
    "SegmentFit",
    "Segmenter",
    "fit_kmeans",
    "fit_segmentation",
    "nearest_centers",
    "parse_k",
]

KSpec = str | int | tuple[int, int]
DEFAULT_K_RANGE = (2, 10)
FINAL_N_INIT = 10
WORKING_ROWS = 50_000
REFIT_N_INIT = 3
CORE_POINTS = 500
DETERMINISTIC = ("ward", "genie", "birch")  # the same answer for every seed


def parse_k(k: object) -> tuple[str, tuple[int, int]]:
    """Read a k specification: ``"auto"``, an int, ``(min, max)`` or a string ``"3-8"``.

    Returns
    -------
    mode : {"auto", "fixed", "range"}
    bounds : (int, int)
        Inclusive range (equal ends for a fixed k).

    Raises
    ------
    UsageError
        Anything else, or k below 1.
    """
    if isinstance(k, str):
        text = k.strip().lower()
        if text == "auto":
            return "auto", DEFAULT_K_RANGE
        parts = text.split("-")
        try:
            numbers = [int(p) for p in parts]
        except ValueError:
            raise UsageError(f"k must be 'auto', a number or a range like 3-8, not {k!r}") from None
        if len(numbers) == 1:
            k = numbers[0]
        elif len(numbers) == 2:
            k = (numbers[0], numbers[1])
        else:
            raise UsageError(f"k must be 'auto', a number or a range like 3-8, not {k!r}")
    if isinstance(k, (bool, np.bool_)):
        raise UsageError(f"k must be 'auto', a number or a range, not {k!r}")
    if isinstance(k, (int, np.integer)):
        if k < 1:
            raise UsageError(f"k must be at least 1, not {k}")
        return "fixed", (int(k), int(k))
    if isinstance(k, tuple) and len(k) == 2 and all(isinstance(v, (int, np.integer)) for v in k):
        low, high = int(k[0]), int(k[1])
        if low < 1 or high < low:
            raise UsageError(f"k range must be MIN-MAX with 1 <= MIN <= MAX, not {low}-{high}")
        return "range", (low, high)
    raise UsageError(f"k must be 'auto', a number or a (min, max) range, not {k!r}")


@dataclass(frozen=True)
class KMeansFit:
    """A fitted partition in the prepared space."""

    centers: np.ndarray
    labels: np.ndarray
    confidence: np.ndarray
    selection: Selection


def fit_kmeans(
    X: np.ndarray, k: KSpec = "auto", *, random_state: int | None = 0, n_init: int = FINAL_N_INIT
) -> KMeansFit:
    """Choose k (when asked) and fit k-means on the prepared matrix.

    k-means only, without the stability and validity figures of
    :func:`fit_segmentation`; kept for the comparison of candidate ks.

    Parameters
    ----------
    X : ndarray
        Prepared matrix, one row per customer.
    k : "auto", int or (min, max)
        See :func:`parse_k`.
    random_state : int or None
        Seed of every random choice.
    n_init : int
        k-means++ starts of the final fit.

    Raises
    ------
    UsageError
        A fixed k larger than the number of customers.
    """
    mode, (low, high) = parse_k(k)
    n = len(X)
    if mode == "fixed":
        if low > n:
            raise UsageError(f"k = {low} is larger than the number of customers (n_samples = {n})")
        selection = Selection(
            k=low, mode="fixed", rule="given", reasons=[f"k = {low} was given"], sample_size=n
        )
    else:
        if low > n:
            raise UsageError(f"k range {low}-{high} starts above the number of customers ({n})")
        bounds = DEFAULT_RANGE if mode == "auto" else (low, high)
        selection = choose_k(X, bounds, random_state=random_state)
        selection = replace(selection, mode=mode)
    k_final = selection.k
    _check_distinct(X, k_final)
    fitted = kmeans_family.fit(X, k_final, np.random.default_rng(random_state), n_init=n_init)
    return KMeansFit(fitted.centers, fitted.labels, fitted.confidence, selection)


def _snap(X: np.ndarray) -> np.ndarray:
    """``X`` rounded to 12 significant digits of each column's scale, so that values equal
    but for the last bits of floating-point arithmetic (sums in another row order) are
    equal and give the same segments."""
    if X.size == 0:
        return X
    peak = np.abs(X).max(axis=0)
    scale = 10.0 ** np.floor(np.log10(np.where(peak > 0, peak, 1.0)))
    return np.round(X / scale, 12) * scale


def working_rows(X: np.ndarray, size: int, seed: int | None) -> np.ndarray:
    """Indices of the rows the model is built on, in an order set by their values alone.

    Up to ``size`` rows: all of them. Above, a pseudo-random sample of ``size`` rows chosen
    by a key computed from each row's values (the fractional part of a scaled random
    projection), so the sample, like everything drawn from it, does not depend on the
    order of the rows. Rows are ordered by two random projections (a full lexicographic
    sort only when different rows tie).
    """
    n = len(X)
    if n == 0:
        return np.arange(0)
    weights = np.random.default_rng([20260101, seed or 0]).normal(size=(X.shape[1], 2))
    projected = X @ weights
    if n > size:
        key = np.modf(projected[:, 0] * 7919.0)[0] % 1.0
        rows = np.argpartition(key, size - 1)[:size]
    else:
        rows = np.arange(n)
    order = rows[np.lexsort((projected[rows, 1], projected[rows, 0]))]
    p = projected[order]
    ties = (np.diff(p[:, 0]) == 0) & (np.diff(p[:, 1]) == 0)
    if ties.any():
        values = X[order]
        if (values[1:][ties] != values[:-1][ties]).any():
            order = rows[np.lexsort(X[rows].T[::-1])]
    return order


def _condensed(fitted: Fitted, rng: np.random.Generator) -> Fitted:
    """Core points thinned to :data:`CORE_POINTS` (a stratified random subset; HDBSCAN's
    radii widened to cover the points left out) before labelling very many customers."""
    rule = fitted.assigner
    if not isinstance(rule, CorePointAssigner) or len(rule.points) <= CORE_POINTS:
        return fitted
    keep = []
    for seg in range(int(rule.labels.max()) + 1):
        members = np.flatnonzero(rule.labels == seg)
        take = max(1, round(CORE_POINTS * len(members) / len(rule.labels)))
        keep.append(np.sort(rng.choice(members, size=min(take, len(members)), replace=False)))
    kept = np.concatenate(keep)
    radius = None
    if rule.radius is not None:
        radius = rule.radius[kept].copy()
        dropped = np.setdiff1d(np.arange(len(rule.points)), kept)
        for seg in range(int(rule.labels.max()) + 1):
            own_kept = kept[rule.labels[kept] == seg]
            own_dropped = dropped[rule.labels[dropped] == seg]
            if not len(own_dropped):
                continue
            distance, nearest = cKDTree(rule.points[own_kept]).query(rule.points[own_dropped], k=1)
            reach = distance + rule.radius[own_dropped]
            position = np.searchsorted(kept, own_kept[nearest])
            np.maximum.at(radius, position, reach)
    thinned = CorePointAssigner(rule.points[kept], rule.labels[kept], radius)
    return replace(fitted, assigner=thinned, info={**fitted.info, "core_points_kept": len(kept)})


def refit_family(name: str, X: np.ndarray, k: int, rng: np.random.Generator) -> Fitted:
    """The family refitted for a stability check (k-means with :data:`REFIT_N_INIT` starts)."""
    if name == "kmeans":
        return kmeans_family.fit(X, k, rng, n_init=REFIT_N_INIT)
    return FAMILIES[name].fit(X, k, rng)


def _stability_of(
    name: str, X: np.ndarray, fitted: Fitted, rng: np.random.Generator, rounds: int
) -> Stability:
    k_fit = fitted.k
    return model_stability(
        X, fitted.labels, k_fit, lambda sample, r: refit_family(name, sample, k_fit, r), rng,
        rounds=rounds, deterministic=name in DETERMINISTIC,
    )  # fmt: skip


def _second_look(
    name: str,
    X: np.ndarray,
    fitted: Fitted,
    stability: Stability,
    choice: AlgorithmChoice,
    rng: np.random.Generator,
    rounds: int,
    n_init: int,
) -> tuple[str, Fitted, Stability, AlgorithmChoice]:
    """The auto choice checked again with the final stability figures.

    ``auto`` compares the candidates' stability on a few bootstrap resamples; a family
    whose answer flips between resamples (a chaining split of a continuum) can pass by
    luck. When the final measurement, on fresh resamples, finds it less stable than
    k-means was in the comparison (by more than the comparison's tolerance), k-means
    draws the segments instead and the reason is recorded.
    """
    reference = next((c for c in choice.candidates if c["algorithm"] == "kmeans"), None)
    kmeans_ari = None if reference is None else reference.get("stability")
    if kmeans_ari is None or stability.bootstrap_ari >= kmeans_ari - STABILITY_TOLERANCE:
        return name, fitted, stability, choice
    kmeans_fit = kmeans_family.fit(X, fitted.k, rng, n_init=n_init)
    kmeans_stability = _stability_of("kmeans", X, kmeans_fit, rng, rounds)
    reason = (
        f"{name} set aside after the final check: bootstrap ARI {stability.bootstrap_ari:.2f} "
        f"on fresh resamples < k-means' {kmeans_ari:.2f} - {STABILITY_TOLERANCE}; k-means "
        "draws the segments"
    )
    reasons = [*choice.reasons, reason]
    return (
        "kmeans",
        kmeans_fit,
        kmeans_stability,
        replace(choice, algorithm="kmeans", reasons=reasons, fitted=None),
    )


def best_supported_k(selection: Selection) -> int | None:
    """The selection's best-supported other k: stable, then most index votes, then most stable.

    Candidates are the ks >= 2 other than the chosen one whose k-means bootstrap ARI in the
    selection reached :data:`STABLE_ARI`; None when there is none.
    """
    votes = [v for v in selection.votes.values() if isinstance(v, int)]
    rated = [
        s
        for s in selection.scores
        if s.k >= 2 and s.k != selection.k and (s.stability or 0.0) >= STABLE_ARI
    ]
    if not rated:
        return None
    return max(rated, key=lambda s: (votes.count(s.k), s.stability or 0.0, -s.k)).k


def _final_check(
    X: np.ndarray,
    selection: Selection,
    name: str,
    fitted: Fitted,
    stability: Stability,
    rng: np.random.Generator,
    rounds: int,
    n_init: int,
    family: str,
) -> tuple[Selection, str, Fitted, Stability | None] | None:
    """With k automatic, a final model that does not come back on resamples is not kept.

    The selection measured the chosen k's stability with k-means on a few resamples; the
    final check, on fresh resamples of the family that drew the segments, can disagree.
    Below :data:`STABILITY_FLOOR` (Hennig's bar for a pattern at all), the best-supported
    other k (:func:`best_supported_k`) is fitted with ``family`` (k-means when the
    family was chosen automatically, else the user's) and checked the same way;
    when it too falls below the floor, or there is none, there are no reliable segments
    and every customer is in one (k = 1). The reasons say what was seen and done. None
    when the final model passes.
    """
    if selection.mode != "auto" or stability.bootstrap_ari >= STABILITY_FLOOR:
        return None
    if not FAMILIES[name].takes_k or not FAMILIES[family].takes_k:
        return None
    seen = (
        f"final check: k = {fitted.k} ({name}) does not come back on fresh resamples "
        f"(bootstrap ARI {stability.bootstrap_ari:.2f} < {STABILITY_FLOOR})"
    )
    reasons = [*selection.reasons, seen]
    rejected = {"k": fitted.k, "family": name, "bootstrap_ari": float(stability.bootstrap_ari)}
    other = best_supported_k(selection)
    if other is not None:
        if family == "kmeans":
            refit = kmeans_family.fit(X, other, rng, n_init=n_init)
        else:
            refit = fit_family(family, X, other, rng)
        checked = _stability_of(family, X, refit, rng, rounds)
        if checked.bootstrap_ari >= STABILITY_FLOOR:
            reasons.append(
                f"k = {other}, the best-supported stable k of the selection, is fitted instead "
                f"with {family} (bootstrap ARI {checked.bootstrap_ari:.2f})"
            )
            rule = f"{selection.rule}; fell back to k = {other} after the final check"
            check = {**rejected, "outcome": "fallback"}
            chosen = replace(selection, k=other, rule=rule, reasons=reasons, final_check=check)
            return chosen, family, refit, checked
        reasons.append(
            f"k = {other}, the best-supported other k, does not come back either "
            f"(bootstrap ARI {checked.bootstrap_ari:.2f})"
        )
    reasons.append("no reliable segments: every customer is in one segment (k = 1)")
    single = kmeans_family.fit(X, 1, rng, n_init=1)
    rule = f"{selection.rule}; no reliable segments after the final check"
    message = (
        f"No reliable segments: the {fitted.k} groups found do not come back on resampled "
        f"customers (bootstrap ARI {stability.bootstrap_ari:.2f} < {STABILITY_FLOOR})."
    )
    chosen = replace(
        selection,
        k=1,
        rule=rule,
        reasons=reasons,
        structure=False,
        message=message,
        final_check={**rejected, "outcome": "none"},
    )
    return chosen, "kmeans", single, None


def _check_distinct(X: np.ndarray, k: int) -> None:
    n = len(X)
    distinct = len(np.unique(X, axis=0)) if n <= 100_000 else n
    if k > distinct:
        raise UsageError(f"k = {k} is larger than the number of distinct customers ({distinct})")


@dataclass(frozen=True)
class SegmentFit:
    """Everything :func:`fit_segmentation` found.

    Attributes
    ----------
    fitted : Fitted
        The final model on all customers: labels, confidence, centres, assigner.
    selection : Selection
        How k was chosen, the per-k table and the null-structure test.
    algorithm : str
        The family that drew the segments.
    choice : AlgorithmChoice or None
        How ``auto`` chose the family (None when one was asked for).
    stability : Stability or None
        Bootstrap and seed agreement (None when not measured).
    validity : Validity
        Warnings and the discriminant check.
    """

    fitted: Fitted
    selection: Selection
    algorithm: str
    choice: AlgorithmChoice | None
    stability: Stability | None
    validity: Validity

    @property
    def centers(self) -> np.ndarray:
        """Segment centres (means of the members) in the prepared space."""
        return self.fitted.centers

    @property
    def labels(self) -> np.ndarray:
        """Segment of every customer (-1 = unassigned)."""
        return self.fitted.labels

    @property
    def confidence(self) -> np.ndarray:
        """Assignment confidence of every customer."""
        return self.fitted.confidence

    def diagnostics(self) -> dict[str, Any]:
        """The selection with the algorithm choice, stability and validity, JSON-ready."""
        out = self.selection.to_dict()
        out["algorithm"] = self.algorithm
        if self.choice is not None:
            out["algorithm_choice"] = self.choice.to_dict()
        if self.stability is not None:
            # ``score`` is what a workspace's promotion check reads (segmint.matching).
            score = round(self.stability.bootstrap_ari, 4)
            out["stability"] = {"score": score, **self.stability.to_dict()}
        out["warnings"] = list(self.validity.warnings)
        out["discriminant"] = dict(self.validity.discriminant)
        # The family's own facts (sample size, BIC, Ward's dendrogram top, ...), not the
        # full linkage matrix.
        out["model_info"] = {key: v for key, v in self.fitted.info.items() if key != "linkage"}
        return out


def fit_segmentation(
    X: np.ndarray,
    k: KSpec = "auto",
    *,
    algorithm: str = "auto",
    random_state: int | None = 0,
    n_init: int = FINAL_N_INIT,
    stability_rounds: int = 5,
    n_features: int | None = None,
    diagnostics: bool = True,
) -> SegmentFit:
    """Choose k and the family, fit, and measure stability and validity.

    Above :data:`WORKING_ROWS` customers the choice and the fit run on a sample of that
    many (chosen from the rows' values, see :func:`working_rows`) and every customer is
    then labelled by the fitted rule in one pass (core points thinned to
    :data:`CORE_POINTS` first). The many small fits (selection, comparison, stability)
    run on one thread: on small matrices BLAS and OpenMP threads cost more in
    synchronisation than they gain, badly so on a busy machine; the final labelling uses
    the default threads.

    Parameters
    ----------
    X : ndarray
        Prepared matrix, one row per customer.
    k : "auto", int or (min, max)
        See :func:`parse_k`; ``"auto"`` chooses in 1..10 (1 = no distinct segments).
    algorithm : str
        ``"auto"`` or a family of :data:`segmint.algorithms.FAMILIES`.
    random_state : int or None
        Seed of every random choice.
    n_init : int
        k-means++ starts of a final k-means fit.
    stability_rounds : int
        Bootstrap refits for the stability figures (0 skips them).
    n_features : int, optional
        Number of features for the validity warnings (default: columns of ``X``).
    diagnostics : bool
        With False a given k skips the indices and the null-structure test, and no
        stability or discriminant check is made (a fast fit; ``auto`` k still needs the
        selection).

    Raises
    ------
    UsageError
        A k larger than the number of (distinct) customers, an unknown algorithm, or a
        given k with HDBSCAN (which finds k itself).
    """
    mode, (low, high) = parse_k(k)
    name = check_algorithm(algorithm)
    n = len(X)
    if mode == "fixed" and low > n:
        raise UsageError(f"k = {low} is larger than the number of customers (n_samples = {n})")
    if mode == "range" and low > n:
        raise UsageError(f"k range {low}-{high} starts above the number of customers ({n})")
    if name != "auto" and not FAMILIES[name].takes_k and mode != "auto":
        raise UsageError(f"{name} finds the number of segments itself; leave k on auto")
    rng = np.random.default_rng(random_state)
    # Every sample, bootstrap and k-means start is drawn from the rows in an order set by
    # their values, so the same customers give the same segments whatever the row order.
    # Above WORKING_ROWS customers the model is built on a sample of them and every
    # customer is then labelled by its rule.
    full = _snap(np.asarray(X, dtype=float))
    order = working_rows(full, WORKING_ROWS, random_state if isinstance(random_state, int) else 0)
    X = full[order]
    with single_thread():
        if not diagnostics and (mode == "fixed" or (name != "auto" and not FAMILIES[name].takes_k)):
            if mode == "fixed":
                given = [f"k = {low} was given"]
                selection = Selection(k=low, mode=mode, rule="given", reasons=given, sample_size=n)
            else:
                finds = f"{name} finds the number of segments itself"
                selection = Selection(k=1, mode=mode, rule=finds, reasons=[finds], sample_size=n)
        else:
            selection = choose_k(
                X,
                DEFAULT_RANGE if mode == "auto" else (low, high),
                random_state=random_state,
                fixed=low if mode == "fixed" else None,
                mode=mode,
            )
        k_final = selection.k
        if name == "auto" or FAMILIES[name].takes_k:
            _check_distinct(X, k_final)
        choice = None
        fitted = None
        if name == "auto":
            choice = choose_algorithm(
                X, k_final, rng, structure=selection.structure, given=selection.mode == "fixed"
            )
            name, fitted = choice.algorithm, choice.fitted
    if fitted is None:
        with single_thread():
            if name == "kmeans":
                fitted = kmeans_family.fit(X, k_final, rng, n_init=n_init)
            else:
                fitted = fit_family(name, X, k_final, rng)
    if not FAMILIES[name].takes_k:
        unassigned = int((fitted.labels < 0).sum())
        found = f"{name} found {fitted.k} segments itself ({unassigned:,} customers unassigned)"
        selection = replace(selection, k=fitted.k, reasons=[*selection.reasons, found])
    stability = None
    with single_thread():
        if diagnostics and stability_rounds > 0 and fitted.k > 1:
            stability = _stability_of(name, X, fitted, rng, stability_rounds)
            if choice is not None and name != "kmeans":
                name, fitted, stability, choice = _second_look(
                    name, X, fitted, stability, choice, rng, stability_rounds, n_init
                )
            fallback = _final_check(
                X,
                selection,
                name,
                fitted,
                stability,
                rng,
                stability_rounds,
                n_init,
                "kmeans" if choice is not None else name,
            )
            if fallback is not None:
                selection, name, fitted, stability = fallback
                if choice is not None:
                    choice = replace(
                        choice,
                        algorithm=name,
                        fitted=None,
                        reasons=[*choice.reasons, f"{name} after the final stability check"],
                    )
        checked = diagnostics and fitted.k > 1
        discriminant = discriminant_check(X, fitted.labels, rng) if checked else {}
    if len(order) < n:
        fitted = _condensed(fitted, rng)
        labels, confidence = fitted.assigner.predict(full)
        fitted = replace(fitted, labels=labels, confidence=confidence)
    else:
        back = np.empty_like(order)
        back[order] = np.arange(len(order))
        fitted = replace(fitted, labels=fitted.labels[back], confidence=fitted.confidence[back])
    with single_thread():
        warnings_ = validity_warnings(
            fitted.labels,
            n_features if n_features is not None else X.shape[1],
            structure=selection.structure,
            stable=None if stability is None else stability.stable,
            stability_ari=None if stability is None else stability.bootstrap_ari,
        )
    validity = Validity(warnings_, discriminant)
    return SegmentFit(fitted, selection, name, choice, stability, validity)


class Segmenter(ClusterMixin, BaseEstimator):  # type: ignore[misc]  # scikit-learn ships no types
    """Customer segmentation as a scikit-learn estimator.

    Prepares the features (impute, encode, log-transform skewed, winsorise, standardise;
    see :mod:`segmint.prepare`), chooses the number of segments and the clustering family,
    and fits (see :func:`fit_segmentation`).

    Parameters
    ----------
    k : "auto", int or (int, int), default="auto"
        Number of segments: chosen in 1..10 (``"auto"``; 1 when the data shows no
        distinct segments), fixed, or chosen in a range.
    algorithm : str, default="auto"
        ``"auto"`` (compares k-means, Gaussian mixture, Ward and Genie), ``"kmeans"``,
        ``"gmm"``, ``"ward"``, ``"genie"``, ``"birch"``, ``"hdbscan"``, ``"dbscan"`` or
        ``"consensus"``.
    random_state : int, RandomState or None, default=None
        Seed; the same seed and data give the same segments.
    n_init : int, default=10
        k-means++ starts of a final k-means fit.
    prepare : bool, default=True
        Whether to run segmint's preparation; with False the input is used as it is.
    diagnostics : bool, default=True
        Stability, discriminant check and (for a given k) the per-k indices and the
        null-structure test; False fits faster without them.
    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Segment of every training row (0 is the largest segment; -1 unassigned).
    k_ : int
        Number of segments.
    algorithm_ : str
        The family that drew the segments.
    cluster_centers_ : ndarray of shape (k_, n_prepared_features)
        Segment centres (means of the members) in the prepared space.
    confidence_ : ndarray of shape (n_samples,)
        Assignment confidence of every training row.
    selection_ : dict
        How k and the family were chosen: the per-k table of every index (``scores``),
        the rule and its reasons, the null-structure test, the votes of the single
        indices, the algorithm comparison, stability and warnings.
    stability_ : dict or None
        Bootstrap and seed agreement of the model (see :mod:`segmint.stability`).
    warnings_ : list of str
        Validity warnings (see :mod:`segmint.validity`).
    structure_ : bool
        Whether the data shows distinct segments.
    preparation_ : Preparation or None
        The fitted preparation.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a DataFrame with string column names.

    Examples
    --------
    >>> from sklearn.datasets import make_blobs
    >>> X, _ = make_blobs(n_samples=300, centers=3, random_state=0)
    >>> Segmenter(random_state=0).fit(X).k_
    3
    """

    def __init__(
        self,
        k: KSpec = "auto",
        algorithm: str = "auto",
        random_state: int | np.random.RandomState | None = None,
        n_init: int = FINAL_N_INIT,
        prepare: bool = True,
        diagnostics: bool = True,
    ) -> None:
        self.k = k
        self.algorithm = algorithm
        self.random_state = random_state
        self.n_init = n_init
        self.prepare = prepare
        self.diagnostics = diagnostics

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = bool(self.prepare)  # preparation imputes missing values
        return tags

    def _seed(self) -> int | None:
        if self.random_state is None or isinstance(self.random_state, (int, np.integer)):
            return None if self.random_state is None else int(self.random_state)
        return int(self.random_state.randint(np.iinfo(np.int32).max))

    def _as_frame(self, X: Any, *, reset: bool) -> pd.DataFrame:
        mixed = isinstance(X, pd.DataFrame) and not all(
            pd.api.types.is_numeric_dtype(X[c]) and not pd.api.types.is_bool_dtype(X[c])
            for c in X.columns
        )
        if not mixed:
            finite: Any = "allow-nan" if self.prepare else True
            array = validate_data(self, X, reset=reset, ensure_all_finite=finite, dtype="numeric")
            names = getattr(self, "feature_names_in_", None)
            columns = (
                [str(c) for c in names]
                if names is not None
                else [f"x{i}" for i in range(array.shape[1])]
            )
            return pd.DataFrame(array, columns=columns)
        columns = [str(c) for c in X.columns]
        if reset:
            self.n_features_in_ = X.shape[1]
            self.feature_names_in_ = np.asarray(columns, dtype=object)
        elif columns != list(self.feature_names_in_):
            raise ValueError(
                "The feature names should match those that were passed during fit: "
                f"expected {list(self.feature_names_in_)}, got {columns}"
            )
        if len(X) == 0:
            raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
        return X.reset_index(drop=True)

    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        if self.preparation_ is None:
            return cast(np.ndarray, frame.to_numpy(dtype=float))
        matrix, _ = self.preparation_.transform(frame)
        return matrix

    def fit(self, X: Any, y: Any = None) -> Segmenter:
        """Prepare ``X``, choose k and fit.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            One row per customer; DataFrames may hold categorical and date columns.
        y : ignored

        Returns
        -------
        self
        """
        frame = self._as_frame(X, reset=True)
        if self.prepare:
            self.preparation_: Preparation | None = fit_preparation(frame, source="X")
        else:
            self.preparation_ = None
        matrix = self._matrix(frame)
        result = fit_segmentation(
            matrix,
            self.k,
            algorithm=self.algorithm,
            random_state=self._seed(),
            n_init=self.n_init,
            diagnostics=self.diagnostics,
        )
        self.cluster_centers_ = result.centers
        self.labels_: Any = result.labels  # segmint.Segmenter: a Spark DataFrame on Spark data
        self.confidence_: np.ndarray | None = result.confidence
        self.k_ = result.fitted.k
        self.algorithm_ = result.algorithm
        self.assigner_ = result.fitted.assigner
        self.selection_ = result.diagnostics()
        self.stability_ = None if result.stability is None else result.stability.to_dict()
        self.warnings_ = list(result.validity.warnings)
        self.structure_ = result.selection.structure
        return self

    def predict(self, X: Any) -> Any:
        """Segment of each row of ``X`` by the fitted family's rule, after preparation."""
        check_is_fitted(self)
        frame = self._as_frame(X, reset=False)
        labels, _ = self.assigner_.predict(self._matrix(frame))
        return labels

    def _gives_probabilities(self) -> bool:
        """Whether :meth:`predict_proba` exists: before fitting, and for a mixture model."""
        if not hasattr(self, "assigner_"):
            return True
        if not self.assigner_.gives_probabilities:
            raise UsageError(
                f"predict_proba needs a probabilistic family (algorithm='gmm'); this model "
                f"was fitted with {self.algorithm_!r}: use predict_confidence"
            )
        return True

    @available_if(_gives_probabilities)  # type: ignore[untyped-decorator]  # scikit-learn's, untyped
    def predict_proba(self, X: Any) -> np.ndarray:
        """Membership probability of each row of ``X`` in every segment (columns in the
        order of ``cluster_centers_``, rows summing to 1).

        Only the Gaussian mixture gives probabilities; the other families assign by
        distance, and a probability made up from distances would claim a calibration
        they do not have: on them ``predict_proba`` is absent (``hasattr`` is False; an
        AttributeError caused by a UsageError that says so), use
        :meth:`predict_confidence`.
        """
        check_is_fitted(self)
        frame = self._as_frame(X, reset=False)
        probabilities = self.assigner_.probabilities(self._matrix(frame))
        assert probabilities is not None  # a mixture's rule (checked by available_if)
        return probabilities

    def predict_confidence(self, X: Any) -> np.ndarray:
        """Assignment confidence of each row of ``X`` (see the module docstring)."""
        check_is_fitted(self)
        frame = self._as_frame(X, reset=False)
        _, confidence = self.assigner_.predict(self._matrix(frame))
        return confidence
