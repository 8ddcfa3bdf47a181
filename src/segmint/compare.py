"""Comparing candidate numbers of segments side by side (``segmint fit --k 3-7 --compare``).

Practitioners' usual advice is to run k = 3..7 and keep the k whose segments are the most
useful. :func:`compare_k` fits every k of the range the way the final model is fitted
(k-means, 10 k-means++ starts, the same seed, ids by size), profiles and names each, and
scores it (WCSS, silhouette, Calinski-Harabasz, Davies-Bouldin on the same customers). It
also says how segments split as k grows: for k -> k + 1 the cross-table of customers,
and in words which segment splits into which (a child is attributed to the parent that
gives it most of its customers).

Picking another k without refitting: every candidate's centres are kept. Labels of a
k-means fit are the nearest centres, so a saved candidate reproduces its segments
exactly on the same prepared data (:class:`ReusedCandidate`); the run folder records the
data's hash and the parameters that shape the prepared matrix so that a later
``segmint fit ... --k 5`` knows when this holds.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from segmint.model import KMeansFit, fit_kmeans, nearest_centers
from segmint.profile import SegmentProfile, segment_profiles
from segmint.selection import KScore, Selection, score_k

MIN_FLOW_SHARE = 0.10


@dataclass(frozen=True)
class Candidate:
    """One candidate k: its centres, labels, profiles and indices."""

    k: int
    centers: np.ndarray
    labels: np.ndarray
    profiles: list[SegmentProfile]
    indices: dict[str, float | None]

    def to_dict(self) -> dict[str, Any]:
        """Compact JSON form: indices and per segment id, name, size, share, top differences."""
        return {
            "k": self.k,
            "indices": self.indices,
            "segments": [
                {
                    "id": p.id,
                    "name": p.name,
                    "size": p.size,
                    "share": round(p.share, 6),
                    "action": p.action,
                    "differentiators": [
                        f"{d.phrase()} ({d.std_diff:+.2f} sd)" for d in p.differentiators
                    ],
                }
                for p in self.profiles
            ],
        }


@dataclass(frozen=True)
class KComparison:
    """Every candidate k and how segments split from one k to the next."""

    chosen: int
    candidates: list[Candidate]
    splits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ks(self) -> list[int]:
        """The candidate ks, increasing."""
        return [c.k for c in self.candidates]

    def candidate(self, k: int) -> Candidate:
        """The candidate with ``k`` segments."""
        for c in self.candidates:
            if c.k == k:
                return c
        raise KeyError(k)

    def to_dict(self) -> dict[str, Any]:
        """JSON form for ``summary.json`` (``comparison``)."""
        return {
            "chosen": self.chosen,
            "ks": self.ks,
            "candidates": [c.to_dict() for c in self.candidates],
            "splits": self.splits,
        }


def compare_k(
    matrix: np.ndarray,
    values: pd.DataFrame,
    ks: Sequence[int],
    *,
    random_state: int | None = 0,
    ids: Any = None,
    chosen: KMeansFit | None = None,
) -> KComparison:
    """Fit, profile, name and score every k in ``ks``.

    Parameters
    ----------
    matrix : ndarray
        The prepared matrix.
    values : DataFrame
        Features in the user's units (for profiles).
    ks : sequence of int
        Candidate numbers of segments.
    random_state : int or None
        Seed (the same as the final fit's, so the chosen k's candidate is the final model).
    ids : sequence, optional
        Customer ids, for the typical customers of each profile.
    chosen : KMeansFit, optional
        The final fit; its k is taken from it instead of being fitted again.
    """
    rng = np.random.default_rng(random_state)
    candidates = []
    for k in sorted(set(int(k) for k in ks)):
        if k > len(matrix):
            continue
        fit = chosen if chosen is not None and len(chosen.centers) == k else None
        if fit is None:
            fit = fit_kmeans(matrix, k, random_state=random_state)
        profiles = segment_profiles(
            values, fit.labels, fit.confidence, k, matrix=matrix, centers=fit.centers, ids=ids
        )
        wcss = float(((matrix - fit.centers[fit.labels]) ** 2).sum())
        score = score_k(matrix, fit.labels, wcss, k, rng)
        indices = {
            "wcss": wcss,
            "silhouette": score.silhouette,
            "calinski_harabasz": score.calinski_harabasz,
            "davies_bouldin": score.davies_bouldin,
        }
        candidates.append(Candidate(k, fit.centers, fit.labels, profiles, indices))
    splits = [split_between(a, b) for a, b in itertools.pairwise(candidates)]
    final = len(chosen.centers) if chosen is not None else (candidates[0].k if candidates else 0)
    return KComparison(chosen=final, candidates=candidates, splits=splits)


def split_between(smaller: Candidate, larger: Candidate) -> dict[str, Any]:
    """How the segments of ``smaller`` are shared out among those of ``larger``.

    Returns
    -------
    dict
        ``from_k``, ``to_k``, ``flows`` (every non-empty cell of the cross-table:
        ``from``, ``to``, ``customers``) and ``story`` (sentences).
    """
    table = pd.crosstab(smaller.labels, larger.labels)
    flows = [
        {"from": int(i), "to": int(j), "customers": int(table.loc[i, j])}
        for i in table.index
        for j in table.columns
        if table.loc[i, j] > 0
    ]
    names_small = {p.id: p.name for p in smaller.profiles}
    names_large = {p.id: p.name for p in larger.profiles}
    parent_of = {int(j): int(table[j].idxmax()) for j in table.columns}
    story = []
    for i in table.index:
        children = [j for j, parent in parent_of.items() if parent == int(i)]
        total = int(table.loc[i].sum())
        if len(children) >= 2:
            parts = sorted(children, key=lambda j: -int(table.loc[i, j]))
            words = " and ".join(f"{names_large[j]} ({table.loc[i, j] / total:.0%})" for j in parts)
            story.append(f"{names_small[int(i)]} splits into {words}.")
    for j in table.columns:
        column = table[j]
        sources = [int(i) for i in column.index if column[i] >= MIN_FLOW_SHARE * column.sum()]
        if len(sources) >= 2:
            words = ", ".join(
                f"{names_small[i]} ({column[i] / column.sum():.0%})"
                for i in sorted(sources, key=lambda i: -int(column[i]))
            )
            story.append(f"{names_large[int(j)]} draws on {words}.")
    if not story:
        story.append("Segments keep their members; no clear split.")
    return {"from_k": smaller.k, "to_k": larger.k, "flows": flows, "story": story}


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def selection_from_dict(data: dict[str, Any]) -> Selection:
    """A :class:`~segmint.selection.Selection` back from its ``to_dict`` form (unknown
    keys, from newer versions, are ignored)."""
    values = _known(Selection, data)
    values["scores"] = [KScore(**_known(KScore, s)) for s in data.get("scores", [])]
    return Selection(**values)


def matrix_fingerprint(matrix: np.ndarray) -> str:
    """SHA-256 of a prepared matrix (its shape and its values rounded to 10 decimals)."""
    digest = hashlib.sha256(str(np.shape(matrix)).encode())
    digest.update(np.ascontiguousarray(np.round(np.asarray(matrix, dtype=float), 10)).tobytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class ReusedCandidate:
    """A saved candidate of an earlier ``--compare`` run, to label without refitting.

    Attributes
    ----------
    centers : ndarray
        The candidate's segment centres in the prepared space (ids by size).
    selection : dict
        The earlier run's selection (its per-k table is kept for the report).
    origin : str
        Where the candidate comes from, for the reasons.
    matrix_sha256 : str
        :func:`matrix_fingerprint` of the matrix the candidate was fitted on; the
        candidate is reused only on that very matrix.
    """

    centers: np.ndarray
    selection: dict[str, Any]
    origin: str = "an earlier --compare run"
    matrix_sha256: str = ""

    def fit(self, matrix: np.ndarray) -> KMeansFit | None:
        """Labels and confidence of ``matrix`` by the saved centres; None when ``matrix``
        is not the one the candidate was fitted on (then k-means must run)."""
        if self.matrix_sha256 != matrix_fingerprint(matrix):
            return None
        labels, confidence = nearest_centers(matrix, self.centers)
        k = len(self.centers)
        base = dict(self.selection)
        base.update(
            k=k,
            mode="fixed",
            rule="given",
            reasons=[
                f"k = {k} was given",
                f"reused the k = {k} candidate of {self.origin} (same data and parameters): "
                "no refit",
            ],
        )
        return KMeansFit(
            centers=self.centers,
            labels=labels,
            confidence=confidence,
            selection=selection_from_dict(base),
        )
