"""Validity warnings on hand-made labellings, and the discriminant check."""

from __future__ import annotations

import numpy as np
from sklearn.datasets import make_blobs

from segmint.validity import discriminant_check, validity_warnings


def test_balanced_segments_of_enough_customers_raise_nothing() -> None:
    labels = np.repeat([0, 1, 2], 400)
    assert validity_warnings(labels, 5) == []


def test_largest_and_small_segments() -> None:
    labels = np.r_[np.zeros(1300, dtype=int), np.ones(680, dtype=int), np.full(20, 2)]
    warnings = validity_warnings(labels, 3)
    assert warnings == [
        "segment 0 holds 65% of the customers (more than 60%): "
        "the segmentation is mostly one group",
        "segments below 2% of the customers: 2 (1.0%); too small to act on reliably",
    ]


def test_too_few_customers_and_too_many_features() -> None:
    labels = np.repeat(np.arange(6), 50)  # 300 customers in 6 segments
    warnings = validity_warnings(labels, 8)
    assert warnings[0] == (
        "300 customers support at most 4 segments (fewer than 1,000 customers); "
        "6 segments of so few customers are mostly noise"
    )
    assert warnings[1].startswith(
        "8 features for 300 customers: data-driven segmentation needs about 70"
    )


def test_continuum_unstable_and_unassigned() -> None:
    labels = np.r_[np.repeat([0, 1], 450), np.full(200, -1)]
    warnings = validity_warnings(labels, 2, structure=False, stable=False, stability_ari=0.55)
    assert warnings[0].startswith(
        "no distinct segments; the groups below are a partition of a continuum"
    )
    assert "unstable segments" in warnings[1] and "0.55" in warnings[1]
    assert warnings[2] == "200 customers (18%) are in no dense region: unassigned"


def test_discriminant_check() -> None:
    X, labels = make_blobs(
        n_samples=300, centers=[[0, 0], [10, 0], [0, 10]], cluster_std=0.5, random_state=0
    )
    result = discriminant_check(X, labels, np.random.default_rng(0))
    assert result["accuracy"] == 1.0 and result["folds"] == 5
    assert result["baseline"] == 0.3333
    noise = np.random.default_rng(1).normal(size=(300, 2))
    random_labels = np.random.default_rng(2).integers(0, 3, 300)
    assert discriminant_check(noise, random_labels, np.random.default_rng(0))["accuracy"] < 0.5
    assert (
        discriminant_check(X, np.zeros(300, dtype=int), np.random.default_rng(0))["accuracy"]
        is None
    )
