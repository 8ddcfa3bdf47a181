"""What is in each segment: statistics in the user's units, differentiators and names.

For every segment: size and share; mean and median of every feature in the user's units
(days, orders, currency, 0/1 for a category level); the features that set it apart
(standardised difference from the population, and from the nearest other segment);
typical customers (the members closest to the segment centre); and how confident the
assignments are (quantiles and a histogram of the confidence).

Names and actions come from :mod:`segmint.naming`: archetypes matched on the segments'
mean percentile ranks of recency, frequency, monetary value and tenure when those
features exist, otherwise the strongest differentiators.

Typical customers are given by the ids passed in (``ids=``), which are the ids written to
``segments.csv``: whatever form those ids take (an id-hashing option hashes both), the
examples never show more than the assignments do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from segmint.naming import (
    ALL_CUSTOMERS_ACTION,
    ALL_CUSTOMERS_NAME,
    ARCHETYPES,
    DIFFERENTIATOR_MIN,
    UNASSIGNED,
    UNASSIGNED_ACTION,
    UNASSIGNED_NAME,
    Contrast,
    Differentiator,
    action_for,
    archetype_names,
    differentiator_name,
    distinct_facts,
    humanise,
    unique_names,
)
from segmint.prepare import Preparation, as_numbers
from segmint.sentinels import clear_sentinels

__all__ = [
    "ARCHETYPES",
    "DIFFERENTIATOR_MIN",
    "Contrast",
    "Differentiator",
    "SegmentProfile",
    "has_rfm",
    "humanise",
    "profile_frame",
    "profiles_table",
    "segment_profiles",
]

TOP_DIFFERENTIATORS = 3
TYPICAL_EXAMPLES = 5
NAMING_CANDIDATES = 8
LOW_CONFIDENCE = 0.2
CONFIDENCE_BINS = 10


@dataclass(frozen=True)
class SegmentProfile:
    """One segment in the user's units.

    Attributes
    ----------
    id : int
        Segment id (0 is the largest; -1 holds customers left unassigned).
    name, action : str
        Name and recommended action (generated, or a user's override).
    size : int
    share : float
        Share of all segmented customers.
    mean_confidence : float
    means, medians : dict
        Per feature in the user's units.
    differentiators : list of Differentiator
        Strongest standardised differences from the population.
    position : dict
        Mean percentile ranks on recency, frequency, monetary and tenure (RFM data only).
    std_diffs : dict
        Standardised difference from the population of every feature.
    nearest : int or None
        The nearest other segment (closest centre).
    vs_nearest : list of Contrast
        Strongest differences from the nearest other segment.
    examples : list of str
        Ids of the members closest to the segment centre, closest first.
    confidence : dict
        Quantiles ``p10``, ``p25``, ``median``, ``p75``, ``p90``, ``low_share`` (share below
        :data:`LOW_CONFIDENCE`) and ``histogram`` (counts in ten bins over 0..1).
    name_source : str
        ``archetype``, ``differentiators``, ``special`` or ``override``.
    """

    id: int
    name: str
    action: str
    size: int
    share: float
    mean_confidence: float
    means: dict[str, float] = field(default_factory=dict)
    medians: dict[str, float] = field(default_factory=dict)
    differentiators: list[Differentiator] = field(default_factory=list)
    position: dict[str, float] = field(default_factory=dict)
    std_diffs: dict[str, float] = field(default_factory=dict)
    nearest: int | None = None
    vs_nearest: list[Contrast] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    confidence: dict[str, Any] = field(default_factory=dict)
    name_source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "name": self.name,
            "action": self.action,
            "name_source": self.name_source,
            "size": self.size,
            "share": self.share,
            "mean_confidence": self.mean_confidence,
            "confidence": self.confidence,
            "means": self.means,
            "medians": self.medians,
            "differentiators": [d.__dict__ for d in self.differentiators],
            "nearest": self.nearest,
            "vs_nearest": [c.__dict__ for c in self.vs_nearest],
            "examples": list(self.examples),
            "position": self.position,
            "std_diffs": self.std_diffs,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentProfile:
        """Inverse of :meth:`to_dict`."""
        return cls(
            id=int(data["id"]),
            name=str(data["name"]),
            action=str(data.get("action", "")),
            size=int(data["size"]),
            share=float(data["share"]),
            mean_confidence=float(data.get("mean_confidence", float("nan"))),
            means={k: _float(v) for k, v in data.get("means", {}).items()},
            medians={k: _float(v) for k, v in data.get("medians", {}).items()},
            differentiators=[Differentiator(**d) for d in data.get("differentiators", [])],
            position=dict(data.get("position", {})),
            std_diffs={k: _float(v) for k, v in data.get("std_diffs", {}).items()},
            nearest=data.get("nearest"),
            vs_nearest=[Contrast(**c) for c in data.get("vs_nearest", [])],
            examples=[str(e) for e in data.get("examples", [])],
            confidence=dict(data.get("confidence", {})),
            name_source=str(data.get("name_source", "")),
        )


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def profile_frame(frame: pd.DataFrame, preparation: Preparation) -> pd.DataFrame:
    """The features in the user's units: numbers as numbers, dates as days, levels as 0/1."""
    out: dict[str, np.ndarray] = {}
    # Placeholders are no values: they would pull a segment's mean (an income of 666666).
    frame = clear_sentinels(frame, preparation.sentinels)
    # Every real feature, also those the model left out as redundant (a correlated spend
    # column still tells a marketer what a segment is worth).
    for plan in preparation.described or preparation.plans:
        series = frame[plan.name] if plan.name in frame.columns else pd.Series([None] * len(frame))
        if plan.kind == "categorical":
            text = series.astype("string").str.strip()
            text = text.fillna("missing").mask(text == "", "missing")
            for level in plan.levels:
                out[f"{plan.name}={level}"] = (text == level).to_numpy(dtype=float)
            if plan.other:
                out[f"{plan.name}=other"] = (~text.isin(plan.levels)).to_numpy(dtype=float)
        else:
            values, _ = as_numbers(series, plan)
            out[plan.name] = values
    table = pd.DataFrame(out, index=frame.index)
    # Names never say "low date": the date columns are marked for the namer.
    kinds = preparation.described or preparation.plans
    table.attrs["dates"] = [plan.name for plan in kinds if plan.kind == "datetime"]
    return table


def has_rfm(columns: list[str]) -> bool:
    """Whether recency, frequency and monetary columns are all present (by name)."""
    return all(_rfm_column(columns, axis) for axis in ("recency", "frequency", "monetary"))


def _rfm_column(columns: list[str], prefix: str) -> str | None:
    for col in columns:
        if re.sub(r"[^a-z]", "", col.lower()).startswith(prefix):
            return col
    return None


def segment_ids(labels: np.ndarray, k: int) -> list[int]:
    """Segments to profile: 0..k-1, then -1 when some customers are unassigned."""
    ids = list(range(k))
    if (np.asarray(labels) == UNASSIGNED).any():
        ids.append(UNASSIGNED)
    return ids


def segment_profiles(
    values: pd.DataFrame,
    labels: np.ndarray,
    confidence: np.ndarray,
    k: int,
    *,
    matrix: np.ndarray | None = None,
    centers: np.ndarray | None = None,
    ids: Any = None,
) -> list[SegmentProfile]:
    """Statistics, differentiators and names of every segment.

    Parameters
    ----------
    values : DataFrame
        Features in the user's units (see :func:`profile_frame`), one row per customer.
    labels : ndarray
        Segment of every customer, 0..k-1 (or -1 for customers left unassigned).
    confidence : ndarray
        Assignment confidence of every customer.
    k : int
        Number of segments (not counting -1).
    matrix : ndarray, optional
        The prepared matrix the model was fitted on; with ``centers`` it defines the
        nearest segment and the typical customers. Without, standardised ``values`` do.
    centers : ndarray, optional
        Segment centres in the space of ``matrix``, row ``j`` for segment ``j``.
    ids : sequence, optional
        Customer ids in row order, for the typical customers (none without).

    Returns
    -------
    list of SegmentProfile
        Ordered by segment id, 0..k-1, then -1 when present.
    """
    labels = np.asarray(labels)
    confidence = np.asarray(confidence, dtype=float)
    n = len(labels)
    pop_mean = values.mean(axis=0, skipna=True)
    pop_std = values.std(axis=0, ddof=0, skipna=True).replace(0, np.nan)
    columns = [str(c) for c in values.columns]
    binary = _binary_columns(values)
    space, space_centers = _space(values, labels, k, pop_mean, pop_std, matrix, centers)
    id_values = None if ids is None else np.asarray(pd.Series(ids).astype("string").to_numpy())
    means_by: dict[int, pd.Series] = {}
    profiles = []
    for seg in segment_ids(labels, k):
        members = labels == seg
        seg_values = values[members]
        means = seg_values.mean(axis=0, skipna=True)
        means_by[seg] = means
        medians = seg_values.median(axis=0, skipna=True)
        z = ((means - pop_mean) / pop_std).fillna(0.0)
        ranked = [str(f) for f in z.abs().sort_values(ascending=False, kind="stable").index]
        top = distinct_facts(ranked[: 4 * TOP_DIFFERENTIATORS], z.to_dict())[:TOP_DIFFERENTIATORS]
        differentiators = [
            Differentiator(
                feature=str(f), segment_mean=float(means[f]), population_mean=float(pop_mean[f]),
                std_diff=float(z[f]), binary=str(f) in binary,
            )
            for f in top
        ]  # fmt: skip
        examples: list[str] = []
        if id_values is not None and members.any() and seg != UNASSIGNED:
            examples = _typical(space[members], space_centers[seg], id_values[members])
        profiles.append(
            SegmentProfile(
                id=seg,
                name="",
                action="",
                size=int(members.sum()),
                share=float(members.sum() / n) if n else 0.0,
                mean_confidence=float(confidence[members].mean()) if members.any() else 0.0,
                means={str(c): _clean(means[c]) for c in values.columns},
                medians={str(c): _clean(medians[c]) for c in values.columns},
                differentiators=differentiators,
                std_diffs={str(c): float(z[c]) for c in values.columns},
                examples=examples,
                confidence=confidence_summary(confidence[members]),
            )
        )
    profiles = _with_nearest(profiles, space_centers, means_by, pop_std)
    return _named(profiles, values, labels, k, columns)


def _space(
    values: pd.DataFrame,
    labels: np.ndarray,
    k: int,
    pop_mean: pd.Series,
    pop_std: pd.Series,
    matrix: np.ndarray | None,
    centers: np.ndarray | None,
) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """The space distances are measured in, and every segment's centre in it."""
    if matrix is not None and centers is not None and len(centers) >= k:
        space = np.asarray(matrix, dtype=float)
        found = {seg: np.asarray(centers[seg], dtype=float) for seg in range(k)}
    else:
        space = ((values - pop_mean) / pop_std).fillna(0.0).to_numpy(dtype=float)
        found = {
            seg: space[labels == seg].mean(axis=0)
            if (labels == seg).any()
            else np.zeros(space.shape[1])
            for seg in range(k)
        }
    if (labels == UNASSIGNED).any():
        found[UNASSIGNED] = space[labels == UNASSIGNED].mean(axis=0)
    return space, found


def _typical(points: np.ndarray, center: np.ndarray, ids: np.ndarray) -> list[str]:
    distance = np.sqrt(((points - center) ** 2).sum(axis=1))
    # Ties (equal customers) are broken by id so the examples do not depend on row order.
    order = np.lexsort((ids.astype(str), np.round(distance, 12)))
    return [str(ids[i]) for i in order[:TYPICAL_EXAMPLES]]


def confidence_summary(confidence: np.ndarray) -> dict[str, Any]:
    """Quantiles, share below :data:`LOW_CONFIDENCE` and a ten-bin histogram over 0..1."""
    values = np.asarray(confidence, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return {}
    quantiles = np.quantile(values, [0.1, 0.25, 0.5, 0.75, 0.9])
    counts, _ = np.histogram(np.clip(values, 0.0, 1.0), bins=CONFIDENCE_BINS, range=(0.0, 1.0))
    return {
        "p10": float(quantiles[0]),
        "p25": float(quantiles[1]),
        "median": float(quantiles[2]),
        "p75": float(quantiles[3]),
        "p90": float(quantiles[4]),
        "low_share": float((values < LOW_CONFIDENCE).mean()),
        "histogram": [int(c) for c in counts],
    }


def _with_nearest(
    profiles: list[SegmentProfile],
    centers: dict[int, np.ndarray],
    means_by: dict[int, pd.Series],
    pop_std: pd.Series,
) -> list[SegmentProfile]:
    real = [p.id for p in profiles if p.id != UNASSIGNED and p.size > 0]
    out = []
    for p in profiles:
        others = [q for q in real if q != p.id]
        if p.id == UNASSIGNED or not others or p.size == 0:
            out.append(p)
            continue
        distance = {q: float(np.sqrt(((centers[p.id] - centers[q]) ** 2).sum())) for q in others}
        nearest = min(others, key=lambda q: (distance[q], q))
        diff = ((means_by[p.id] - means_by[nearest]) / pop_std).fillna(0.0)
        ranked = [str(f) for f in diff.abs().sort_values(ascending=False, kind="stable").index]
        top = distinct_facts(ranked[: 4 * TOP_DIFFERENTIATORS], diff.to_dict())[
            :TOP_DIFFERENTIATORS
        ]
        contrasts = [
            Contrast(
                feature=str(f), segment_mean=float(means_by[p.id][f]),
                other_mean=float(means_by[nearest][f]), std_diff=float(diff[f]),
            )
            for f in top
            if abs(float(diff[f])) > 0
        ]  # fmt: skip
        out.append(SegmentProfile(**{**p.__dict__, "nearest": nearest, "vs_nearest": contrasts}))
    return out


def _clean(value: Any) -> float:
    value = float(value)
    return value if np.isfinite(value) else float("nan")


def _rfm_positions(values: pd.DataFrame, labels: np.ndarray, k: int) -> list[dict[str, float]]:
    columns = [str(c) for c in values.columns]
    recency = _rfm_column(columns, "recency")
    frequency = _rfm_column(columns, "frequency")
    monetary = _rfm_column(columns, "monetary")
    tenure = _rfm_column(columns, "tenure")
    if not (recency and frequency and monetary):
        raise ValueError("recency, frequency and monetary columns are needed for positions")
    ranks = pd.DataFrame(
        {
            "recency": 1.0 - values[recency].rank(pct=True),
            "frequency": values[frequency].rank(pct=True),
            "monetary": values[monetary].rank(pct=True),
            "tenure": values[tenure].rank(pct=True)
            if tenure
            else pd.Series(0.5, index=values.index),
        }
    ).fillna(0.5)
    return [
        {axis: float(ranks[axis][labels == seg].mean()) for axis in ranks.columns}
        if (labels == seg).any()
        else {axis: 0.5 for axis in ranks.columns}
        for seg in range(k)
    ]


def _binary_columns(values: pd.DataFrame) -> set[str]:
    """Numeric 0/1 flags (``SeniorCitizen``), said as shares; one-hot levels are not here."""
    out = set()
    for col in values.columns:
        if "=" in str(col):
            continue
        present = values[col].dropna()
        if len(present) and present.isin([0.0, 1.0]).all() and present.nunique() == 2:
            out.add(str(col))
    return out


def _unnamed(feature: str, dates: set[str]) -> bool:
    """Features a name never uses: dates (a "low date" says nothing to a marketer)."""
    column = feature.split("=", 1)[0]
    words = set(humanise(column).split())
    return column in dates or bool(words & {"date", "dt", "timestamp"})


def _naming_candidates(
    p: SegmentProfile, population_means: pd.Series, binary: set[str], dates: set[str]
) -> list[Differentiator]:
    """The strongest differences of a segment, more of them than the profile shows: a
    name skips facts already said ("No internet service" of every streaming column)."""
    usable = [f for f in p.std_diffs if not _unnamed(f, dates)]
    ranked = sorted(usable, key=lambda f: -abs(p.std_diffs[f]))[:NAMING_CANDIDATES]
    return [
        Differentiator(f, p.means[f], float(population_means[f]), p.std_diffs[f], f in binary)
        for f in ranked
    ]


def _rfm_medians(
    values: pd.DataFrame, labels: np.ndarray, k: int
) -> tuple[list[dict[str, float]], dict[str, float]]:
    """Per segment and over all customers: median recency (days) and frequency (orders)."""
    columns = [str(c) for c in values.columns]
    recency = _rfm_column(columns, "recency")
    frequency = _rfm_column(columns, "frequency")
    picked = {"recency": values[recency], "frequency": values[frequency]}
    present = picked["frequency"].dropna()
    whole = float(bool(len(present)) and bool((present % 1 == 0).all()))

    def medians(mask: np.ndarray) -> dict[str, float]:
        out = {axis: float(series[mask].median()) for axis, series in picked.items()}
        return {**out, "frequency_whole": whole}

    everyone = np.ones(len(values), dtype=bool)
    return [medians(labels == seg) for seg in range(k)], medians(everyone)


def _named(
    profiles: list[SegmentProfile],
    values: pd.DataFrame,
    labels: np.ndarray,
    k: int,
    columns: list[str],
) -> list[SegmentProfile]:
    population_means = values.mean(axis=0, skipna=True)
    binary = _binary_columns(values)
    dates = {str(c) for c in values.attrs.get("dates", [])}
    names: dict[int, tuple[str, str, str]] = {}
    positions: list[dict[str, float]] | None = None
    if k == 1:
        names[0] = (ALL_CUSTOMERS_NAME, ALL_CUSTOMERS_ACTION, "special")
    elif has_rfm(columns):
        positions = _rfm_positions(values, labels, k)
        medians, population = _rfm_medians(values, labels, k)
        for seg, name in enumerate(archetype_names(positions, medians, population)):
            if name:
                names[seg] = (name, action_for(name), "archetype")
    if (labels == UNASSIGNED).any():
        names[UNASSIGNED] = (UNASSIGNED_NAME, UNASSIGNED_ACTION, "special")
    taken = {entry[0] for entry in names.values()}
    for p in profiles:
        if p.id not in names:
            candidates = _naming_candidates(p, population_means, binary, dates)
            name, action = differentiator_name(candidates, taken)
            names[p.id] = (name, action, "differentiators")
            taken.add(name)
    final = unique_names([names[p.id][0] for p in profiles])
    return [
        SegmentProfile(
            **{
                **p.__dict__,
                "name": final[i],
                "action": names[p.id][1],
                "name_source": names[p.id][2],
                "position": positions[p.id] if positions is not None and p.id >= 0 else {},
            }
        )
        for i, p in enumerate(profiles)
    ]


def profiles_table(
    profiles: list[SegmentProfile], outcome: dict[str, Any] | None = None
) -> pd.DataFrame:
    """One row per segment: id, name, size, share, confidence, action, then mean and
    median of every feature, the differentiators in words, the nearest segment, typical
    customers and, with ``outcome`` (an :class:`~segmint.outcome.OutcomeOverlay` as a
    dict), the outcome's rate or mean with its confidence interval."""
    by_segment = {row["segment"]: row for row in (outcome or {}).get("segments", [])}
    label = (outcome or {}).get("label", "")
    names = {p.id: p.name for p in profiles}
    rows = []
    for p in profiles:
        row: dict[str, Any] = {
            "segment": p.id,
            "segment_name": p.name,
            "size": p.size,
            "share": round(p.share, 6),
            "mean_confidence": round(p.mean_confidence, 6),
            "action": p.action,
            "low_confidence_share": round(float(p.confidence.get("low_share", float("nan"))), 6),
        }
        if outcome:
            entry = by_segment.get(p.id, {})
            row[label] = entry.get("value")
            row[f"{label} low"] = entry.get("low")
            row[f"{label} high"] = entry.get("high")
        for feature in p.means:
            row[f"{feature} mean"] = p.means[feature]
            row[f"{feature} median"] = p.medians[feature]
        row["differentiators"] = "; ".join(
            f"{humanise(d.feature)} {d.std_diff:+.2f} sd" for d in p.differentiators
        )
        row["nearest_segment"] = names.get(p.nearest, "") if p.nearest is not None else ""
        row["vs_nearest"] = "; ".join(
            f"{humanise(c.feature)} {c.std_diff:+.2f} sd" for c in p.vs_nearest
        )
        row["typical_customers"] = " ".join(p.examples)
        rows.append(row)
    return pd.DataFrame(rows)
