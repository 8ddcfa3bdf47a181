"""Stability: Hennig's clusterwise Jaccard on hand-made labels, bootstrap and seed agreement."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from segmint.algorithms import fit_family
from segmint.stability import STABLE_ARI, clusterwise_jaccard, kmeans_bootstrap_ari, model_stability


def test_clusterwise_jaccard_exact() -> None:
    reference = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    other = np.array([5, 5, 5, 7, 7, 7, 7, -1])
    # segment 0 {0..3} best matches {0,1,2}: 3/4; segment 1 {4..7} best matches {3..6}: 3/5
    np.testing.assert_allclose(clusterwise_jaccard(reference, other, 2), [0.75, 0.6])


def refit(name: str, k: int):  # type: ignore[no-untyped-def]
    return lambda sample, rng: fit_family(name, sample, k, rng)


def test_separated_blobs_are_stable() -> None:
    X, _ = make_blobs(n_samples=300, centers=[[0, 0], [10, 0], [0, 10]], random_state=0)
    rng = np.random.default_rng(0)
    model = fit_family("kmeans", X, 3, rng)
    result = model_stability(X, model.labels, 3, refit("kmeans", 3), rng, rounds=4, seeds=2)
    assert result.bootstrap_ari == pytest.approx(1.0)
    assert result.seed_ari == pytest.approx(1.0)
    assert result.jaccard == pytest.approx([1.0, 1.0, 1.0])
    assert result.stable and result.rounds == 4 and result.sample_size == 300
    assert result.to_dict()["threshold"] == STABLE_ARI


def test_a_continuum_cut_in_many_pieces_is_less_stable() -> None:
    X = np.random.default_rng(1).normal(size=(400, 2))
    rng = np.random.default_rng(0)
    model = fit_family("kmeans", X, 7, rng)
    shaky = model_stability(X, model.labels, 7, refit("kmeans", 7), rng, rounds=5)
    blobs, _ = make_blobs(n_samples=400, centers=3, cluster_std=0.3, random_state=2)
    firm = fit_family("kmeans", blobs, 3, rng)
    steady = model_stability(blobs, firm.labels, 3, refit("kmeans", 3), rng, rounds=5)
    assert shaky.bootstrap_ari < steady.bootstrap_ari
    assert min(shaky.jaccard) < 0.95 <= min(steady.jaccard)


def test_deterministic_family_has_no_seed_agreement() -> None:
    X, _ = make_blobs(n_samples=200, centers=3, random_state=4)
    rng = np.random.default_rng(0)
    model = fit_family("ward", X, 3, rng)
    result = model_stability(
        X, model.labels, 3, refit("ward", 3), rng, rounds=3, deterministic=True
    )
    assert result.seed_ari is None and result.seeds == 0


def test_kmeans_bootstrap_ari_tells_real_from_arbitrary_splits() -> None:
    X, _ = make_blobs(n_samples=400, centers=[[0, 0], [8, 0]], cluster_std=1.0, random_state=0)
    rng = np.random.default_rng(0)
    two = fit_family("kmeans", X, 2, rng).centers
    six = fit_family("kmeans", X, 6, rng).centers
    assert kmeans_bootstrap_ari(X, two, rng, rounds=5) > 0.98
    assert kmeans_bootstrap_ari(X, six, rng, rounds=5) < 0.9
