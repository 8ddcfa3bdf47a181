"""Names and recommended actions for segments.

Archetypes. When the features include recency, frequency and monetary value (a
transaction log, or a customer table with such columns), segments get a name from the
customer-analytics vocabulary: Champions, Loyal, Big spenders, Potential loyalists, New
customers, Promising, Need attention, About to sleep, At risk, Can't lose them,
Hibernating, Lost. Each customer is ranked against all customers on recency (recent is
high), frequency, monetary value and tenure; a segment's *position* is the mean
percentile rank of its members. Archetypes are prototype positions; segments are matched
to archetypes one to one by minimum total distance (Hungarian method), so names follow
relative position, not fixed score cut-offs, and are unique. More than twelve segments:
the segments left over are named by their differentiators.

Other data. A segment is named by its strongest differentiators ("High income, low
spending score"); "Typical customers" when nothing stands out.

Special segments. With one segment (no structure found) the segment is "All customers".
Segment id -1 (customers an algorithm left unassigned, e.g. noise) is "Unassigned".

Names are always unique: a repeated name gets " (2)", " (3)", ...
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

DIFFERENTIATOR_MIN = 0.25
UNASSIGNED = -1
UNASSIGNED_NAME = "Unassigned"
UNASSIGNED_ACTION = (
    "These customers fit no segment well: review them one by one or leave them out of "
    "segment campaigns."
)
ALL_CUSTOMERS_NAME = "All customers"
ALL_CUSTOMERS_ACTION = (
    "No distinct groups were found: treat customers as one audience and personalise on "
    "individual behaviour instead."
)
TYPICAL_NAME = "Typical customers"
TYPICAL_ACTION = "The baseline: use as the control group for campaigns."

# Archetype: (recency score, frequency score, monetary score, tenure score), 1 = high
# (for recency: most recent), and the recommended action.
ARCHETYPES: dict[str, tuple[tuple[float, float, float, float], str]] = {
    "Champions": (
        (0.85, 0.85, 0.85, 0.7),
        "Reward them: early access, loyalty perks, ask for reviews and referrals; "
        "no discounts needed.",
    ),
    "Loyal": (
        (0.65, 0.75, 0.7, 0.7),
        "Upsell higher-value products and invite them into the loyalty programme.",
    ),
    "Big spenders": (
        (0.55, 0.35, 0.85, 0.5),
        "Premium offers and personal service; protect the relationship.",
    ),
    "Potential loyalists": (
        (0.75, 0.55, 0.5, 0.45),
        "Offer membership or a loyalty programme; recommend related products.",
    ),
    "New customers": (
        (0.9, 0.2, 0.25, 0.1),
        "Onboard them well: welcome series and an incentive for the second order.",
    ),
    "Promising": (
        (0.7, 0.3, 0.35, 0.4),
        "Build the habit: personalised recommendations and a time-limited offer.",
    ),
    "Need attention": (
        (0.5, 0.5, 0.5, 0.5),
        "Re-engage with limited-time offers based on what they bought before.",
    ),
    "About to sleep": (
        (0.4, 0.3, 0.3, 0.5),
        "Reactivate before they lapse: popular products and a modest discount.",
    ),
    "At risk": (
        (0.25, 0.65, 0.65, 0.7),
        "Win them back: personal e-mails, a win-back offer, ask what changed.",
    ),
    "Can't lose them": (
        (0.12, 0.85, 0.85, 0.8),
        "Win them back at almost any cost: personal contact, the best offers.",
    ),
    "Hibernating": (
        (0.25, 0.25, 0.25, 0.5),
        "Low-cost reactivation with relevant products; keep out of paid campaigns.",
    ),
    "Lost": (
        (0.08, 0.1, 0.1, 0.5),
        "One strong revival offer; otherwise stop spending on them.",
    ),
}
POSITION_AXES = ("recency", "frequency", "monetary", "tenure")
_AXIS_WEIGHTS = np.array([1.0, 1.0, 1.0, 0.5])  # tenure matters less than R, F and M
_YES = {"yes", "true", "1", "y"}
_NO = {"no", "false", "0", "n"}


def action_for(name: str) -> str:
    """The recommended action of an archetype name ("" for any other name)."""
    entry = ARCHETYPES.get(name)
    return entry[1] if entry else ""


def humanise(feature: str) -> str:
    """Readable words for a column name: ``avg_order_value`` -> "avg order value"."""
    if "=" in feature:
        column, level = feature.split("=", 1)
        return f"{humanise(column)} {level}"
    text = re.sub(r"\([^)]*\)", "", feature)
    text = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text)
    text = re.sub(r"[_\s]+", " ", text).strip().lower()
    return text or feature


@dataclass(frozen=True)
class Differentiator:
    """A feature that sets a segment apart: standardised difference from the population.

    Attributes
    ----------
    feature : str
        Feature name in the user's units (``column`` or ``column=level``).
    segment_mean : float
        Mean of the segment's members.
    population_mean : float
        Mean of all segmented customers.
    std_diff : float
        ``(segment_mean - population_mean) / population standard deviation``.
    """

    feature: str
    segment_mean: float
    population_mean: float
    std_diff: float

    def phrase(self) -> str:
        """Short words for a name: "high income", "Month-to-month contract", "no partner"."""
        return _phrase(self.feature, self.std_diff)


@dataclass(frozen=True)
class Contrast:
    """How a segment differs from its nearest other segment on one feature.

    Attributes
    ----------
    feature : str
    segment_mean : float
    other_mean : float
        Mean of the nearest other segment.
    std_diff : float
        ``(segment_mean - other_mean) / population standard deviation``.
    """

    feature: str
    segment_mean: float
    other_mean: float
    std_diff: float

    def phrase(self) -> str:
        """Words such as "higher monetary" or "more Month-to-month contract"."""
        if "=" in self.feature:
            column, level = self.feature.split("=", 1)
            return f"{'more' if self.std_diff > 0 else 'less'} often {humanise(column)} {level}"
        return f"{'higher' if self.std_diff > 0 else 'lower'} {humanise(self.feature)}"


def _phrase(feature: str, std_diff: float) -> str:
    if "=" in feature:
        column, level = feature.split("=", 1)
        words = humanise(column)
        mark = level.strip().lower()
        if mark in _YES:
            return words if std_diff > 0 else f"no {words}"
        if mark in _NO:
            return f"no {words}" if std_diff > 0 else words
        return f"{level} {words}" if std_diff > 0 else f"few {level} {words}"
    return f"{'high' if std_diff > 0 else 'low'} {humanise(feature)}"


def archetype_names(positions: Sequence[dict[str, float]]) -> list[str]:
    """Archetype of every segment from its position (one-to-one, Hungarian method).

    Parameters
    ----------
    positions : sequence of dict
        Per segment, the mean percentile rank (0..1) of its members on ``recency``
        (recent is high), ``frequency``, ``monetary`` and ``tenure``.

    Returns
    -------
    list of str
        One archetype per segment, all different; "" for segments left over when there
        are more segments than archetypes.
    """
    names = list(ARCHETYPES)
    prototypes = np.array([ARCHETYPES[name][0] for name in names])
    points = np.array([[p.get(axis, 0.5) for axis in POSITION_AXES] for p in positions])
    if len(points) == 0:
        return []
    cost = np.sqrt(
        (((points[:, None, :] - prototypes[None, :, :]) ** 2) * _AXIS_WEIGHTS).sum(axis=2)
    )
    rows, cols = linear_sum_assignment(cost)
    out = [""] * len(positions)
    for r, c in zip(rows, cols, strict=True):
        out[r] = names[c]
    return out


def distinct_facts(features: Sequence[str], std_diffs: Mapping[str, float]) -> list[str]:
    """``features`` in order, each fact said once.

    Several columns often carry the same level ("No internet service" of every add-on
    column of a telco table): a level whose text was already said, as a level or as
    the phrase of an earlier feature ("no internet service"), is skipped.
    """
    said: set[str] = set()
    out = []
    for feature in features:
        level = feature.split("=", 1)[1].strip().lower() if "=" in feature else None
        if level is not None and level not in _YES | _NO and level in said:
            continue
        said.add(_phrase(feature, std_diffs.get(feature, 0.0)).lower())
        if level is not None:
            said.add(level)
        out.append(feature)
    return out


def differentiator_name(
    differentiators: Sequence[Differentiator], taken: set[str]
) -> tuple[str, str]:
    """A short name and an action from a segment's strongest differentiators.

    Uses two differentiators (more when the name is taken); "Typical customers" when
    none stands out. The name may still be taken; :func:`unique_names` settles that.
    """
    strong = [d for d in differentiators if abs(d.std_diff) >= DIFFERENTIATOR_MIN]
    # Names read best from what a segment *has*: a level's absence ("few Female genre")
    # is only used when nothing else stands out.
    present = [d for d in strong if "=" not in d.feature or d.std_diff > 0]
    strong = present + [d for d in strong if d not in present]
    keep = set(distinct_facts([d.feature for d in strong], {d.feature: d.std_diff for d in strong}))
    distinct = [d for d in strong if d.feature in keep]
    if not distinct:
        return TYPICAL_NAME, TYPICAL_ACTION
    name = ""
    for count in range(min(2, len(distinct)), len(distinct) + 1):
        name = _capitalise(", ".join(d.phrase() for d in distinct[:count]))
        if name not in taken:
            break
    action = (
        "Tailor offers and messages to what sets them apart: "
        + "; ".join(d.phrase() for d in distinct[:3])
        + "."
    )
    return name, action


def unique_names(names: Sequence[str], fixed: Sequence[bool] | None = None) -> list[str]:
    """Make names unique: later repeats get " (2)", " (3)", ...

    Names marked ``fixed`` (user overrides) keep their text; a repeat of a fixed name is
    the one that gets a suffix.
    """
    fixed = list(fixed) if fixed is not None else [False] * len(names)
    taken = {n for n, f in zip(names, fixed, strict=True) if f}
    out = []
    for name, is_fixed in zip(names, fixed, strict=True):
        if is_fixed:
            out.append(name)
            continue
        base = name or "Segment"
        candidate = base
        suffix = 2
        while candidate in taken:
            candidate = f"{base} ({suffix})"
            suffix += 1
        taken.add(candidate)
        out.append(candidate)
    return out


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]
