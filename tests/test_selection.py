"""Choosing k: golden values (Kneedle paper, scikit-learn's silhouette), the gap statistic,
the dip test between neighbouring segments, and the rule on planted and absent structure."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_samples
from sklearn.preprocessing import StandardScaler

from segmint.selection import NO_STRUCTURE, choose_k, knee_point, score_k, silhouettes
from segmint.structure import dip_test, gap_statistic, neighbouring_pairs


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


def test_silhouettes_equal_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(157, 4))
    partitions = [rng.integers(0, k, size=157) for k in (2, 3, 7)]
    partitions.append(np.r_[np.zeros(156, dtype=int), 1])  # a one-customer segment
    mine = silhouettes(X, partitions, chunk=50)
    for labels, widths in zip(partitions, mine, strict=True):
        np.testing.assert_allclose(widths, silhouette_samples(X, labels), atol=1e-10)


def test_score_k_matches_reference_indices() -> None:
    X, labels = make_blobs(n_samples=200, centers=3, random_state=2)
    score = score_k(X, labels, 1.0, 3, np.random.default_rng(0))
    assert score.silhouette == pytest.approx(float(silhouette_samples(X, labels).mean()))
    assert score.silhouette_ci is None  # exact below 10,000 customers
    assert score_k(X, np.zeros(200, dtype=int), 1.0, 1, np.random.default_rng(0)).silhouette is None


def test_gap_statistic_on_three_blobs_and_on_noise() -> None:
    rng = np.random.default_rng(0)
    X, _ = make_blobs(
        n_samples=150, centers=[[0, 0], [8, 0], [0, 8]], cluster_std=1.0, random_state=0
    )
    from segmint.algorithms.base import sweep_kmeans

    wcss = {1: float(((X - X.mean(axis=0)) ** 2).sum())}
    wcss.update({k: sweep_kmeans(X, k, rng, 10)[0] for k in range(2, 6)})
    gap, se = gap_statistic(X, wcss, rng, references=20)
    # Tibshirani's rule: the smallest k with Gap(k) >= Gap(k+1) - s_(k+1) is 3.
    assert gap[2] < gap[3] - se[3] and gap[3] >= gap[4] - se[4]
    assert all(v > 0 for v in se.values())
    noise = rng.uniform(size=(150, 2))
    wcss_noise = {1: float(((noise - noise.mean(axis=0)) ** 2).sum())}
    wcss_noise.update({k: sweep_kmeans(noise, k, rng, 10)[0] for k in range(2, 6)})
    gap_noise, se_noise = gap_statistic(noise, wcss_noise, rng, references=20)
    # uniform data is close to its own reference: the gap stays flat
    assert max(abs(gap_noise[k] - gap_noise[1]) for k in range(2, 6)) < 0.15
    assert all(v > 0 for v in se_noise.values())


def test_neighbouring_pairs() -> None:
    line = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    assert neighbouring_pairs(line) == [(0, 1), (1, 2)]  # 0 and 2 have 1 between them
    triangle = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, 0.9]])
    assert neighbouring_pairs(triangle) == [(0, 1), (0, 2), (1, 2)]


def test_dip_test_sees_a_gap_and_no_gap() -> None:
    rng = np.random.default_rng(1)
    two = np.vstack([rng.normal(0, 1, (100, 2)), rng.normal(0, 1, (100, 2)) + np.array([6, 0])])
    labels = np.repeat([0, 1], 100)
    centers = np.array([two[:100].mean(axis=0), two[100:].mean(axis=0)])
    assert dip_test(two, labels, centers)["p_value"] < 0.001
    blob = rng.normal(0, 1, (200, 2))
    halves = (blob[:, 0] > 0).astype(int)
    centers = np.array([blob[halves == 0].mean(axis=0), blob[halves == 1].mean(axis=0)])
    assert dip_test(blob, halves, centers)["p_value"] > 0.05


@pytest.mark.parametrize("true_k", [3, 4, 5, 6, 8])
def test_choose_k_finds_planted_blobs(true_k: int) -> None:
    X, _ = make_blobs(
        n_samples=600, centers=true_k, cluster_std=0.5, random_state=0, center_box=(-15, 15)
    )
    selection = choose_k(StandardScaler().fit_transform(X), random_state=0)
    assert selection.k == true_k
    assert selection.structure and selection.message is None
    assert [s.k for s in selection.scores] == list(range(1, 11))
    assert selection.votes["gap"] is not None


@pytest.mark.parametrize(
    "kind", ["gaussian blob", "uniform noise in 10-D", "skewed blob", "correlated blob"]
)
def test_no_structure_gives_one_segment(kind: str) -> None:
    rng = np.random.default_rng(7)
    X = {
        "gaussian blob": rng.normal(size=(1500, 3)),
        "uniform noise in 10-D": rng.uniform(size=(200, 10)),
        "skewed blob": np.log1p(rng.lognormal(size=(1500, 4))),
        "correlated blob": rng.normal(size=(1000, 4)) @ rng.normal(size=(4, 4)),
    }[kind]
    selection = choose_k(X, random_state=0)
    assert selection.k == 1
    assert not selection.structure
    assert selection.message == NO_STRUCTURE
    assert selection.continuum_k is not None and selection.continuum_k >= 2
    assert "no distinct segments" in selection.reasons[-1]


def test_forced_k_on_a_continuum_is_labelled() -> None:
    X = np.random.default_rng(2).normal(size=(800, 3))
    selection = choose_k(X, fixed=4, random_state=0)
    assert selection.k == 4 and selection.mode == "fixed"
    assert not selection.structure and selection.message == NO_STRUCTURE
    assert selection.reasons[0] == "k = 4 was given"
    assert selection.score(4) is not None and selection.score(4).silhouette is not None


def test_range_on_a_continuum_partitions_it() -> None:
    X = np.random.default_rng(2).normal(size=(800, 3))
    selection = choose_k(X, (3, 6), random_state=0)
    assert 3 <= selection.k <= 6 and selection.mode == "range"
    assert selection.message == NO_STRUCTURE
    assert {s.k for s in selection.scores} == {1, 3, 4, 5, 6}


def test_every_index_is_reported_per_k() -> None:
    X, _ = make_blobs(n_samples=300, centers=3, random_state=1)
    table = choose_k(X, random_state=0).to_dict()
    row = table["scores"][2]
    assert set(row) == {
        "k", "wcss", "silhouette", "silhouette_ci", "calinski_harabasz", "davies_bouldin",
        "gap", "gap_se", "bic", "aic", "stability",
    }  # fmt: skip
    assert all(
        row[key] is not None for key in ("gap", "gap_se", "bic", "aic", "stability", "silhouette")
    )
    assert set(table["votes"]) == {
        "gap", "silhouette", "calinski_harabasz", "davies_bouldin", "knee", "bic", "stability"
    }  # fmt: skip
    assert table["structure_test"]["dip"]["pairs_tested"] >= 1
    assert "gap statistic" in table["rule"]


def test_sampled_silhouette_has_a_confidence_interval() -> None:
    X, _ = make_blobs(n_samples=12_000, centers=3, random_state=4)
    selection = choose_k(X, (2, 4), random_state=0)
    row = selection.score(3)
    assert row is not None and row.silhouette_ci is not None
    low, high = row.silhouette_ci
    assert low < row.silhouette < high and high - low < 0.05


def test_too_few_customers() -> None:
    selection = choose_k(np.array([[0.0], [1.0]]))
    assert selection.k == 1
    assert "too few" in selection.reasons[0]


def test_same_seed_same_choice() -> None:
    X, _ = make_blobs(n_samples=400, centers=4, random_state=5)
    a, b = choose_k(X, random_state=3), choose_k(X, random_state=3)
    assert a.to_dict() == b.to_dict()


@pytest.mark.parametrize(("d", "seeds"), [(2, 20), (4, 50), (8, 20)])
def test_uniform_noise_gives_one_segment_over_seeds(d: int, seeds: int) -> None:
    # Uniform noise is unstable at every k; the stability bar must not follow it down, and
    # in a square a k whose gap is within noise of one segment's is no segmentation.
    # k = 1 on at least 95% of the seeds.
    ks = [
        choose_k(np.random.default_rng(seed).uniform(size=(600, d)), random_state=seed).k
        for seed in range(100, 100 + seeds)
    ]
    assert ks.count(1) >= 0.95 * seeds, ks


def test_a_k_no_more_clustered_than_one_segment_is_no_answer() -> None:
    from segmint.selection import GAP_Z

    # Uniform noise in a square where some k clears the gap's bar by luck, k = 2 is stable
    # and the dip test passed it by chance (p = 0.03): k = 2's own gap is within two
    # standard errors of k = 1's, so there are no distinct segments.
    rng = np.random.default_rng([978009813, 0])
    for _ in range(10):
        X = rng.uniform(size=(600, 2))
    selection = choose_k(X, random_state=9)
    test = selection.structure_test
    assert GAP_Z == 2.0
    assert selection.k == 1 and not selection.structure
    assert test["k_tested"] == 2 and test["gap_margin"] > 0
    gaps = {s.k: s.gap for s in selection.scores}
    assert test["own_gap"] == pytest.approx(gaps[2] - gaps[1], abs=1e-6)
    assert test["own_gap"] < GAP_Z * test["own_gap_se"]
    assert any("k = 2 is hardly more clustered than one segment" in r for r in selection.reasons)


def test_stability_floor_is_not_moved_by_the_data() -> None:
    from segmint.selection import STABILITY_FLOOR

    # Here the gap's k = 2 has a bootstrap ARI near 0.3; the bar used to drop to 0.28.
    X = np.random.default_rng(7).uniform(size=(3000, 4))
    selection = choose_k(X, random_state=7)
    assert STABILITY_FLOOR == 0.6
    assert selection.k == 1 and not selection.structure
    assert any("no k up to the gap's k = 2 is stable" in r for r in selection.reasons)


def test_structure_sentence_says_how_strong_in_plain_words() -> None:
    from segmint.headline import structure_sentence

    assert structure_sentence(1, False, None, None) == (
        "No distinct segments: the customers form one continuum."
    )
    assert structure_sentence(5, True, 0.55, 0.9) == (
        "Strong structure: 5 well-separated, stable segments."
    )
    assert structure_sentence(4, False, 0.3, 0.9).startswith(
        "Weak structure: the customers form a continuum; the 4 groups below"
    )
    # A final check that says unstable is never presented as reliable segments.
    assert structure_sentence(5, True, 0.55, 0.45).startswith("No reliable segments: the 5 groups")
    assert structure_sentence(3, True, 0.3, 0.7) == (
        "Moderate structure: 3 distinct segments that overlap (silhouette 0.30), only "
        "moderately stable (bootstrap ARI 0.70)."
    )
