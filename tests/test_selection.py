"""Choosing k: Kneedle golden values and the documented rule on planted structure."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.preprocessing import StandardScaler

from segmint.selection import SILHOUETTE_TOLERANCE, choose_k, knee_point


def test_kneedle_figure2() -> None:
    # From the Kneedle manuscript (Satopaa et al. 2011), figure 2: knee at x ~ 0.22.
    x = np.linspace(0.0, 1, 10)
    y = -1 / (x + 0.1) + 5
    assert knee_point(x, y) == pytest.approx(0.2222, abs=1e-3)


def test_kneedle_decreasing_convex() -> None:
    x = np.arange(1, 11)
    assert knee_point(x, 1 / x) == 3.0


def test_kneedle_no_knee_on_a_line() -> None:
    x = np.arange(1, 6)
    assert knee_point(x, 10 - 2 * x) is None
    assert knee_point(x[:2], x[:2]) is None


@pytest.mark.parametrize("true_k", [3, 4, 5, 6, 8])
def test_choose_k_finds_planted_blobs(true_k: int) -> None:
    X, _ = make_blobs(n_samples=600, centers=true_k, cluster_std=0.5, random_state=0, center_box=(-15, 15))
    selection = choose_k(StandardScaler().fit_transform(X), random_state=0)
    assert selection.k == true_k
    assert "clear structure" in selection.reasons[0]
    assert [s.k for s in selection.scores] == list(range(1, 11))
    assert selection.reasons


def test_rule_is_recorded() -> None:
    X, _ = make_blobs(n_samples=200, centers=3, random_state=1)
    selection = choose_k(X, random_state=0).to_dict()
    assert f"{SILHOUETTE_TOLERANCE:.0%}" in selection["rule"]
    assert {"k", "wcss", "silhouette", "calinski_harabasz", "davies_bouldin"} <= set(selection["scores"][1])


def test_weak_structure_uses_the_knee() -> None:
    # One elongated continuum with a shoulder: silhouette is weak, the knee decides.
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.gamma(1.0, 1.0, 2000), rng.gamma(2.0, 1.0, 2000), rng.normal(0, 1, 2000)])
    selection = choose_k(StandardScaler().fit_transform(np.log1p(np.abs(X))), random_state=0)
    best = max(s.silhouette or 0 for s in selection.scores)
    assert best < 0.5
    assert selection.knee is not None
    assert "nearest the knee" in selection.reasons[-1]


def test_too_few_customers() -> None:
    selection = choose_k(np.array([[0.0], [1.0]]))
    assert selection.k == 1
    assert "too few" in selection.reasons[0]
