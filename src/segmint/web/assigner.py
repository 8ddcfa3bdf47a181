"""Real-time assignment of one customer: the serving model, precomputed.

:class:`FastAssigner` turns one customer's features into the model's 1-row matrix with
plain Python and NumPy — no DataFrame per request — following
:meth:`segmint.prepare.Preparation.transform` rule for rule (missing columns imputed,
unseen levels to "other", values that are not numbers treated as missing, each noted).
A value the fast path does not cover (a date, a yes/no column, a number sent as text)
goes through the model's own :meth:`~segmint.pipeline.SegmentationModel.label_customers`,
so both paths give the same answer; a test checks that they do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segmint.errors import DataError
from segmint.model import nearest_centers
from segmint.pipeline import SegmentationModel


@dataclass(frozen=True)
class Label:
    """One customer's segment."""

    customer_id: str
    segment: int
    segment_name: str
    confidence: float
    notes: list[str]


class _Fallback(Exception):
    """The value needs the pandas path."""


class FastAssigner:
    """Label single customers with a model (names may be overridden by the workspace).

    Parameters
    ----------
    model : SegmentationModel
    names : dict of int to str, optional
        Segment names to use instead of the model's (a workspace's renames).
    """

    def __init__(self, model: SegmentationModel, names: dict[int, str] | None = None) -> None:
        prep = model.preparation
        self.model = model
        self.version = model.fingerprint()
        self.plans = prep.plans
        self.input_columns = prep.input_columns
        self.width = len(prep.columns)
        self.center = prep.center
        self.factor = prep.weights / prep.scale
        self.centers = np.ascontiguousarray(model.centers, dtype=float)
        self.ids = model.segment_ids()
        self.names = {-1: "Unassigned", **model.segment_names(), **(names or {})}
        # Families that do not label by the nearest centre (mixture, core points, tiers)
        # go through the model's own rule.
        self._by_centre = model.assigner is None or model.assigner.kind == "nearest_centroid"
        self._levels = [{level: i for i, level in enumerate(p.levels)} for p in self.plans]

    def assign(self, customer_id: str, features: dict[str, Any]) -> Label:
        """The segment, name and confidence of one customer.

        Raises
        ------
        DataError
            More than half of the model's feature columns are missing.
        """
        missing = [c for c in self.input_columns if c not in features]
        if missing and len(missing) * 2 > len(self.input_columns):
            raise DataError(
                f"customer {customer_id}: most feature columns the model needs are missing: "
                f"{', '.join(missing)}"
            )
        if not self._by_centre:
            return self._slow(customer_id, features)
        try:
            row, notes = self._row(features)
        except _Fallback:
            return self._slow(customer_id, features)
        matrix = ((row - self.center) * self.factor)[None, :]
        positions, confidence = nearest_centers(matrix, self.centers)
        segment = int(self.ids[positions[0]])
        return Label(
            str(customer_id), segment, self.names[segment], float(np.round(confidence[0], 6)), notes
        )

    def _row(self, features: dict[str, Any]) -> tuple[np.ndarray, list[str]]:
        row = np.empty(self.width)
        notes: list[str] = []
        at = 0
        for plan, levels in zip(self.plans, self._levels, strict=True):
            present = plan.name in features
            if not present:
                notes.append(f"column {plan.name!r} is missing; treated as missing values")
            value = features.get(plan.name)
            if plan.kind == "categorical":
                if value is not None and not isinstance(value, str):
                    raise _Fallback
                text = "missing" if value is None or not value.strip() else value.strip()
                position = levels.get(text)
                if position is None and not plan.other:
                    notes.append(
                        f"column {plan.name!r}: 1 values of unseen levels, encoded as no level"
                    )
                if len(plan.levels) == 2 and not plan.other:
                    row[at] = 1.0 if position == 1 else 0.0
                    at += 1
                    continue
                width = len(plan.levels) + (1 if plan.other else 0)
                row[at : at + width] = 0.0
                if position is not None:
                    row[at + position] = 1.0
                elif plan.other:
                    row[at + width - 1] = 1.0
                at += width
                continue
            if (
                plan.kind != "numeric"
                or isinstance(value, (bool, str))
                or not (value is None or isinstance(value, (int, float)))
            ):
                raise _Fallback
            number = math.nan if value is None else float(value)
            if not math.isfinite(number):
                if value is not None and not math.isnan(number):
                    notes.append(
                        f"column {plan.name!r}: 1 values are not numbers; treated as missing"
                    )
                number = math.nan
            is_missing = math.isnan(number)
            filled = (plan.impute if plan.impute is not None else 0.0) if is_missing else number
            if plan.log:
                filled = math.copysign(math.log1p(abs(filled)), filled) if filled else 0.0
            if plan.clip is not None:
                filled = min(max(filled, plan.clip[0]), plan.clip[1])
            row[at] = filled
            at += 1
            if plan.indicator:
                row[at] = 1.0 if is_missing else 0.0
                at += 1
        return row, notes

    def _slow(self, customer_id: str, features: dict[str, Any]) -> Label:
        frame = pd.DataFrame(
            {
                "customer_id": [str(customer_id)],
                **{c: [features.get(c)] for c in self.input_columns if c in features},
                **{c: [features.get(c)] for c in [getattr(self.model.assigner, "column", None)] if c},
            }
        )
        labels, notes = self.model.label_customers(frame)
        segment = int(labels["segment"].iloc[0])
        return Label(
            str(customer_id),
            segment,
            self.names[segment],
            float(labels["confidence"].iloc[0]),
            notes,
        )
