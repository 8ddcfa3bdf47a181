"""The Segmenter estimator and the k-means core."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from segmint import Segmenter
from segmint.errors import UsageError
from segmint.model import fit_kmeans, nearest_centers, parse_k

FAMILY_ESTIMATORS = [
    Segmenter(
        k="auto" if name == "hdbscan" else 3,
        algorithm=name,
        random_state=0,
        prepare=False,
        diagnostics=False,
    )
    for name in ("kmeans", "gmm", "ward", "genie", "birch", "hdbscan", "consensus")
]


@parametrize_with_checks(
    [Segmenter(random_state=0), Segmenter(k=3, random_state=0, prepare=False), *FAMILY_ESTIMATORS]
)
def test_sklearn_compatible(estimator, check) -> None:  # type: ignore[no-untyped-def]
    name = getattr(check, "func", check).__name__
    if name == "check_array_api_input":
        # Segmenter does not declare array-API support; the check only skips itself.
        return
    check(estimator)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("auto", ("auto", (2, 10))),
        (4, ("fixed", (4, 4))),
        ("4", ("fixed", (4, 4))),
        ("3-8", ("range", (3, 8))),
        ((2, 5), ("range", (2, 5))),
    ],
)
def test_parse_k(spec: object, expected: tuple) -> None:
    assert parse_k(spec) == expected


@pytest.mark.parametrize("spec", ["abc", "0", "5-3", 0, True, 2.5, "1-2-3"])
def test_parse_k_rejects(spec: object) -> None:
    with pytest.raises(UsageError):
        parse_k(spec)


def test_confidence_is_one_minus_distance_ratio() -> None:
    centers = np.array([[0.0, 0.0], [4.0, 0.0]])
    X = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 0.0]])
    labels, confidence = nearest_centers(X, centers)
    assert labels.tolist() == [0, 0, 0]
    np.testing.assert_allclose(confidence, [1 - 1 / 3, 0.0, 1.0])
    single_labels, single_conf = nearest_centers(X, centers[:1])
    assert single_labels.tolist() == [0, 0, 0] and single_conf.tolist() == [1.0, 1.0, 1.0]


def test_ids_ordered_by_size() -> None:
    X, _ = make_blobs(
        n_samples=[50, 200, 100], centers=[[0, 0], [10, 10], [-10, 10]], random_state=0
    )
    fitted = fit_kmeans(X, 3, random_state=0)
    assert np.bincount(fitted.labels).tolist() == [200, 100, 50]


def test_same_seed_same_segments_and_recovers_blobs() -> None:
    X, truth = make_blobs(n_samples=400, centers=4, cluster_std=0.6, random_state=7)
    a = Segmenter(random_state=3).fit(X)
    b = clone(a).fit(X)
    assert a.k_ == 4
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert adjusted_rand_score(truth, a.labels_) > 0.95
    np.testing.assert_array_equal(a.predict(X), a.labels_)
    assert a.selection_["k"] == 4 and len(a.selection_["scores"]) == 10


def test_k_range_and_fixed() -> None:
    X, _ = make_blobs(n_samples=300, centers=5, random_state=0)
    assert Segmenter(k=(2, 3), random_state=0).fit(X).k_ in (2, 3)
    assert Segmenter(k=7, random_state=0).fit(X).k_ == 7
    with pytest.raises(UsageError, match="larger than the number of customers"):
        Segmenter(k=400).fit(X)


def test_mixed_dataframe() -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "spend": np.concatenate([rng.normal(100, 5, 60), rng.normal(10, 2, 60)]),
            "plan": ["gold"] * 60 + ["basic"] * 60,
            "joined": pd.to_datetime("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 300, 120), unit="D"),
        }
    )
    model = Segmenter(random_state=0).fit(frame)
    assert model.k_ >= 2
    assert list(model.feature_names_in_) == ["spend", "plan", "joined"]
    np.testing.assert_array_equal(model.predict(frame), model.labels_)
    assert ((model.predict_confidence(frame) >= 0) & (model.predict_confidence(frame) <= 1)).all()
    with pytest.raises(ValueError, match="feature names should match"):
        model.predict(frame[["plan", "spend", "joined"]])
