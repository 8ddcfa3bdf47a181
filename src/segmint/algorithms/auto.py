"""``auto``: which family draws the segments.

The rule (recorded with its reasons in every summary):

1. When the data shows no distinct segments (the null-structure test of
   :mod:`segmint.selection`) and k was chosen by segmint, k is a partition of a continuum
   and k-means draws it: such a partition is best made of compact, balanced pieces around
   centres that are easy to explain, and density-based families would cut along noise.
   When k was *given*, the test does not decide: it looks for segments at the k the
   indices point to, not at the given one, and groups that are not convex (rings, bands,
   touching shapes) often fail it while the given k describes them exactly. The families
   are then compared on evidence as in step 2, and k-means is used only when it is
   preferred there.
2. Otherwise the candidates — k-means, Gaussian mixture, Ward and Genie, in this order of
   preference — each partition a sample of at most :data:`SAMPLE` customers into k
   segments, and each partition is scored with the generalised Dunn index of Gagolewski,
   Bartoszuk & Cena (2021), DuNN-OWA: a smoothed minimum of the distances between
   near neighbours (:data:`NEIGHBOURS` nearest) that lie in *different* segments. It is
   large when segments are separated by a gap of low density whatever their shape, and
   small when a boundary cuts through a dense region — the failure of centroid methods on
   rings and bands, and of chaining methods on touching blobs. Of Gagolewski et al.'s
   indices it is the one that matched expert labellings best; the genieclust
   implementation (smoothed minimum ``SMin:5``, constant denominator) is used as is.
3. The best-scoring candidate is chosen; a later candidate must beat an earlier one by
   more than :data:`MARGIN` (relative) to replace it, so on equal evidence the simpler,
   centroid-based model wins. A candidate that returns fewer than k segments, or a
   segment not larger than the neighbourhood, is not eligible.
4. Unstable candidates are penalised: a winner other than k-means is refitted on
   :data:`STABILITY_ROUNDS` bootstrap resamples of at most :data:`STABILITY_SAMPLE`
   customers, and so is k-means; when its mean adjusted Rand index with its own
   partition is lower than k-means' by more than :data:`STABILITY_TOLERANCE` it is set
   aside and the rule is applied again to the others. (Without an eligible k-means the
   bar is :data:`~segmint.stability.STABLE_ARI`; when every candidate fails it, the most
   stable one is taken.) A segmentation that changes when a few customers change is not
   worth the better separation.
5. The final stability figures, on fresh resamples, are a second look
   (:func:`segmint.model.fit_segmentation`): a winner found less stable there than
   k-means was here, by more than :data:`STABILITY_TOLERANCE`, gives way to k-means.

HDBSCAN, BIRCH and the consensus are not candidates (HDBSCAN leaves customers unassigned
and finds its own k; BIRCH approximates Ward; the consensus is built from the candidates)
but remain available by name.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from segmint.algorithms import genie, gmm, kmeans, ward
from segmint.algorithms.base import Fitted, draw_sample
from segmint.stability import STABLE_ARI, model_stability

SAMPLE = 2_000
NEIGHBOURS = 25
MARGIN = 0.05
STABILITY_SAMPLE = 2_000
STABILITY_ROUNDS = 5
STABILITY_TOLERANCE = 0.05
CANDIDATES = ("kmeans", "gmm", "ward", "genie")
_FIT: dict[str, Callable[..., Fitted]] = {
    "kmeans": kmeans.fit,
    "gmm": gmm.fit,
    "ward": ward.fit,
    "genie": genie.fit,
}
_REFIT: dict[str, Callable[..., Fitted]] = {
    **_FIT,
    "kmeans": lambda X, k, rng: kmeans.fit(X, k, rng, n_init=3),
}


@dataclass(frozen=True)
class AlgorithmChoice:
    """Which family ``auto`` chose, and why.

    Attributes
    ----------
    algorithm : str
        The chosen family.
    reasons : list of str
        The decision in plain sentences.
    candidates : list of dict
        Per candidate: ``algorithm``, ``dunn_owa`` (None when not eligible), ``k_found``,
        ``largest_share``, ``eligible`` and, when not, ``why_not``.
    sample_size : int
        Customers the comparison ran on.
    fitted : Fitted or None
        The chosen candidate's fit when it ran on all customers (reused as the final fit).
    """

    algorithm: str
    reasons: list[str]
    candidates: list[dict[str, Any]] = field(default_factory=list)
    sample_size: int = 0
    fitted: Fitted | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (without the fit)."""
        return {
            "algorithm": self.algorithm,
            "rule": (
                "no distinct segments and k chosen: k-means; otherwise the best DuNN-OWA "
                "index among "
                f"{', '.join(CANDIDATES)} (a later candidate must be more than "
                f"{MARGIN:.0%} better)"
            ),
            "reasons": list(self.reasons),
            "candidates": list(self.candidates),
            "sample_size": self.sample_size,
        }


def dunn_owa(X: np.ndarray, labels: np.ndarray, neighbours: int) -> float:
    """Gagolewski's DuNN-OWA index (genieclust) of a partition with labels 0..k-1."""
    from genieclust.cluster_validity import dunnowa_index

    return float(
        dunnowa_index(np.ascontiguousarray(X, dtype=float), labels.astype(np.intp), M=neighbours)
    )


def choose_algorithm(
    X: np.ndarray, k: int, rng: np.random.Generator, *, structure: bool, given: bool = False
) -> AlgorithmChoice:
    """Choose the family for ``k`` segments by the module's rule.

    Parameters
    ----------
    X : ndarray
        Prepared matrix.
    k : int
        Number of segments.
    rng : Generator
        Source of every random choice.
    structure : bool
        Whether the null-structure test found distinct segments.
    given : bool
        Whether k was given by the user; then the families are compared even without
        distinct segments (step 1 of the rule).
    """
    if k <= 1:
        return AlgorithmChoice("kmeans", ["one segment: every family gives the same answer"])
    if not structure and not given:
        return AlgorithmChoice(
            "kmeans",
            [
                "no distinct segments: k-means partitions the continuum into compact, "
                "balanced segments"
            ],
        )
    idx = draw_sample(len(X), SAMPLE, rng)
    sample = X[idx]
    n = len(sample)
    neighbours = max(1, min(NEIGHBOURS, n // (2 * k)))
    rows: list[dict[str, Any]] = []
    fits: dict[str, Fitted] = {}
    for name in CANDIDATES:
        fitted = _FIT[name](sample, k, rng)
        fits[name] = fitted
        sizes = np.bincount(fitted.labels[fitted.labels >= 0], minlength=fitted.k)
        row: dict[str, Any] = {
            "algorithm": name,
            "k_found": fitted.k,
            "largest_share": round(float(sizes.max() / n), 4),
            "smallest_share": round(float(sizes.min() / n), 4),
        }
        if fitted.k < k:
            row.update(eligible=False, dunn_owa=None, why_not=f"found only {fitted.k} segments")
        elif sizes.min() <= neighbours:
            row.update(
                eligible=False, dunn_owa=None, why_not=f"a segment of {int(sizes.min())} customers"
            )
        else:
            score = dunn_owa(sample, fitted.labels, neighbours)
            row.update(
                eligible=True, dunn_owa=score if math.isfinite(score) else None, _score=score
            )
        rows.append(row)
    eligible = [r for r in rows if r["eligible"]]
    if not eligible:
        chosen, reasons = "kmeans", ["no candidate could be scored; k-means by default"]
    else:
        remaining = list(eligible)
        checked: list[dict[str, Any]] = []
        reasons = []
        reference = next((r for r in eligible if r["algorithm"] == "kmeans"), None)
        if reference is not None:
            reference["stability"] = _stability("kmeans", sample, k, rng)
            bar = reference["stability"] - STABILITY_TOLERANCE
            versus = f"k-means' {reference['stability']:.2f} - {STABILITY_TOLERANCE}"
        else:
            bar, versus = STABLE_ARI, f"{STABLE_ARI}"
        while remaining:
            best = remaining[0]
            for row in remaining[1:]:
                if _beats(row["_score"], best["_score"]):
                    best = row
            if "stability" not in best:
                best["stability"] = _stability(best["algorithm"], sample, k, rng)
            checked.append(best)
            if best is reference or best["stability"] >= bar:
                break
            reasons.append(
                f"{best['algorithm']} set aside: less stable (bootstrap ARI "
                f"{best['stability']:.2f} < {versus})"
            )
            remaining.remove(best)
        if best is not reference and best["stability"] < bar:
            best = max(checked, key=lambda r: r["stability"])
            reasons.append(f"every candidate is unstable; {best['algorithm']} is the most stable")
        chosen = best["algorithm"]
        reasons.insert(0, _reason(best, remaining or eligible, neighbours))
    if not structure:
        reasons.insert(
            0,
            f"no distinct segments were found, but k = {k} was given: the families are "
            "compared on how well they separate that many segments",
        )
    for row in rows:
        row.pop("_score", None)
    full = len(idx) == len(X)
    return AlgorithmChoice(
        chosen, reasons, rows, n, fits[chosen] if full and chosen in fits else None
    )


def _stability(name: str, sample: np.ndarray, k: int, rng: np.random.Generator) -> float:
    """Mean bootstrap ARI of a family on at most STABILITY_SAMPLE customers."""
    rows = draw_sample(len(sample), STABILITY_SAMPLE, rng)
    small = sample[rows]
    fitted = _FIT[name](small, k, rng)
    result = model_stability(
        small, fitted.labels, fitted.k, lambda part, r: _REFIT[name](part, k, r), rng,
        rounds=STABILITY_ROUNDS, deterministic=True,
    )  # fmt: skip
    return round(result.bootstrap_ari, 4)


def _beats(score: float, incumbent: float) -> bool:
    if math.isinf(incumbent) and incumbent > 0:
        return False
    if math.isinf(score):
        return score > 0
    if incumbent <= 0:
        return score > incumbent
    return score > incumbent * (1.0 + MARGIN)


def _fmt(value: float | None) -> str:
    return "inf (no near neighbours across segments)" if value is None else f"{value:.3g}"


def _reason(best: dict[str, Any], eligible: list[dict[str, Any]], neighbours: int) -> str:
    scores = ", ".join(f"{r['algorithm']} {_fmt(r['dunn_owa'])}" for r in eligible)
    if all(r["_score"] == best["_score"] for r in eligible):
        return (
            f"every candidate separates the segments equally well (DuNN-OWA {scores}); "
            f"{best['algorithm']} is preferred"
        )
    return (
        f"{best['algorithm']} separates the segments best (DuNN-OWA over {neighbours} nearest "
        "neighbours: "
        f"{scores})"
    )
