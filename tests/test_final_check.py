"""The final stability check: a model that does not come back on resamples is not kept."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from sklearn.datasets import make_blobs

import segmint.model as model
from segmint.headline import structure_sentence
from segmint.model import best_supported_k, fit_segmentation
from segmint.selection import KScore, Selection


def _blobs() -> np.ndarray:
    X, _ = make_blobs(n_samples=600, centers=3, cluster_std=0.4, random_state=3)
    return X


def _selection(k: int, stabilities: dict[int, float], votes: dict[str, int]) -> Selection:
    scores = [KScore(k=j, wcss=1.0, stability=s) for j, s in stabilities.items()]
    return Selection(k=k, mode="auto", rule="r", reasons=[], scores=scores, votes=votes)


def test_best_supported_k_prefers_votes_then_stability_then_smaller_k() -> None:
    stabilities = {1: 1.0, 2: 0.95, 3: 0.5, 4: 0.85, 5: 0.9}
    assert best_supported_k(_selection(3, stabilities, {"gap": 4, "silhouette": 3})) == 4
    assert best_supported_k(_selection(3, stabilities, {"gap": 3})) == 2
    assert best_supported_k(_selection(3, {2: 0.9, 4: 0.9}, {})) == 2
    assert best_supported_k(_selection(3, {2: 0.7, 3: 0.99}, {"gap": 2})) is None


def _first_check_fails(monkeypatch: pytest.MonkeyPatch, always: bool) -> list[int]:
    """Make the final check of the chosen model (and, with ``always``, every other) fail."""
    real = model._stability_of
    seen: list[int] = []

    def fake(name, X, fitted, rng, rounds):  # type: ignore[no-untyped-def]
        measured = real(name, X, fitted, rng, rounds)
        seen.append(fitted.k)
        if always or len(seen) == 1:
            return replace(measured, bootstrap_ari=0.3, stable=False)
        return measured

    monkeypatch.setattr(model, "_stability_of", fake)
    return seen


def test_unstable_final_model_falls_back_to_the_best_supported_k(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    X = _blobs()
    before = fit_segmentation(X, random_state=0)
    assert before.selection.k == 3 and before.selection.final_check == {}
    expected = best_supported_k(before.selection)
    assert expected is not None and expected != 3
    seen = _first_check_fails(monkeypatch, always=False)
    after = fit_segmentation(X, random_state=0)
    assert seen[0] == 3
    assert after.selection.k == after.fitted.k == expected
    assert after.algorithm == "kmeans"
    assert after.selection.final_check == {
        "k": 3,
        "family": before.algorithm,
        "bootstrap_ari": 0.3,
        "outcome": "fallback",
    }
    assert any("final check: k = 3" in r for r in after.selection.reasons)
    assert after.stability is not None and after.stability.bootstrap_ari >= 0.6
    assert after.selection.to_dict()["final_check"]["outcome"] == "fallback"


def test_no_reliable_segments_when_nothing_comes_back(monkeypatch: pytest.MonkeyPatch) -> None:
    X = _blobs()
    _first_check_fails(monkeypatch, always=True)
    fit = fit_segmentation(X, random_state=0)
    assert fit.selection.k == fit.fitted.k == 1
    assert set(fit.fitted.labels.tolist()) == {0}
    assert fit.selection.structure is False and fit.stability is None
    assert fit.selection.final_check["outcome"] == "none"
    assert fit.selection.message.startswith("No reliable segments: the 3 groups found")
    sentence = structure_sentence(1, False, None, None, fit.selection.final_check)
    assert sentence == (
        "No reliable segments: the 3 groups found do not come back on resampled customers "
        "(bootstrap ARI 0.30 < 0.6), so every customer is in one segment."
    )


def test_fixed_k_is_kept_even_when_unstable(monkeypatch: pytest.MonkeyPatch) -> None:
    X = _blobs()
    _first_check_fails(monkeypatch, always=True)
    fit = fit_segmentation(X, k=3, random_state=0)
    assert fit.selection.k == fit.fitted.k == 3
    assert fit.selection.final_check == {}
    assert fit.stability is not None and not fit.stability.stable


def test_fallback_sentence_names_the_rejected_k() -> None:
    check = {"k": 5, "family": "gmm", "bootstrap_ari": 0.41, "outcome": "fallback"}
    sentence = structure_sentence(4, True, 0.23, 0.97, check)
    assert sentence == (
        "Moderate structure: 4 distinct segments that overlap (silhouette 0.23). "
        "The 5 groups found first did not come back on resampled customers."
    )
