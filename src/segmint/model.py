"""Clustering: the scikit-learn estimator :class:`Segmenter` and the fitted k-means core.

Segment ids run from 0 to k - 1 in order of size, largest first (ties broken by the
centroid's coordinates), so the same data gives the same ids whatever the row order.

Confidence of an assignment is ``1 - d1 / d2``: d1 and d2 are the distances to the
nearest and the second-nearest segment centre. 1 means squarely inside a segment,
0 means on the boundary between two. With one segment every confidence is 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.utils.validation import check_is_fitted, validate_data

from segmint.errors import UsageError
from segmint.prepare import Preparation, fit_preparation
from segmint.selection import Selection, choose_k

KSpec = str | int | tuple[int, int]
DEFAULT_K_RANGE = (2, 10)
FINAL_N_INIT = 10


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


def nearest_centers(X: np.ndarray, centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label every row with its nearest centre and give the ``1 - d1/d2`` confidence."""
    if len(centers) == 1:
        return np.zeros(len(X), dtype=np.int64), np.ones(len(X))
    d2 = (
        (X**2).sum(axis=1)[:, None] - 2.0 * X @ centers.T + (centers**2).sum(axis=1)[None, :]
    )
    d = np.sqrt(np.maximum(d2, 0.0))
    order = np.argsort(d, axis=1)
    labels = order[:, 0]
    rows = np.arange(len(X))
    d1, dsecond = d[rows, order[:, 0]], d[rows, order[:, 1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.where(dsecond > 0, 1.0 - d1 / dsecond, 0.0)
    return labels.astype(np.int64), np.clip(confidence, 0.0, 1.0)


def _canonical_order(labels: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Permutation putting segments by size (largest first), then by centre coordinates."""
    sizes = np.bincount(labels, minlength=len(centers))
    keys = [(-int(sizes[j]), *np.round(centers[j], 9).tolist()) for j in range(len(centers))]
    return np.array(sorted(range(len(centers)), key=lambda j: keys[j]))


def fit_kmeans(
    X: np.ndarray, k: KSpec = "auto", *, random_state: int | None = 0, n_init: int = FINAL_N_INIT
) -> KMeansFit:
    """Choose k (when asked) and fit k-means on the prepared matrix.

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
        selection = choose_k(X, (low, high), random_state=random_state)
        if mode == "range":
            selection = Selection(**{**selection.__dict__, "mode": "range"})
    k_final = selection.k
    distinct = len(np.unique(X, axis=0)) if n <= 100_000 else n
    if k_final > distinct:
        raise UsageError(f"k = {k_final} is larger than the number of distinct customers ({distinct})")
    model = KMeans(n_clusters=k_final, n_init=n_init, random_state=random_state).fit(X)
    order = _canonical_order(model.labels_, model.cluster_centers_)
    centers = model.cluster_centers_[order]
    labels, confidence = nearest_centers(X, centers)
    return KMeansFit(centers=centers, labels=labels, confidence=confidence, selection=selection)


class Segmenter(ClusterMixin, BaseEstimator):
    """Customer segmentation as a scikit-learn estimator.

    Prepares the features (impute, encode, log-transform skewed, winsorise, standardise;
    see :mod:`segmint.prepare`), chooses the number of segments and fits k-means.

    Parameters
    ----------
    k : "auto", int or (int, int), default="auto"
        Number of segments: chosen in 2..10 (``"auto"``), fixed, or chosen in a range.
    random_state : int, RandomState or None, default=None
        Seed; the same seed and data give the same segments.
    n_init : int, default=10
        k-means++ starts of the final fit.
    prepare : bool, default=True
        Whether to run segmint's preparation; with False the input is used as it is.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Segment of every training row (0 is the largest segment).
    k_ : int
        Number of segments.
    cluster_centers_ : ndarray of shape (k_, n_prepared_features)
        Segment centres in the prepared space.
    confidence_ : ndarray of shape (n_samples,)
        Assignment confidence of every training row.
    selection_ : dict
        How k was chosen, with the per-k table of indices.
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
        random_state: int | np.random.RandomState | None = None,
        n_init: int = FINAL_N_INIT,
        prepare: bool = True,
    ) -> None:
        self.k = k
        self.random_state = random_state
        self.n_init = n_init
        self.prepare = prepare

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
            pd.api.types.is_numeric_dtype(X[c]) and not pd.api.types.is_bool_dtype(X[c]) for c in X.columns
        )
        if not mixed:
            finite: Any = "allow-nan" if self.prepare else True
            array = validate_data(self, X, reset=reset, ensure_all_finite=finite, dtype="numeric")
            names = getattr(self, "feature_names_in_", None)
            columns = [str(c) for c in names] if names is not None else [f"x{i}" for i in range(array.shape[1])]
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
            return frame.to_numpy(dtype=float)
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
        fitted = fit_kmeans(matrix, self.k, random_state=self._seed(), n_init=self.n_init)
        self.cluster_centers_ = fitted.centers
        self.labels_ = fitted.labels
        self.confidence_ = fitted.confidence
        self.k_ = len(fitted.centers)
        self.selection_ = fitted.selection.to_dict()
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Segment of each row of ``X`` (nearest segment centre after preparation)."""
        check_is_fitted(self)
        frame = self._as_frame(X, reset=False)
        labels, _ = nearest_centers(self._matrix(frame), self.cluster_centers_)
        return labels

    def predict_confidence(self, X: Any) -> np.ndarray:
        """Assignment confidence of each row of ``X`` (see the module docstring)."""
        check_is_fitted(self)
        frame = self._as_frame(X, reset=False)
        _, confidence = nearest_centers(self._matrix(frame), self.cluster_centers_)
        return confidence
