"""Real-time assignment of one customer: the serving model, precomputed.

:class:`FastAssigner` turns one customer's features into the model's 1-row matrix with
plain Python and a few NumPy calls — no DataFrame per request — following
:meth:`segmint.prepare.Preparation.transform` rule for rule (missing columns imputed,
unseen levels to "other", values that are not numbers treated as missing, each noted),
with the same NumPy operations for the log, the clipping and the scaling. The row is then
labelled by the model's own rule (:meth:`~segmint.pipeline.SegmentationModel.positions`:
nearest centre, mixture posterior, nearest core point with HDBSCAN's unassigned -1, tiers),
exactly as a batch is. A value the fast path does not cover (a date, a yes/no column, a
number sent as text) goes through the model's own
:meth:`~segmint.pipeline.SegmentationModel.label_customers`, so both paths give the same
answer; tests check that they do for every family.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segmint.algorithms.base import UNASSIGNED
from segmint.errors import DataError
from segmint.pipeline import PROBABILITY_PREFIX, SegmentationModel, probability_columns
from segmint.prepare import BOUND

# Integers beyond this are not exactly floats; pandas decides how to type them.
_EXACT_INT = 2**53


@dataclass(frozen=True)
class Label:
    """One customer's segment."""

    customer_id: str
    segment: int
    segment_name: str
    confidence: float
    notes: list[str]
    probabilities: dict[str, float] | None = None  # p_segment_<id> (Gaussian mixture)


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
        self.center = prep.center[None, :]
        self.scale = prep.scale[None, :]
        self.weights = prep.weights[None, :]
        self.ids = model.segment_ids()
        self.names = {UNASSIGNED: "Unassigned", **model.segment_names(), **(names or {})}
        # A model fitted within tiers labels each customer within its tier's column.
        self.tier_column: str | None = getattr(model.assigner, "column", None)
        self._levels = [{level: i for i, level in enumerate(p.levels)} for p in self.plans]
        log_at, clip_at, low, high = [], [], [], []
        at = 0
        for plan in self.plans:
            if plan.kind != "categorical":
                if plan.log:
                    log_at.append(at)
                if plan.clip is not None:
                    clip_at.append(at)
                    low.append(plan.clip[0])
                    high.append(plan.clip[1])
            at += _width(plan)
        self._log_at = np.array(log_at, dtype=np.intp)
        self._clip_at = np.array(clip_at, dtype=np.intp)
        self._low = np.array(low, dtype=float)
        self._high = np.array(high, dtype=float)

    def assign(self, customer_id: str, features: dict[str, Any]) -> Label:
        """The segment, name and confidence of one customer.

        Raises
        ------
        DataError
            More than half of the model's feature columns are missing, or the tier
            column of a model fitted within tiers is.
        """
        missing = [c for c in self.input_columns if c not in features]
        if missing and len(missing) * 2 > len(self.input_columns):
            raise DataError(
                f"customer {customer_id}: most feature columns the model needs are missing: "
                f"{', '.join(missing)}"
            )
        try:
            raw, notes = self._row(features)
        except _Fallback:
            return self._slow(customer_id, features)
        matrix = np.clip((raw - self.center) / self.scale * self.weights, -BOUND, BOUND)
        tiers = None
        if self.tier_column is not None:
            column = self.tier_column
            tiers = pd.DataFrame({column: [features[column]]} if column in features else {})
        positions, confidence = self.model.positions(matrix, tiers)
        position = int(positions[0])
        segment = int(self.ids[position]) if position >= 0 else UNASSIGNED
        columns = probability_columns(self.model.assigner, matrix, self.ids)
        return Label(
            str(customer_id),
            segment,
            self.names[segment],
            float(np.round(confidence[0], 6)),
            notes,
            {name: float(values[0]) for name, values in columns.items()} or None,
        )

    def _row(self, features: dict[str, Any]) -> tuple[np.ndarray, list[str]]:
        """The raw (unscaled) row of :meth:`Preparation.transform`, and its notes."""
        raw = np.empty((1, self.width))
        row = raw[0]
        notes: list[str] = []
        at = 0
        for plan, levels in zip(self.plans, self._levels, strict=True):
            if plan.name not in features:
                notes.append(f"column {plan.name!r} is missing; treated as missing values")
            value = features.get(plan.name)
            if plan.kind == "categorical":
                at = self._categorical(row, at, plan, levels, value, notes)
                continue
            if (
                plan.kind != "numeric"
                or isinstance(value, (bool, str))
                or not (value is None or isinstance(value, (int, float)))
                or (isinstance(value, int) and abs(value) > _EXACT_INT)
            ):
                raise _Fallback
            number = math.nan if value is None else float(value)
            if not math.isfinite(number):
                if not math.isnan(number):
                    notes.append(
                        f"column {plan.name!r}: 1 values are not numbers; treated as missing"
                    )
                number = math.nan
            is_missing = math.isnan(number)
            row[at] = (plan.impute if plan.impute is not None else 0.0) if is_missing else number
            at += 1
            if plan.indicator:
                row[at] = 1.0 if is_missing else 0.0
                at += 1
        if len(self._log_at):
            values = row[self._log_at]
            row[self._log_at] = np.sign(values) * np.log1p(np.abs(values))
        if len(self._clip_at):
            row[self._clip_at] = np.clip(row[self._clip_at], self._low, self._high)
        return raw, notes

    @staticmethod
    def _categorical(
        row: np.ndarray, at: int, plan: Any, levels: dict[str, int], value: Any, notes: list[str]
    ) -> int:
        """Write a categorical value's columns at ``at``; the next free position."""
        if value is not None and not isinstance(value, str):
            raise _Fallback
        text = "missing" if value is None or not value.strip() else value.strip()
        position = levels.get(text)
        if position is None and not plan.other:
            notes.append(f"column {plan.name!r}: 1 values of unseen levels, encoded as no level")
        if len(plan.levels) == 2 and not plan.other:
            row[at] = 1.0 if position == 1 else 0.0
            return at + 1
        width = _width(plan)
        row[at : at + width] = 0.0
        if position is not None:
            row[at + position] = 1.0
        elif plan.other:
            row[at + width - 1] = 1.0
        return at + width

    def _slow(self, customer_id: str, features: dict[str, Any]) -> Label:
        wanted = [*self.input_columns, *([self.tier_column] if self.tier_column else [])]
        frame = pd.DataFrame(
            {
                "customer_id": [str(customer_id)],
                **{c: [features.get(c)] for c in wanted if c in features},
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
            {
                name: float(labels[name].iloc[0])
                for name in labels.columns
                if name.startswith(PROBABILITY_PREFIX)
            }
            or None,
        )


def _width(plan: Any) -> int:
    """Matrix columns of one plan (as :func:`segmint.prepare._apply_plan` makes them)."""
    if plan.kind == "categorical":
        if len(plan.levels) == 2 and not plan.other:
            return 1
        return len(plan.levels) + (1 if plan.other else 0)
    return 2 if plan.indicator else 1
