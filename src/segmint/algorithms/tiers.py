"""Segmentation within tiers (``--within COLUMN``): each tier segmented on its own.

When rules or contracts require it (plan tier, region, lifecycle stage), the customers of
each value of the column are segmented separately, with k chosen per tier by the usual
rule (:func:`segmint.model.fit_segmentation`). The column itself is not a feature.

Segment ids say the tier: tiers are numbered 1, 2, ... in sorted order of their values
and a segment's id is ``tier number * 100 + its id within the tier`` (100, 101, ...,
200, 201, ...), so segment 203 is the fourth segment (id 3, the largest being 0) of the
second tier. Names start with the tier ("premium: Loyal"). Customers with no value
form the tier "missing". New customers are labelled within their tier; a tier value
unseen at fit time leaves them unassigned (-1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

import numpy as np
import pandas as pd

from segmint.algorithms.base import UNASSIGNED, Assigner
from segmint.errors import UsageError

TIER_ID_BASE = 100
MISSING_TIER = "missing"


def tier_values(values: pd.Series) -> np.ndarray:
    """The tier of every customer as text; missing or blank values are "missing"."""
    text = values.astype("string").str.strip()
    return cast(
        np.ndarray, text.fillna(MISSING_TIER).mask(text == "", MISSING_TIER).to_numpy(dtype=object)
    )


@dataclass(frozen=True)
class TierAssigner(Assigner):
    """Routes each customer to its tier's assigner; positions are global (0..K-1)."""

    column: str
    levels: list[str]
    parts: list[Assigner]
    offsets: list[int]
    sizes: list[int]
    kind: ClassVar[str] = "tiers"

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tiers need each customer's tier: use :meth:`predict_groups`."""
        raise TypeError(f"labelling within tiers needs the {self.column!r} column")

    def predict_groups(self, X: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Global segment position and confidence of every row, within its tier."""
        positions = np.full(len(X), UNASSIGNED, dtype=np.int64)
        confidence = np.zeros(len(X))
        for level, part, offset in zip(self.levels, self.parts, self.offsets, strict=True):
            rows = groups == level
            if not rows.any():
                continue
            local, conf = part.predict(X[rows])
            positions[rows] = np.where(local >= 0, local + offset, UNASSIGNED)
            confidence[rows] = conf
        return positions, confidence

    def arrays(self) -> dict[str, np.ndarray]:
        """Every part's arrays, prefixed ``tier<i>__``."""
        out: dict[str, np.ndarray] = {}
        for i, part in enumerate(self.parts):
            out.update({f"tier{i}__{name}": value for name, value in part.arrays().items()})
        return out

    def params(self) -> dict[str, Any]:
        """Column, levels, each part's rule and where its segments start."""
        return {
            "column": self.column,
            "levels": list(self.levels),
            "parts": [part.kind for part in self.parts],
            "offsets": list(self.offsets),
            "sizes": list(self.sizes),
        }

    def permuted(self, order: np.ndarray) -> Assigner:
        """Tier models keep their order."""
        raise TypeError("tiered segments are not reordered")

    @classmethod
    def from_saved(cls, params: dict[str, Any], parts: list[Assigner]) -> TierAssigner:
        """Rebuild from :meth:`params` and every tier's rebuilt rule (see :mod:`.saved`)."""
        return cls(
            params["column"],
            list(params["levels"]),
            parts,
            list(params["offsets"]),
            list(params["sizes"]),
        )


@dataclass(frozen=True)
class TierFit:
    """Segments of every tier, stacked.

    Attributes
    ----------
    labels : ndarray
        Global segment position of every customer (-1 = unassigned).
    confidence : ndarray
    centers : ndarray
        Every tier's segment centres, tier after tier.
    ids : ndarray
        Segment id of every position (tier number * 100 + id within the tier).
    tier_of : list of str
        Tier value of every position.
    assigner : TierAssigner
    tiers : list of dict
        Per tier: value, number, customers, k, algorithm and the tier's diagnostics.
    """

    labels: np.ndarray
    confidence: np.ndarray
    centers: np.ndarray
    ids: np.ndarray
    tier_of: list[str]
    assigner: TierAssigner
    tiers: list[dict[str, Any]] = field(default_factory=list)

    def diagnostics(self, column: str) -> dict[str, Any]:
        """The ``selection`` entry of the summary for a tiered run."""
        return {
            "k": len(self.centers),
            "mode": "tiers",
            "within": column,
            "rule": "each tier segmented on its own, k chosen per tier by the usual rule",
            "reasons": [
                f"tier {t['tier']!r} ({t['customers']:,} customers): k = {t['k']} "
                f"by {t['algorithm']}"
                for t in self.tiers
            ],
            "structure": all(t["selection"].get("structure", True) for t in self.tiers),
            "tiers": self.tiers,
            "scores": [],
        }


def fit_tiers(
    matrix: np.ndarray,
    groups: np.ndarray,
    column: str,
    fit: Any,
) -> TierFit:
    """Segment each tier with ``fit(sub_matrix) -> SegmentFit`` and stack the results.

    Raises
    ------
    UsageError
        More than 99 segments in a tier (ids would collide) or a single tier.
    """
    levels = sorted({str(g) for g in groups})
    positions = np.full(len(matrix), UNASSIGNED, dtype=np.int64)
    confidence = np.zeros(len(matrix))
    centers: list[Any] = []
    ids: list[Any] = []
    tier_of: list[Any] = []
    parts: list[Any] = []
    offsets: list[Any] = []
    sizes: list[Any] = []
    tiers: list[Any] = []
    offset = 0
    for number, level in enumerate(levels, start=1):
        rows = groups == level
        result = fit(matrix[rows])
        k = result.fitted.k
        if k >= TIER_ID_BASE:
            raise UsageError(
                f"tier {level!r} of {column!r}: at most {TIER_ID_BASE - 1} segments per tier"
            )
        local = result.labels
        positions[rows] = np.where(local >= 0, local + offset, UNASSIGNED)
        confidence[rows] = result.confidence
        centers.append(result.centers)
        ids.extend(number * TIER_ID_BASE + j for j in range(k))
        tier_of.extend([level] * k)
        parts.append(result.fitted.assigner)
        offsets.append(offset)
        sizes.append(k)
        tiers.append(
            {
                "tier": level,
                "number": number,
                "customers": int(rows.sum()),
                "k": k,
                "algorithm": result.algorithm,
                "segment_ids": [number * TIER_ID_BASE + j for j in range(k)],
                "selection": result.diagnostics(),
            }
        )
        offset += k
    assigner = TierAssigner(column, levels, parts, offsets, sizes)
    return TierFit(
        positions,
        confidence,
        np.vstack(centers),
        np.asarray(ids, dtype=np.int64),
        tier_of,
        assigner,
        tiers,
    )
