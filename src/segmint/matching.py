"""Segments across refits: optimal matching, stable ids and names, champion or challenger.

Matching. A refit (the *challenger*) is matched to the model that serves (the
*champion*) one to one by the Hungarian method (:func:`scipy.optimize.linear_sum_assignment`)
on a cost that combines

* centroid distance, in the champion's prepared space: the champion's segment centres
  against the means of the challenger's members transformed with the champion's
  preparation (so any model that exposes ``centers`` can be compared), divided by the
  median distance between the champion's centres (the typical gap between segments;
  ``sqrt(n_columns)`` with one segment) and capped at 1; and
* customer overlap: the Jaccard index of the two segments' members among the customers
  present in both runs (``1 - Jaccard`` enters the cost).

``cost = 0.5 * distance + 0.5 * (1 - overlap)``, or the distance alone when no customer
is in both runs. A pair is accepted when the centroid distance is at most
:attr:`MatchRule.max_distance` (0.5: the new centre lies within half the typical gap of
the old one), or the overlap is at least :attr:`MatchRule.min_overlap` (1/3), or at least
:attr:`MatchRule.min_containment` (half) of either segment's shared customers are in the
other (a segment that split or merged still continues one of its parts). Unacceptable
pairs are priced out of the assignment, so the matching keeps as many acceptable pairs as
it can. A matched segment keeps the old id, name and action (a person's rename included);
an unmatched new segment is *new* and gets an id never used before; an unmatched old one
is *retired*.

Champion or challenger (:func:`promotion_decision`). The challenger replaces the
champion only when it is

1. at least as good: its silhouette on the new data is at least the champion's minus
   :attr:`PromotionRule.silhouette_tolerance` (0.01), both computed on the same customers
   in the same space (the new data prepared the challenger's way), and
2. at least as stable, both models measured now, on the new data, the same way
   (:func:`stability_on`): each model's labels of the new customers are compared with
   refits of its own family and k (each in its own prepared space) on the same sample of
   at most 2,000 customers and the same bootstrap resamples. The challenger's mean
   bootstrap ARI must be at least the champion's minus
   :attr:`PromotionRule.stability_tolerance` (0.05); so must its seed ARI when both
   families depend on the seed; and none of its segments may dissolve (Hennig's Jaccard
   below :attr:`PromotionRule.dissolved_jaccard`, 0.5) unless the champion's weakest
   segment is as weak (within the same tolerance). A stale champion whose labels today's
   data no longer reproduces scores low here, as it should.

When a model's stability cannot be measured again (a family unknown to this version),
the scores stored at fit time are compared instead (the challenger's at least the
champion's minus the tolerance, or at least :attr:`PromotionRule.min_stability`, 0.6,
when only the challenger has one); without any, the check is skipped and said so.
Otherwise the champion keeps serving and the reasons are recorded.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist, pdist
from sklearn.metrics import silhouette_score

from segmint.algorithms import FAMILIES, UNASSIGNED
from segmint.algorithms.tiers import TIER_ID_BASE
from segmint.model import DETERMINISTIC, refit_family
from segmint.pipeline import SegmentationModel, SegmentationResult
from segmint.stability import ROUNDS, Stability, model_stability
from segmint.threads import single_thread

SILHOUETTE_SAMPLE = 10_000
_PRICED_OUT = 10.0


@dataclass(frozen=True)
class MatchRule:
    """Parameters of :func:`match_segments` (see the module docstring)."""

    distance_weight: float = 0.5
    max_distance: float = 0.5
    min_overlap: float = 1 / 3
    min_containment: float = 0.5


@dataclass(frozen=True)
class SegmentPair:
    """One accepted pair: a challenger segment that continues a champion segment."""

    old_id: int
    new_position: int
    distance: float
    overlap: float | None
    cost: float


@dataclass(frozen=True)
class SegmentMatch:
    """Result of :func:`match_segments`.

    Attributes
    ----------
    pairs : list of SegmentPair
        Accepted pairs, by new position.
    new_positions : list of int
        Challenger segments (by position in its centres) that continue nothing.
    retired_ids : list of int
        Champion segment ids that nothing continues.
    distance : ndarray of shape (k_old, k_new)
        Scaled centroid distances (capped at 1).
    overlap : ndarray of shape (k_old, k_new) or None
        Jaccard overlaps among the customers in both runs.
    old_ids : list of int
        Champion segment ids, in the row order of ``distance``.
    scale : float
        The distance that counts as 1 (median gap between champion centres).
    rule : MatchRule
    """

    pairs: list[SegmentPair]
    new_positions: list[int]
    retired_ids: list[int]
    distance: np.ndarray
    overlap: np.ndarray | None
    old_ids: list[int]
    scale: float
    rule: MatchRule

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "pairs": [dataclasses.asdict(p) for p in self.pairs],
            "new_positions": self.new_positions,
            "retired_ids": self.retired_ids,
            "old_ids": self.old_ids,
            "distance": np.round(self.distance, 6).tolist(),
            "overlap": None if self.overlap is None else np.round(self.overlap, 6).tolist(),
            "scale": self.scale,
            "rule": dataclasses.asdict(self.rule),
        }


def shared_customers(
    old: pd.DataFrame, new: pd.DataFrame, old_ids: list[int], new_labels: list[int]
) -> np.ndarray | None:
    """Customers in both tables, counted by (old segment, new segment).

    Parameters
    ----------
    old, new : DataFrame
        ``customer_id`` and ``segment`` columns.
    old_ids, new_labels : list of int
        Segment labels giving the row and column order.

    Returns
    -------
    ndarray of shape (len(old_ids), len(new_labels)), or None when no customer is in both.
    """
    both = old[["customer_id", "segment"]].merge(
        new[["customer_id", "segment"]], on="customer_id", suffixes=("_old", "_new")
    )
    if both.empty:
        return None
    crossed = pd.crosstab(both["segment_old"], both["segment_new"])
    return cast(
        np.ndarray, crossed.reindex(index=old_ids, columns=new_labels, fill_value=0).to_numpy(float)
    )


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / denominator, 0.0)


def overlap_matrix(
    old: pd.DataFrame, new: pd.DataFrame, old_ids: list[int], new_labels: list[int]
) -> np.ndarray | None:
    """Jaccard overlap of segment members among the customers in both tables.

    Same parameters as :func:`shared_customers`; None when no customer is in both.
    """
    crossed = shared_customers(old, new, old_ids, new_labels)
    if crossed is None:
        return None
    union = crossed.sum(axis=1, keepdims=True) + crossed.sum(axis=0, keepdims=True) - crossed
    return _ratio(crossed, union)


def containment_matrix(
    old: pd.DataFrame, new: pd.DataFrame, old_ids: list[int], new_labels: list[int]
) -> np.ndarray | None:
    """For each pair, the larger of the shares of either segment's shared customers in the other.

    Same parameters as :func:`shared_customers`; None when no customer is in both.
    """
    crossed = shared_customers(old, new, old_ids, new_labels)
    if crossed is None:
        return None
    of_old = _ratio(crossed, crossed.sum(axis=1, keepdims=True))
    of_new = _ratio(crossed, crossed.sum(axis=0, keepdims=True))
    return cast(np.ndarray, np.maximum(of_old, of_new))


def match_segments(
    old_centers: np.ndarray,
    new_centroids: np.ndarray,
    *,
    old_ids: list[int],
    overlap: np.ndarray | None = None,
    containment: np.ndarray | None = None,
    rule: MatchRule | None = None,
    allowed: np.ndarray | None = None,
) -> SegmentMatch:
    """Match new segments to old ones one to one (Hungarian method).

    Parameters
    ----------
    old_centers : ndarray of shape (k_old, p)
        The champion's centres.
    new_centroids : ndarray of shape (k_new, p)
        The challenger's segment centroids in the same space.
    old_ids : list of int
        Ids of the champion's segments, in the row order of ``old_centers``.
    overlap : ndarray of shape (k_old, k_new), optional
        Jaccard overlaps (see :func:`overlap_matrix`).
    containment : ndarray of shape (k_old, k_new), optional
        See :func:`containment_matrix`.
    rule : MatchRule, optional
    allowed : ndarray of bool, shape (k_old, k_new), optional
        Pairs that may match at all (segments within tiers match only in their tier).

    Returns
    -------
    SegmentMatch
    """
    rule = rule or MatchRule()
    old_centers = np.asarray(old_centers, dtype=float)
    new_centroids = np.asarray(new_centroids, dtype=float)
    if len(old_centers) > 1:
        scale = float(np.median(pdist(old_centers)))
    else:
        scale = math.sqrt(old_centers.shape[1])
    scale = scale if scale > 0 else 1.0
    distance = np.minimum(cdist(old_centers, new_centroids) / scale, 1.0)
    if overlap is None:
        cost = distance.copy()
        acceptable = distance <= rule.max_distance
    else:
        w = rule.distance_weight
        cost = w * distance + (1 - w) * (1 - overlap)
        acceptable = (distance <= rule.max_distance) | (overlap >= rule.min_overlap)
        if containment is not None:
            acceptable |= containment >= rule.min_containment
    if allowed is not None:
        acceptable &= allowed
    rows, cols = linear_sum_assignment(np.where(acceptable, cost, cost + _PRICED_OUT))
    pairs = [
        SegmentPair(
            old_id=int(old_ids[i]),
            new_position=int(j),
            distance=round(float(distance[i, j]), 6),
            overlap=None if overlap is None else round(float(overlap[i, j]), 6),
            cost=round(float(cost[i, j]), 6),
        )
        for i, j in zip(rows, cols, strict=True)
        if acceptable[i, j]
    ]
    pairs.sort(key=lambda p: p.new_position)
    matched_new = {p.new_position for p in pairs}
    matched_old = {p.old_id for p in pairs}
    return SegmentMatch(
        pairs=pairs,
        new_positions=[j for j in range(len(new_centroids)) if j not in matched_new],
        retired_ids=[int(i) for i in old_ids if int(i) not in matched_old],
        distance=distance,
        overlap=overlap,
        old_ids=[int(i) for i in old_ids],
        scale=scale,
        rule=rule,
    )


def member_centroids(
    model: SegmentationModel, customers: pd.DataFrame, labels: np.ndarray, k: int
) -> np.ndarray:
    """Mean of each segment's members in ``model``'s prepared space (NaN rows for empty ones).

    ``labels`` are positions 0..k-1 of another model's segments, aligned with ``customers``.
    """
    matrix, _ = model.preparation.transform(customers)
    out = np.full((k, matrix.shape[1]), np.nan)
    for j in range(k):
        members = labels == j
        if members.any():
            out[j] = matrix[members].mean(axis=0)
    return out


def match_refit(
    champion: SegmentationModel,
    champion_labels: pd.DataFrame | None,
    challenger: SegmentationResult,
    *,
    rule: MatchRule | None = None,
) -> SegmentMatch:
    """Match a fresh fit to the serving model.

    Parameters
    ----------
    champion : SegmentationModel
    champion_labels : DataFrame, optional
        The champion's latest assignments (``customer_id``, ``segment``) for the overlap.
    challenger : SegmentationResult
        The fresh fit, with segment ids 0..k-1 in the order of its centres.
    rule : MatchRule, optional
    """
    k_new = challenger.model.k
    positions = segment_positions(challenger.model, challenger.assignments["segment"])
    centroids = member_centroids(champion, challenger.features, positions, k_new)
    centroids = np.where(np.isnan(centroids), np.inf, centroids)
    old_ids = [int(i) for i in champion.segment_ids()]
    overlap = containment = None
    if champion_labels is not None and len(champion_labels):
        by_position = challenger.assignments.assign(segment=positions)
        args = (champion_labels, by_position, old_ids, list(range(k_new)))
        overlap, containment = overlap_matrix(*args), containment_matrix(*args)
    old_tiers = [s.get("tier") for s in champion.segments if s["id"] != UNASSIGNED]
    new_tiers = [s.get("tier") for s in challenger.model.segments if s["id"] != UNASSIGNED]
    allowed = np.array([[o == n for n in new_tiers] for o in old_tiers], dtype=bool)
    return match_segments(
        champion.centers,
        centroids,
        old_ids=old_ids,
        overlap=overlap,
        containment=containment,
        rule=rule,
        allowed=allowed.reshape(len(old_ids), k_new),
    )


def segment_positions(model: SegmentationModel, labels: Any) -> np.ndarray:
    """Segment ids -> positions in ``model``'s centres (-1, unassigned, stays -1)."""
    where = {int(i): p for p, i in enumerate(model.segment_ids())}
    return np.array([where.get(int(v), UNASSIGNED) for v in labels], dtype=np.int64)


def new_tier_segment_id(tier: str, used: set[int], numbers: dict[str, int]) -> int:
    """An id never used before for a new segment of ``tier``: ``tier number * 100 + j``,
    the next j of the tier's number (a tier not seen before gets the next free number,
    recorded in ``numbers``)."""
    if tier not in numbers:
        seen = [*numbers.values(), *(i // TIER_ID_BASE for i in used if i >= 0)]
        numbers[tier] = max(seen, default=0) + 1
    number = numbers[tier]
    own = [i % TIER_ID_BASE for i in used if i >= 0 and i // TIER_ID_BASE == number]
    return number * TIER_ID_BASE + max(own, default=-1) + 1


def relabel(
    result: SegmentationResult,
    match: SegmentMatch,
    champion: SegmentationModel,
    *,
    next_id: int,
    overrides: dict[int, dict[str, str]] | None = None,
    used_ids: set[int] | None = None,
) -> SegmentationResult:
    """Give a fresh fit the ids and names of the segments it continues.

    Parameters
    ----------
    result : SegmentationResult
        The fresh fit (segment ids are positions 0..k-1).
    match : SegmentMatch
        From :func:`match_refit`.
    champion : SegmentationModel
        The model whose ids and names continue.
    next_id : int
        First id for a new segment (never an id used before).
    overrides : dict, optional
        Segment id -> ``{"name": ..., "action": ...}`` set by a person; they win.
    used_ids : set of int, optional
        Every segment id used so far (within tiers a new segment gets the next id of its
        tier among them, see :func:`new_tier_segment_id`).

    Returns
    -------
    SegmentationResult
        Same partition; ids, names and actions carried over; each matched segment records
        ``suggested_name`` (what the profile alone would call it) and ``continues``.
    """
    overrides = overrides or {}
    old = {int(s["id"]): s for s in champion.segments}
    by_position: dict[int, dict[str, Any]] = {}
    for pair in match.pairs:
        seg = old[pair.old_id]
        chosen = overrides.get(pair.old_id, {})
        by_position[pair.new_position] = {
            "id": pair.old_id,
            "name": chosen.get("name") or seg["name"],
            "action": chosen.get("action") or seg.get("action", ""),
            "continues": pair.old_id,
        }
    taken = {v["name"] for v in by_position.values()}
    centred = [s for s in result.model.segments if s["id"] != UNASSIGNED]  # by centre
    used = {*(used_ids or ()), *old}
    numbers = {
        str(s["tier"]): int(s["id"]) // TIER_ID_BASE for s in champion.segments if "tier" in s
    }
    fresh = next_id
    for position in match.new_positions:
        tier = centred[position].get("tier")
        if tier is None:
            new_id, fresh = fresh, fresh + 1
        else:
            new_id = new_tier_segment_id(str(tier), used, numbers)
        used.add(new_id)
        name = str(centred[position]["name"])
        base, n = name, 2
        while name in taken:
            name, n = f"{base} {n}", n + 1
        taken.add(name)
        by_position[position] = {
            "id": new_id,
            "name": name,
            "action": centred[position].get("action", ""),
            "continues": None,
        }
    segments = []
    position = 0
    for seg in result.model.segments:
        if seg["id"] == UNASSIGNED:  # HDBSCAN's unassigned group has no centre and keeps -1
            segments.append(seg)
            continue
        update = by_position[position]
        position += 1
        segments.append(
            {
                **seg,
                "id": update["id"],
                "name": update["name"],
                "action": update["action"],
                "suggested_name": seg["name"],
                "continues": update["continues"],
            }
        )
    model = dataclasses.replace(result.model, segments=segments)
    id_of = np.array([by_position[p]["id"] for p in range(len(centred))], dtype=np.int64)
    names = {by_position[p]["id"]: by_position[p]["name"] for p in by_position}
    names[UNASSIGNED] = "Unassigned"
    positions = segment_positions(result.model, result.assignments["segment"])
    assignments = result.assignments.copy()
    assignments["segment"] = np.where(positions >= 0, id_of[np.maximum(positions, 0)], UNASSIGNED)
    assignments["segment_name"] = [names[int(s)] for s in assignments["segment"]]
    old_position = {int(i): p for p, i in enumerate(result.model.segment_ids())}
    profiles = []
    for p in result.profiles:
        if p.id not in old_position:  # the unassigned group keeps its id
            profiles.append(p)
            continue
        update = by_position[old_position[p.id]]
        profiles.append(
            dataclasses.replace(p, id=update["id"], name=update["name"], action=update["action"])
        )
    summary = {**result.summary, "segments": segments, "model_fingerprint": model.fingerprint()}
    return dataclasses.replace(
        result, model=model, assignments=assignments, profiles=profiles, summary=summary
    )


@dataclass(frozen=True)
class PromotionRule:
    """Parameters of :func:`promotion_decision` (see the module docstring)."""

    silhouette_tolerance: float = 0.01
    stability_tolerance: float = 0.05
    dissolved_jaccard: float = 0.5
    min_stability: float = 0.6


@dataclass(frozen=True)
class PromotionDecision:
    """Whether the challenger replaces the champion, and why.

    ``stability`` holds both models' figures measured on the new data
    (:func:`stability_on`), empty when they were not measured.
    """

    promote: bool
    reasons: list[str]
    metrics: dict[str, Any]
    stability: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out = {"promote": self.promote, "reasons": self.reasons, "metrics": self.metrics}
        if self.stability:
            out["stability"] = self.stability
        return out


def model_family(model: SegmentationModel) -> str:
    """The family that drew a model's segments (``tiers`` within a column; ``kmeans`` for
    models saved before the family was recorded)."""
    used = model.params.get("algorithm_used") or model.params.get("algorithm") or "kmeans"
    return "kmeans" if used == "auto" else str(used)


def _measure(
    matrix: np.ndarray, positions: np.ndarray, k: int, family: str, seed: list[int]
) -> Stability:
    """Stability of ``positions`` on ``matrix`` against refits of ``family``: the sample and
    the bootstrap resamples come from one generator, the refits from another, so two models
    measured with the same seed on the same customers see the same draws."""
    refits = np.random.default_rng([*seed, 2])
    deterministic = family in DETERMINISTIC
    with single_thread():
        return model_stability(
            matrix, positions, k, lambda sample, _: refit_family(family, sample, k, refits),
            np.random.default_rng([*seed, 1]), deterministic=deterministic,
        )  # fmt: skip


def stability_on(
    model: SegmentationModel,
    customers: pd.DataFrame,
    labels: np.ndarray,
    *,
    random_state: int | None = 0,
) -> dict[str, Any] | None:
    """A model's stability re-measured on other customers (:mod:`segmint.stability`).

    The customers are prepared the model's way; its labels of them (segment ids) are
    compared with refits of the model's family and k on bootstrap resamples of at most
    2,000 of them (mean adjusted Rand index), with refits under other seeds, and per
    segment by Hennig's Jaccard. Within tiers each tier is measured on its own and the
    figures are averaged, weighted by customers. Two models measured with the same
    ``random_state`` on the same customers see the same sample and resamples.

    Returns
    -------
    dict or None
        ``bootstrap_ari``, ``bootstrap_ari_sd``, ``seed_ari`` (None for deterministic
        families), ``jaccard`` (segment id -> value), ``weakest_segment``,
        ``weakest_jaccard``, ``family``, ``rounds``, ``sample_size``; None when the
        model's family is unknown here.
    """
    family = model_family(model)
    if family != "tiers" and family not in FAMILIES:
        return None
    matrix, _ = model.preparation.transform(customers)
    ids = model.segment_ids()
    where = {int(i): p for p, i in enumerate(ids)}
    positions = np.array([where.get(int(v), UNASSIGNED) for v in labels], dtype=np.int64)
    seed = [0 if random_state is None else int(random_state)]
    if family != "tiers":
        parts = [(np.arange(len(matrix)), positions, model.k, family, 0)]
    else:
        from segmint.algorithms.tiers import tier_values

        rule: Any = model.assigner
        groups = tier_values(customers[rule.column])
        tiers = model.selection.get("tiers", [])
        parts = []
        for number, (level, offset, size) in enumerate(
            zip(rule.levels, rule.offsets, rule.sizes, strict=True)
        ):
            rows = np.flatnonzero(groups == level)
            local = positions[rows] - offset
            local = np.where((local >= 0) & (local < size), local, UNASSIGNED)
            tier_family = tiers[number]["algorithm"] if number < len(tiers) else "kmeans"
            parts.append((rows, local, size, tier_family, offset))
    weights, aris, sds, seed_aris, jaccard = [], [], [], [], {}
    sample_size = 0
    for number, (rows, local, size, part_family, offset) in enumerate(parts):
        if len(rows) == 0:
            continue
        found = _measure(matrix[rows], local, size, part_family, [*seed, number])
        weights.append(len(rows))
        aris.append(found.bootstrap_ari)
        sds.append(found.bootstrap_ari_sd)
        if found.seed_ari is not None:
            seed_aris.append((len(rows), found.seed_ari))
        sample_size += found.sample_size
        for position, value in enumerate(found.jaccard):
            jaccard[int(ids[offset + position])] = round(float(value), 4)
    if not weights:
        return None
    weakest = min(jaccard, key=lambda i: jaccard[i]) if jaccard else None
    seed_ari = (
        float(np.average([a for _, a in seed_aris], weights=[w for w, _ in seed_aris]))
        if seed_aris
        else None
    )
    return {
        "bootstrap_ari": round(float(np.average(aris, weights=weights)), 4),
        "bootstrap_ari_sd": round(float(np.average(sds, weights=weights)), 4),
        "seed_ari": None if seed_ari is None else round(seed_ari, 4),
        "jaccard": jaccard,
        "weakest_segment": weakest,
        "weakest_jaccard": None if weakest is None else jaccard[weakest],
        "family": family,
        "rounds": ROUNDS,
        "sample_size": sample_size,
    }


def stability_score(model: SegmentationModel) -> float | None:
    """A model's bootstrap stability score from its selection diagnostics, if it has one.

    Accepts ``selection["stability"]`` as a number or as a mapping holding one under
    ``score``, ``mean_jaccard``, ``mean`` or ``ari`` (in that order of preference).
    """
    found = model.selection.get("stability") if isinstance(model.selection, dict) else None
    if isinstance(found, dict):
        for key in ("score", "mean_jaccard", "mean", "ari"):
            if isinstance(found.get(key), (int, float)):
                found = found[key]
                break
    if isinstance(found, (int, float)) and not isinstance(found, bool) and math.isfinite(found):
        return float(found)
    return None


def silhouette(
    matrix: np.ndarray, labels: np.ndarray, *, random_state: int | None = 0
) -> float | None:
    """Silhouette of ``labels`` on ``matrix``: exact up to 10,000 rows, else a seeded sample.

    None when fewer than two segments are present or every row is its own segment.
    """
    present = len(np.unique(labels))
    if present < 2 or present >= len(labels):
        return None
    sample = SILHOUETTE_SAMPLE if len(labels) > SILHOUETTE_SAMPLE else None
    return float(silhouette_score(matrix, labels, sample_size=sample, random_state=random_state))


def promotion_decision(
    champion: SegmentationModel,
    challenger: SegmentationResult,
    champion_labels: np.ndarray | None,
    *,
    rule: PromotionRule | None = None,
    random_state: int | None = 0,
    remeasure: bool = True,
) -> PromotionDecision:
    """Champion or challenger on the new data (the rule is in the module docstring).

    Parameters
    ----------
    champion : SegmentationModel
    challenger : SegmentationResult
        The fresh fit on the new data.
    champion_labels : ndarray or None
        The champion's labels of ``challenger.features`` (None when it cannot label them:
        the challenger then wins).
    rule : PromotionRule, optional
    random_state : int or None
        Seed of the silhouette sample and of the stability draws.
    remeasure : bool
        Measure both models' stability on the new data (:func:`stability_on`); with
        False only the scores stored at fit time are compared.
    """
    rule = rule or PromotionRule()
    if champion_labels is None:
        return PromotionDecision(True, ["the current model cannot label the new data"], {})
    matrix, _ = challenger.model.preparation.transform(challenger.features)
    new_labels = challenger.assignments["segment"].to_numpy()
    new_sil = silhouette(matrix, new_labels, random_state=random_state)
    old_sil = silhouette(matrix, np.asarray(champion_labels), random_state=random_state)
    measured: dict[str, Any] = {}
    if remeasure:
        args = {"random_state": random_state}
        new_m = stability_on(challenger.model, challenger.features, new_labels, **args)
        old_m = stability_on(champion, challenger.features, np.asarray(champion_labels), **args)
        if new_m is not None and old_m is not None:
            measured = {"challenger": new_m, "champion": old_m, "on": "the new data"}
    if measured:
        new_stab = measured["challenger"]["bootstrap_ari"]
        old_stab = measured["champion"]["bootstrap_ari"]
    else:
        new_stab, old_stab = stability_score(challenger.model), stability_score(champion)
    metrics = {
        "silhouette_challenger": new_sil,
        "silhouette_champion": old_sil,
        "stability_challenger": new_stab,
        "stability_champion": old_stab,
        "k_challenger": challenger.model.k,
        "k_champion": champion.k,
    }
    if measured:
        for who in ("challenger", "champion"):
            metrics[f"seed_ari_{who}"] = measured[who]["seed_ari"]
            metrics[f"weakest_jaccard_{who}"] = measured[who]["weakest_jaccard"]
    reasons: list[str] = []
    promote = True
    if new_sil is None:
        promote = False
        reasons.append("the new fit has a single segment on the new data (no silhouette)")
    elif old_sil is None:
        reasons.append(
            f"silhouette on the new data {new_sil:.3f}; the current model puts "
            "every customer in one segment"
        )
    elif new_sil >= old_sil - rule.silhouette_tolerance:
        reasons.append(
            f"as good: silhouette on the new data {new_sil:.3f} vs {old_sil:.3f} for "
            f"the current model (tolerance {rule.silhouette_tolerance})"
        )
    else:
        promote = False
        reasons.append(
            f"not as good: silhouette on the new data {new_sil:.3f} vs {old_sil:.3f} "
            f"for the current model (tolerance {rule.silhouette_tolerance})"
        )
    if measured:
        checks = _stability_checks(measured, challenger.model.segment_names(), rule)
        promote = promote and all(ok for ok, _ in checks)
        reasons += [text for _, text in checks]
    elif new_stab is not None and old_stab is not None:
        if new_stab >= old_stab - rule.stability_tolerance:
            reasons.append(f"as stable: {new_stab:.3f} vs {old_stab:.3f}")
        else:
            promote = False
            reasons.append(
                f"less stable: {new_stab:.3f} vs {old_stab:.3f} "
                f"(tolerance {rule.stability_tolerance})"
            )
    elif new_stab is not None:
        if new_stab >= rule.min_stability:
            reasons.append(f"stable: {new_stab:.3f} >= {rule.min_stability}")
        else:
            promote = False
            reasons.append(f"not stable: {new_stab:.3f} < {rule.min_stability}")
    else:
        reasons.append("stability not measured (no bootstrap score in the models); check skipped")
    return PromotionDecision(promote, reasons, metrics, measured)


def _stability_checks(
    measured: dict[str, Any], names: dict[int, str], rule: PromotionRule
) -> list[tuple[bool, str]]:
    """The stability parts of the rule, each as (passed, reason)."""
    new, old = measured["challenger"], measured["champion"]
    tol = rule.stability_tolerance
    where = f"on the new data ({new['sample_size']:,} customers, {new['rounds']} resamples)"
    ok = new["bootstrap_ari"] >= old["bootstrap_ari"] - tol
    checks = [
        (
            ok,
            f"{'as stable' if ok else 'less stable'}: bootstrap ARI {new['bootstrap_ari']:.3f} "
            f"vs {old['bootstrap_ari']:.3f} for the current model {where} (tolerance {tol})",
        )
    ]
    if new["seed_ari"] is not None and old["seed_ari"] is not None:
        ok = new["seed_ari"] >= old["seed_ari"] - tol
        checks.append(
            (
                ok,
                f"{'as stable' if ok else 'less stable'} across seeds: ARI "
                f"{new['seed_ari']:.3f} vs {old['seed_ari']:.3f} (tolerance {tol})",
            )
        )
    weakest, value = new["weakest_segment"], new["weakest_jaccard"]
    if weakest is not None and value < rule.dissolved_jaccard:
        floor = old["weakest_jaccard"] if old["weakest_jaccard"] is not None else 1.0
        ok = value >= floor - tol
        name = names.get(int(weakest), str(weakest))
        checks.append(
            (
                ok,
                f"segment {weakest} {name!r} dissolves under resampling: Jaccard {value:.2f} < "
                f"{rule.dissolved_jaccard} (the current model's weakest segment: {floor:.2f})",
            )
        )
    return checks
