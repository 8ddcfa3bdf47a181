"""Comparing candidate ks: fits, splits as k grows, and reusing a saved candidate."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import make_blobs

from segmint.compare import (
    ReusedCandidate,
    compare_k,
    matrix_fingerprint,
    selection_from_dict,
    split_between,
)
from segmint.model import fit_kmeans


def _blobs() -> tuple[np.ndarray, pd.DataFrame]:
    X, _ = make_blobs(
        n_samples=240, centers=[[0, 0], [0, 6], [8, 0], [8, 6.5]], cluster_std=0.6, random_state=1
    )
    return X, pd.DataFrame(X, columns=["a", "b"])


def test_every_candidate_is_the_fit_of_that_k() -> None:
    X, values = _blobs()
    comparison = compare_k(
        X, values, [2, 3, 4, 5], random_state=0, ids=[str(i) for i in range(240)]
    )
    assert comparison.ks == [2, 3, 4, 5]
    for candidate in comparison.candidates:
        reference = fit_kmeans(X, candidate.k, random_state=0)
        assert np.array_equal(candidate.labels, reference.labels)
        assert len(candidate.profiles) == candidate.k
        assert candidate.indices["silhouette"] is not None
    best = max(comparison.candidates, key=lambda c: c.indices["silhouette"])
    assert best.k == 4
    summary = comparison.to_dict()
    assert [c["k"] for c in summary["candidates"]] == [2, 3, 4, 5]
    assert sum(s["size"] for s in summary["candidates"][2]["segments"]) == 240


def test_splits_account_for_every_customer_and_tell_the_story() -> None:
    X, values = _blobs()
    comparison = compare_k(X, values, [2, 3, 4], random_state=0)
    for split in comparison.splits:
        assert sum(f["customers"] for f in split["flows"]) == 240
    # From 3 to 4 segments exactly one segment splits in two (the blobs are clean).
    story = comparison.splits[1]["story"]
    assert len([s for s in story if "splits into" in s]) == 1
    three, four = comparison.candidates[1], comparison.candidates[2]
    table = pd.crosstab(three.labels, four.labels)
    assert (table > 0).sum(axis=1).max() == 2
    same = split_between(four, four)
    assert same["story"] == ["Segments keep their members; no clear split."]


def test_chosen_fit_is_not_refitted() -> None:
    X, values = _blobs()
    chosen = fit_kmeans(X, 3, random_state=0)
    comparison = compare_k(X, values, [3], random_state=0, chosen=chosen)
    assert comparison.chosen == 3 and comparison.candidate(3).centers is chosen.centers


def test_reused_candidate_reproduces_the_segments_on_the_same_matrix_only() -> None:
    X, _ = _blobs()
    fit = fit_kmeans(X, 4, random_state=0)
    score = {"k": 2, "wcss": 1.0, "silhouette": 0.5, "calinski_harabasz": 1.0, "gap": 0.3}
    selection = {
        "k": 4, "mode": "range", "rule": "r", "reasons": [], "knee": 4, "sample_size": 240,
        "scores": [{**score, "davies_bouldin": 1.0}], "stability": {"future": True},
    }  # fmt: skip
    reused = ReusedCandidate(fit.centers, selection, matrix_sha256=matrix_fingerprint(X))
    again = reused.fit(X)
    assert again is not None
    assert np.array_equal(again.labels, fit.labels) and np.allclose(
        again.confidence, fit.confidence
    )
    assert again.selection.mode == "fixed" and "no refit" in again.selection.reasons[1]
    assert again.selection.scores[0].k == 2  # the earlier table is kept, unknown keys dropped
    assert reused.fit(X + 1e-6) is None
    assert selection_from_dict(selection).knee == 4
