"""What is in each segment: statistics in the user's units, differentiators and names.

Names. When the features include recency, frequency and monetary value (a transaction
log, or a customer table with such columns), segments get an archetype from the
customer-analytics vocabulary. Each customer is ranked against all customers on recency
(recent is high), frequency, monetary value and tenure; a segment's *position* is the
mean rank of its members. Archetypes are prototype positions; segments are matched to
archetypes one to one by minimum total distance (Hungarian method), so names follow
relative position, not fixed score cut-offs, and are unique. Otherwise a segment is named
by its strongest differentiators ("High income, low spending score").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from segmint.prepare import Preparation, _as_numbers

DIFFERENTIATOR_MIN = 0.25
TOP_DIFFERENTIATORS = 3

# Archetype: (recency score, frequency score, monetary score, tenure score), 1 = high
# (for recency: most recent), and the recommended action.
ARCHETYPES: dict[str, tuple[tuple[float, float, float, float], str]] = {
    "Champions": ((0.85, 0.85, 0.85, 0.7), "Reward them: early access, loyalty perks, ask for reviews and referrals; no discounts needed."),
    "Loyal": ((0.65, 0.75, 0.7, 0.7), "Upsell higher-value products and invite them into the loyalty programme."),
    "Big spenders": ((0.55, 0.35, 0.85, 0.5), "Premium offers and personal service; protect the relationship."),
    "Potential loyalists": ((0.75, 0.55, 0.5, 0.45), "Offer membership or a loyalty programme; recommend related products."),
    "New customers": ((0.9, 0.2, 0.25, 0.1), "Onboard them well: welcome series and an incentive for the second order."),
    "Promising": ((0.7, 0.3, 0.35, 0.4), "Build the habit: personalised recommendations and a time-limited offer."),
    "Need attention": ((0.5, 0.5, 0.5, 0.5), "Re-engage with limited-time offers based on what they bought before."),
    "About to sleep": ((0.4, 0.3, 0.3, 0.5), "Reactivate before they lapse: popular products and a modest discount."),
    "At risk": ((0.25, 0.65, 0.65, 0.7), "Win them back: personal e-mails, a win-back offer, ask what changed."),
    "Can't lose them": ((0.12, 0.85, 0.85, 0.8), "Win them back at almost any cost: personal contact, the best offers."),
    "Hibernating": ((0.25, 0.25, 0.25, 0.5), "Low-cost reactivation with relevant products; keep out of paid campaigns."),
    "Lost": ((0.08, 0.1, 0.1, 0.5), "One strong revival offer; otherwise stop spending on them."),
}  # fmt: skip
_TENURE_WEIGHT = 0.5
_YES = {"yes", "true", "1", "y"}
_NO = {"no", "false", "0", "n"}


@dataclass(frozen=True)
class Differentiator:
    """A feature that sets a segment apart: standardised difference from the population."""

    feature: str
    segment_mean: float
    population_mean: float
    std_diff: float

    def phrase(self) -> str:
        """Short words for a name: "high income", "Month-to-month contract", "no partner"."""
        if "=" in self.feature:
            column, level = self.feature.split("=", 1)
            words = humanise(column)
            mark = level.strip().lower()
            if mark in _YES:
                text = words if self.std_diff > 0 else f"no {words}"
            elif mark in _NO:
                text = f"no {words}" if self.std_diff > 0 else words
            else:
                text = f"{level} {words}" if self.std_diff > 0 else f"few {level} {words}"
            return text
        return f"{'high' if self.std_diff > 0 else 'low'} {humanise(self.feature)}"


@dataclass(frozen=True)
class SegmentProfile:
    """One segment in the user's units."""

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

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "name": self.name,
            "action": self.action,
            "size": self.size,
            "share": self.share,
            "mean_confidence": self.mean_confidence,
            "means": self.means,
            "medians": self.medians,
            "differentiators": [d.__dict__ for d in self.differentiators],
            "position": self.position,
            "std_diffs": self.std_diffs,
        }


def humanise(feature: str) -> str:
    """Readable words for a column name: ``avg_order_value`` -> "avg order value"."""
    if "=" in feature:
        column, level = feature.split("=", 1)
        return f"{humanise(column)} {level}"
    text = re.sub(r"\([^)]*\)", "", feature)
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    text = re.sub(r"[_\s]+", " ", text).strip().lower()
    return text or feature


def profile_frame(frame: pd.DataFrame, preparation: Preparation) -> pd.DataFrame:
    """The features in the user's units: numbers as numbers, dates as days, levels as 0/1."""
    out: dict[str, np.ndarray] = {}
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
            values, _ = _as_numbers(series, plan)
            out[plan.name] = values
    return pd.DataFrame(out, index=frame.index)


def has_rfm(columns: list[str]) -> bool:
    """Whether recency, frequency and monetary columns are all present (by name)."""
    keys = {re.sub(r"[^a-z]", "", c.lower()) for c in columns}
    return any(k.startswith("recency") for k in keys) and any(
        k.startswith("frequency") for k in keys
    ) and any(k.startswith("monetary") for k in keys)


def _rfm_column(columns: list[str], prefix: str) -> str | None:
    for col in columns:
        if re.sub(r"[^a-z]", "", col.lower()).startswith(prefix):
            return col
    return None


def segment_profiles(
    values: pd.DataFrame, labels: np.ndarray, confidence: np.ndarray, k: int
) -> list[SegmentProfile]:
    """Statistics, differentiators and names of every segment.

    Parameters
    ----------
    values : DataFrame
        Features in the user's units (see :func:`profile_frame`), one row per customer.
    labels : ndarray
        Segment of every customer, 0..k-1.
    confidence : ndarray
        Assignment confidence of every customer.
    k : int
        Number of segments.

    Returns
    -------
    list of SegmentProfile
        Ordered by segment id.
    """
    n = len(labels)
    pop_mean = values.mean(axis=0, skipna=True)
    pop_std = values.std(axis=0, ddof=0, skipna=True).replace(0, np.nan)
    columns = [str(c) for c in values.columns]
    positions = _rfm_positions(values, labels, k) if has_rfm(columns) else None
    names, actions = (
        _archetype_names(positions) if positions is not None else ([""] * k, [""] * k)
    )
    profiles = []
    for seg in range(k):
        members = labels == seg
        seg_values = values[members]
        means = seg_values.mean(axis=0, skipna=True)
        medians = seg_values.median(axis=0, skipna=True)
        z = ((means - pop_mean) / pop_std).fillna(0.0)
        top = z.abs().sort_values(ascending=False).index[:TOP_DIFFERENTIATORS]
        differentiators = [
            Differentiator(
                feature=str(f), segment_mean=float(means[f]), population_mean=float(pop_mean[f]),
                std_diff=float(z[f]),
            )
            for f in top
        ]  # fmt: skip
        profiles.append(
            SegmentProfile(
                id=seg,
                name=names[seg],
                action=actions[seg],
                size=int(members.sum()),
                share=float(members.sum() / n) if n else 0.0,
                mean_confidence=float(confidence[members].mean()) if members.any() else 0.0,
                means={str(c): _clean(means[c]) for c in values.columns},
                medians={str(c): _clean(medians[c]) for c in values.columns},
                differentiators=differentiators,
                position=positions[seg] if positions is not None else {},
                std_diffs={str(c): float(z[c]) for c in values.columns},
            )
        )
    return _name_the_rest(profiles)


def _clean(value: Any) -> float:
    value = float(value)
    return value if np.isfinite(value) else float("nan")


def _rfm_positions(values: pd.DataFrame, labels: np.ndarray, k: int) -> list[dict[str, float]]:
    columns = [str(c) for c in values.columns]
    recency = _rfm_column(columns, "recency")
    frequency = _rfm_column(columns, "frequency")
    monetary = _rfm_column(columns, "monetary")
    tenure = _rfm_column(columns, "tenure")
    assert recency and frequency and monetary
    ranks = pd.DataFrame(
        {
            "recency": 1.0 - values[recency].rank(pct=True),
            "frequency": values[frequency].rank(pct=True),
            "monetary": values[monetary].rank(pct=True),
            "tenure": values[tenure].rank(pct=True) if tenure else pd.Series(0.5, index=values.index),
        }
    ).fillna(0.5)
    return [
        {axis: float(ranks[axis][labels == seg].mean()) for axis in ranks.columns}
        if (labels == seg).any()
        else {axis: 0.5 for axis in ranks.columns}
        for seg in range(k)
    ]


def _archetype_names(positions: list[dict[str, float]]) -> tuple[list[str], list[str]]:
    names = list(ARCHETYPES)
    prototypes = np.array([ARCHETYPES[name][0] for name in names])
    points = np.array([[p["recency"], p["frequency"], p["monetary"], p["tenure"]] for p in positions])
    weights = np.array([1.0, 1.0, 1.0, _TENURE_WEIGHT])
    cost = np.sqrt((((points[:, None, :] - prototypes[None, :, :]) ** 2) * weights).sum(axis=2))
    rows, cols = linear_sum_assignment(cost)
    out_names = [""] * len(positions)
    out_actions = [""] * len(positions)
    for r, c in zip(rows, cols, strict=True):
        out_names[r] = names[c]
        out_actions[r] = ARCHETYPES[names[c]][1]
    return out_names, out_actions


def _name_the_rest(profiles: list[SegmentProfile]) -> list[SegmentProfile]:
    """Give differentiator names where no archetype was given, and make names unique."""
    taken = {p.name for p in profiles if p.name}
    named = []
    for p in profiles:
        if p.name:
            named.append(p)
            continue
        # Names read best from what a segment *has*: a level's absence ("few Female
        # genre") is only used when nothing else stands out.
        strong = [d for d in p.differentiators if abs(d.std_diff) >= DIFFERENTIATOR_MIN]
        present = [d for d in strong if "=" not in d.feature or d.std_diff > 0]
        strong = present + [d for d in strong if d not in present]
        # One fact said once: several columns often carry the same level ("No internet
        # service" of every streaming column).
        seen_levels: set[str] = set()
        distinct = []
        for d in strong:
            level = d.feature.split("=", 1)[1] if "=" in d.feature else None
            if level is not None and level.lower() not in _YES | _NO and level in seen_levels:
                continue
            if level is not None:
                seen_levels.add(level)
            distinct.append(d)
        strong = distinct
        name = ""
        for count in range(min(2, len(strong)), len(strong) + 1):
            candidate = _capitalise(", ".join(d.phrase() for d in strong[:count]))
            name = candidate
            if candidate not in taken:
                break
        if not strong:
            name = "Typical customers"
        if not name or name in taken:
            base = name or "Segment"
            suffix = 2
            while f"{base} ({suffix})" in taken:
                suffix += 1
            name = f"{base} ({suffix})"
        taken.add(name)
        action = (
            "Tailor offers and messages to what sets them apart: "
            + "; ".join(d.phrase() for d in strong[:TOP_DIFFERENTIATORS])
            + "."
            if strong
            else "The baseline: use as the control group for campaigns."
        )
        named.append(SegmentProfile(**{**p.__dict__, "name": name, "action": action}))
    return named


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def profiles_table(profiles: list[SegmentProfile]) -> pd.DataFrame:
    """One row per segment: id, name, size, share, confidence, action, then mean and
    median of every feature, then the differentiators in words."""
    rows = []
    for p in profiles:
        row: dict[str, Any] = {
            "segment": p.id,
            "segment_name": p.name,
            "size": p.size,
            "share": round(p.share, 6),
            "mean_confidence": round(p.mean_confidence, 6),
            "action": p.action,
        }
        for feature in p.means:
            row[f"{feature} mean"] = p.means[feature]
            row[f"{feature} median"] = p.medians[feature]
        row["differentiators"] = "; ".join(
            f"{humanise(d.feature)} {d.std_diff:+.2f} sd" for d in p.differentiators
        )
        rows.append(row)
    return pd.DataFrame(rows)
