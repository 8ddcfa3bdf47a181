"""Customer table -> numeric matrix, with every decision recorded.

The rules, in the order they run (each decision lands in :attr:`Preparation.decisions`):

0. Placeholder and impossible values (income 999999, birth year 1893, a junk level) are
   set to missing, unless kept on request (rules in :mod:`segmint.sentinels`).
1. Columns that cannot describe behaviour are set aside: the customer id, columns given
   as excluded (e.g. an outcome), identifier-like columns (named as an id -- ``store_id``,
   ``basket_no``, ``Kundennummer``, see :func:`segmint.features.vocabulary.id_kind` -- or
   text or integers distinct on almost every row), free text (long, mostly distinct
   strings), e-mail-like text, and columns with no values.
2. Dates become numbers: days before the latest date of that column at fit time.
3. Constant and near-constant columns (one value on at least 99% of customers) are dropped.
4. Missing numbers are imputed with the median; when more than 5% are missing an
   indicator column ``<name>__missing`` is added. Missing categories become "missing".
5. Numeric columns with more than two values and skewness above 1 are log-transformed:
   log1p when non-negative, sign(x) * log1p(|x|) when a few values are negative (net
   spend after returns).
6. Extreme values are winsorised to Tukey's far-out fences (quartiles -/+ 3 IQR) of the
   transformed column; the number of values clipped is recorded.
7. Of numeric pairs with |Pearson r| > 0.95 (after the steps above) the later column is
   dropped and the pair reported.
8. Categoricals are one-hot encoded: all levels up to 15, otherwise the 14 most frequent
   plus "other"; a two-level category becomes one 0/1 column.
9. Every column is standardised (mean 0, sd 1). The one-hot columns of a categorical with
   L columns are then weighted by 1/sqrt(L), so that one categorical weighs as much as one
   numeric feature however many levels it has.

Steps 5-7 and 9 are for features in different units (money, counts, days, categories).
When the evidence says every feature is measured on one scale -- all columns numeric
with more than two values and few missing, no whole-number column repeating its values
(fewer distinct than :data:`WHOLE_DISTINCT` of the rows: counts, ages, scores), none
spanning orders of magnitude from zero
(a non-negative column, skewed beyond :data:`SKEW_THRESHOLD`, whose 99th percentile is
over :data:`HEAVY_TAIL_RATIO` times its median: amounts and counts), and the largest
standard deviation at most :data:`SCALE_RATIO` times the smallest (coordinates in
comparable units) -- the geometry is kept: no log, no winsorising, no column dropped
for correlation, and every column is centred and divided by *one* common spread, so
distances keep their proportions. Which way was taken, and why, is the first decision
recorded (column ``(all features)``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from segmint.errors import DataError
from segmint.features.vocabulary import id_kind
from segmint.sentinels import Sentinel, clear_sentinels, find_sentinels
from segmint.threads import parallel_map

MISSING_INDICATOR_SHARE = 0.05
NEAR_CONSTANT_SHARE = 0.99
SKEW_THRESHOLD = 1.0
FENCE_IQR = 3.0
CORRELATION_LIMIT = 0.95
SCALE_RATIO = 10.0  # chosen by leave-one-battery-out (benchmarks/bench_selection.py)
HEAVY_TAIL_RATIO = 10.0
WHOLE_DISTINCT = 0.5  # whole numbers with fewer distinct values than this share of rows
MAX_LEVELS = 15
BOUND = 1e100  # prepared values are held within +/- BOUND so squared distances stay finite
PARALLEL_ROWS = 100_000  # from this many customers, columns are encoded in parallel

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")

ColumnKind = Literal["numeric", "datetime", "boolean", "categorical"]


@dataclass(frozen=True)
class ColumnPlan:
    """How one input column becomes matrix columns.

    Attributes
    ----------
    name : str
        The input column.
    kind : {"numeric", "datetime", "boolean", "categorical"}
    impute : float or None
        Median used for missing numbers (numeric, datetime and boolean kinds).
    indicator : bool
        Whether a ``<name>__missing`` 0/1 column is added.
    log : bool
        Whether log1p is applied.
    clip : (float, float) or None
        Winsorising bounds on the transformed scale.
    levels : tuple of str
        Categorical levels that get their own column (the rest map to "other").
    other : bool
        Whether an "other" column exists for unseen or rare levels.
    reference : str or None
        For dates, the ISO timestamp that days are counted back from.
    """

    name: str
    kind: ColumnKind
    impute: float | None = None
    indicator: bool = False
    log: bool = False
    clip: tuple[float, float] | None = None
    levels: tuple[str, ...] = ()
    other: bool = False
    reference: str | None = None

    def output_columns(self) -> list[str]:
        """Names of the matrix columns this plan produces."""
        if self.kind == "categorical":
            if len(self.levels) == 2 and not self.other:
                return [f"{self.name}={self.levels[1]}"]
            cols = [f"{self.name}={level}" for level in self.levels]
            return [*cols, f"{self.name}=other"] if self.other else cols
        cols = [self.name]
        return [*cols, f"{self.name}__missing"] if self.indicator else cols

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "kind": self.kind,
            "impute": self.impute,
            "indicator": self.indicator,
            "log": self.log,
            "clip": list(self.clip) if self.clip else None,
            "levels": list(self.levels),
            "other": self.other,
            "reference": self.reference,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnPlan:
        """Inverse of :meth:`to_dict`."""
        clip = data.get("clip")
        return cls(
            name=data["name"],
            kind=data["kind"],
            impute=data.get("impute"),
            indicator=bool(data.get("indicator")),
            log=bool(data.get("log")),
            clip=(float(clip[0]), float(clip[1])) if clip else None,
            levels=tuple(data.get("levels", ())),
            other=bool(data.get("other")),
            reference=data.get("reference"),
        )


@dataclass(frozen=True)
class Preparation:
    """A fitted preparation: apply it to any customer table with :meth:`transform`.

    Attributes
    ----------
    plans : tuple of ColumnPlan
        One per input column that is used.
    columns : tuple of str
        Names of the matrix columns, in order.
    center, scale, weights : ndarray
        Standardisation and weighting per matrix column.
    decisions : list of dict
        Every decision taken while fitting (dropped columns and why, transforms, clipping).
    described : tuple of ColumnPlan
        Every real feature worth describing in profiles: the used ones plus those dropped
        only as redundant (correlated or near-constant). Identifiers, free text and
        personal data are never here.
    sentinels : tuple of Sentinel
        Placeholder and impossible values found at fit time; set to missing in every
        table this preparation reads (see :mod:`segmint.sentinels`).
    """

    plans: tuple[ColumnPlan, ...]
    columns: tuple[str, ...]
    center: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    decisions: list[dict[str, Any]] = field(default_factory=list)
    described: tuple[ColumnPlan, ...] = ()
    sentinels: tuple[Sentinel, ...] = ()

    @property
    def input_columns(self) -> list[str]:
        """The input columns the preparation reads."""
        return [plan.name for plan in self.plans]

    def transform(self, frame: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
        """Turn a customer table into the matrix the model was fitted on.

        Missing input columns are treated as entirely missing (imputed like any missing
        value); unseen category levels go to "other" (or to no level when the category
        had no "other" column). Values that should be numbers but are not become missing.

        Returns
        -------
        X : ndarray of shape (n_customers, n_columns)
        notes : list of str
            One line per missing column or coerced values, for the user.
        """
        notes: list[str] = []
        frame = clear_sentinels(frame, self.sentinels)
        # Filled block by block and scaled in place: no copies of a million-row matrix.
        matrix = np.empty((len(frame), len(self.columns)))
        pairs = [(plan, _column(frame, plan.name)) for plan in self.plans]
        if len(frame) >= PARALLEL_ROWS:  # columns are independent: one thread per core
            encoded = parallel_map(lambda pair: _apply_plan(*pair), pairs)
        else:
            encoded = [_apply_plan(plan, series) for plan, series in pairs]
        at = 0
        for plan, (block, note) in zip(self.plans, encoded, strict=True):
            if plan.name not in frame.columns:
                notes.append(f"column {plan.name!r} is missing; treated as missing values")
            if note:
                notes.append(note)
            matrix[:, at : at + block.shape[1]] = block
            at += block.shape[1]
        matrix -= self.center
        matrix /= self.scale
        matrix *= self.weights
        np.clip(matrix, -BOUND, BOUND, out=matrix)
        return matrix, notes

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (arrays as lists)."""
        return {
            "plans": [plan.to_dict() for plan in self.plans],
            "columns": list(self.columns),
            "center": self.center.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "decisions": self.decisions,
            "described": [plan.to_dict() for plan in self.described],
            "sentinels": [rule.to_dict() for rule in self.sentinels],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preparation:
        """Inverse of :meth:`to_dict`."""
        return cls(
            plans=tuple(ColumnPlan.from_dict(p) for p in data["plans"]),
            columns=tuple(data["columns"]),
            center=np.asarray(data["center"], dtype=float),
            scale=np.asarray(data["scale"], dtype=float),
            weights=np.asarray(data["weights"], dtype=float),
            decisions=list(data.get("decisions", [])),
            described=tuple(ColumnPlan.from_dict(p) for p in data.get("described", [])),
            sentinels=tuple(Sentinel.from_dict(r) for r in data.get("sentinels", [])),
        )


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column of ``frame``; all missing when the frame has none of that name."""
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype="object")


def as_numbers(series: pd.Series, plan: ColumnPlan) -> tuple[np.ndarray, int]:
    """Numeric values of a column for a numeric/datetime/boolean plan, and how many were coerced."""
    if plan.kind == "datetime":
        if pd.api.types.is_datetime64_any_dtype(series):
            stamps = series
        else:
            stamps = pd.to_datetime(series, errors="coerce")
        reference = pd.Timestamp(plan.reference)
        days = (reference - stamps).dt.total_seconds() / 86400.0
        values = days.to_numpy(dtype=float, na_value=np.nan)
        coerced = int(stamps.isna().sum() - series.isna().sum())
        return values, max(coerced, 0)
    if plan.kind == "boolean":
        mapped = series.map(_boolean_value)
        values = pd.to_numeric(mapped, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        return values, int(np.isnan(values).sum() - series.isna().sum())
    numbers = pd.to_numeric(series, errors="coerce")
    values = numbers.to_numpy(dtype=float, na_value=np.nan, copy=True)
    values[~np.isfinite(values)] = np.nan
    return values, max(int(np.isnan(values).sum() - series.isna().sum()), 0)


def _boolean_value(value: object) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    return {"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0}.get(str(value).strip().lower())


def _apply_plan(plan: ColumnPlan, series: pd.Series) -> tuple[np.ndarray, str | None]:
    note = None
    if plan.kind == "categorical":
        # Arrow kernels (pandas' own for its text columns): strip, missing or blank ->
        # "missing", then the position of each value among the levels (null: unseen).
        text = pc.utf8_trim_whitespace(pa.chunked_array(pa.array(series.astype("string").array)))
        text = pc.fill_null(pc.if_else(pc.equal(text, ""), "missing", text), "missing")
        found = pc.index_in(text, value_set=pa.array(plan.levels, pa.string()))
        position = found.to_numpy(zero_copy_only=False)
        known = found.is_valid().to_numpy(zero_copy_only=False)
        unseen = int((~known).sum())
        if unseen and not plan.other:
            note = f"column {plan.name!r}: {unseen} values of unseen levels, encoded as no level"
        if len(plan.levels) == 2 and not plan.other:
            return (known & (np.nan_to_num(position) == 1)).astype(float)[:, None], note
        block = np.zeros((len(text), len(plan.levels) + int(plan.other)))
        rows = np.flatnonzero(known)
        block[rows, position[rows].astype(np.intp)] = 1.0
        if plan.other:
            block[~known, -1] = 1.0
        return block, note
    values, coerced = as_numbers(series, plan)
    if coerced:
        note = f"column {plan.name!r}: {coerced} values are not numbers; treated as missing"
    missing = np.isnan(values)
    # The values are this call's own: changed in place, no copies of a million-row column.
    filled = values if values.flags.writeable else values.copy()
    filled[missing] = plan.impute if plan.impute is not None else 0.0
    if plan.log:
        sign = np.sign(filled)
        np.log1p(np.abs(filled, out=filled), out=filled)
        filled *= sign
    if plan.clip is not None:
        np.clip(filled, plan.clip[0], plan.clip[1], out=filled)
    if plan.indicator:
        block = np.empty((len(filled), 2))
        block[:, 0], block[:, 1] = filled, missing
        return block, note
    return filled[:, None], note


def _skewness(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    if len(values) < 3:
        return 0.0
    sd = values.std()
    if sd == 0:
        return 0.0
    return float(np.mean(((values - values.mean()) / sd) ** 3))


_ID_NAMES = ("customer", "entity", "generic")  # not "customer-word": a "member" flag is data


def _looks_like_identifier(series: pd.Series, name: str) -> bool:
    values = series.dropna()
    n = len(values)
    if n < 20:
        return False
    distinct = values.nunique()
    if pd.api.types.is_float_dtype(series):
        return False
    if pd.api.types.is_integer_dtype(series):
        key = re.sub(r"[^0-9a-z]", "", name.lower())
        named_id = key == "id" or key.endswith(("id", "no", "number", "code", "key"))
        return cast(bool, distinct / n > 0.95 and (named_id or _is_sequence(values)))
    return cast(bool, distinct / n > 0.9)


def _is_sequence(values: pd.Series) -> bool:
    ordered = np.sort(values.to_numpy(dtype=float))
    steps = np.diff(ordered)
    return len(steps) > 0 and bool(np.all(steps == 1))


def _is_free_text(series: pd.Series) -> bool:
    text = series.dropna().astype("string")
    if text.empty:
        return False
    long_with_spaces = text.str.contains(" ") & (text.str.len() > 30)
    return bool(long_with_spaces.mean() > 0.5 and text.nunique() / len(text) > 0.5)


def _is_email(series: pd.Series) -> bool:
    text = series.dropna().astype("string").head(200)
    return bool(len(text)) and bool(text.str.match(_EMAIL.pattern).mean() > 0.8)


def _classify(series: pd.Series) -> ColumnKind:
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "datetime"
    if pd.api.types.is_numeric_dtype(series):
        return "numeric"
    return "categorical"


def fit_preparation(
    frame: pd.DataFrame,
    *,
    exclude: tuple[str, ...] = (),
    source: str = "data",
    keep_sentinels: bool = False,
) -> Preparation:
    """Learn how to turn ``frame`` into a standardised matrix.

    Parameters
    ----------
    frame : DataFrame
        One row per customer; the customer id column must be in ``exclude``.
    exclude : tuple of str
        Columns never used as features (id, outcome, ...).
    source : str
        Name used in error messages.
    keep_sentinels : bool
        Keep placeholder and impossible values as they are (default: set to missing).

    Returns
    -------
    Preparation

    Raises
    ------
    DataError
        When no usable feature is left; the message says why each column went.
    """
    decisions: list[dict[str, Any]] = []
    n = len(frame)
    if n == 0:
        raise DataError(f"{source}: no customers to segment")
    if n == 1:
        raise DataError(
            f"{source}: only one customer (n_samples = 1); at least 2 are needed to segment"
        )
    sentinels = () if keep_sentinels else tuple(find_sentinels(frame, exclude=exclude))
    frame = clear_sentinels(frame, sentinels)
    decisions += [
        {"column": r.column, "action": "values set to missing", "values": list(r.values),
         "rows": r.rows, "reason": r.reason}
        for r in sentinels
    ]  # fmt: skip
    candidates: list[tuple[str, ColumnKind]] = []
    for col in frame.columns:
        name = str(col)
        if name in exclude:
            decisions.append(
                {"column": name, "action": "excluded", "reason": "not a feature (id or excluded)"}
            )
            continue
        series = frame[col]
        if series.isna().all():
            decisions.append({"column": name, "action": "dropped", "reason": "no values"})
            continue
        kind = _classify(series)
        if kind == "categorical":
            if _is_email(series):
                decisions.append(
                    {
                        "column": name,
                        "action": "dropped",
                        "reason": "e-mail addresses (personal data)",
                    }
                )
                continue
            if _is_free_text(series):
                decisions.append({"column": name, "action": "dropped", "reason": "free text"})
                continue
        if kind in ("categorical", "numeric") and id_kind(name) in _ID_NAMES:
            # store_id, basket_id, product_no: labels of other things, never quantities,
            # however few or many their values
            reason = f"identifier-like (named as an id: {name!r} labels, it does not measure)"
            decisions.append({"column": name, "action": "dropped", "reason": reason})
            continue
        if kind in ("categorical", "numeric") and _looks_like_identifier(series, name):
            decisions.append(
                {
                    "column": name,
                    "action": "dropped",
                    "reason": "identifier-like (distinct on almost every row)",
                }
            )
            continue
        candidates.append((name, kind))

    one_scale, why = _one_scale(frame, candidates)
    decisions.insert(
        0,
        {
            "column": "(all features)",
            "action": "kept on one scale" if one_scale else "standardised",
            "reason": why,
        },
    )
    plans: list[ColumnPlan] = []
    blocks: list[np.ndarray] = []
    described: dict[str, ColumnPlan] = {}
    for name, kind in candidates:
        series = frame[name]
        if kind == "categorical":
            plan = _fit_categorical(name, series, decisions)
            if plan is None:
                levels = series.astype("string").str.strip().fillna("missing").unique()
                if len(levels) > 1:
                    described[name] = ColumnPlan(
                        name=name, kind="categorical", levels=tuple(sorted(map(str, levels)))
                    )
                continue
            block, _ = _apply_plan(plan, series)
        else:
            reference = None
            if kind == "datetime":
                reference = pd.Timestamp(series.max()).isoformat()
            probe = ColumnPlan(name=name, kind=kind, reference=reference)
            values, _ = as_numbers(series, probe)
            plan = _fit_numeric(probe, values, decisions, keep_geometry=one_scale)
            if plan is None:
                present = values[~np.isnan(values)]
                if len(np.unique(present)) > 1:  # near-constant, still worth describing
                    described[name] = ColumnPlan(
                        name=name,
                        kind=kind,
                        impute=float(np.median(present)),
                        reference=probe.reference,
                    )
                continue
            block, _ = _apply_plan(plan, series)
        plans.append(plan)
        described[name] = plan
        blocks.append(block)

    if not one_scale:
        plans, blocks = _drop_correlated(plans, blocks, decisions)
    if not plans:
        reasons = "; ".join(
            f"{d['column']}: {d['reason']}"
            for d in decisions[1:]  # the first is the scale geometry
            if d["action"] != "excluded"
        )
        raise DataError(f"{source}: no usable feature columns ({reasons or 'only the id column'})")

    raw = np.column_stack(blocks)
    center = raw.mean(axis=0)
    scale = raw.std(axis=0)
    if one_scale:  # one spread for all: distances keep their proportions
        scale[:] = math.sqrt(float(np.mean(scale**2)))
    scale[scale == 0] = 1.0
    weights = np.concatenate(
        [
            np.full(
                block.shape[1],
                1.0 / math.sqrt(block.shape[1]) if plan.kind == "categorical" else 1.0,
            )
            for plan, block in zip(plans, blocks, strict=True)
        ]
    )
    columns = tuple(col for plan in plans for col in plan.output_columns())
    return Preparation(
        plans=tuple(plans),
        columns=columns,
        center=center,
        scale=scale,
        weights=weights,
        decisions=decisions,
        described=tuple(described[name] for name, _ in candidates if name in described),
        sentinels=sentinels,
    )


def _fit_categorical(
    name: str, series: pd.Series, decisions: list[dict[str, Any]]
) -> ColumnPlan | None:
    text = series.astype("string").str.strip()
    text = text.fillna("missing").mask(text == "", "missing")
    counts = text.value_counts()
    top_share = counts.iloc[0] / len(text)
    if len(counts) == 1 or top_share >= NEAR_CONSTANT_SHARE:
        decisions.append({
            "column": name, "action": "dropped",
            "reason": (
                "constant"
                if len(counts) == 1
                else f"near-constant ({top_share:.1%} are {counts.index[0]!r})"
            ),
        })  # fmt: skip
        return None
    if len(counts) <= MAX_LEVELS:
        levels = tuple(sorted(str(v) for v in counts.index))
        decisions.append({"column": name, "action": "one-hot", "levels": len(levels)})
        return ColumnPlan(name=name, kind="categorical", levels=levels)
    kept = tuple(sorted(str(v) for v in counts.index[: MAX_LEVELS - 1]))
    decisions.append({
        "column": name, "action": "one-hot",
        "levels": MAX_LEVELS, "reason": (
            f"{len(counts)} levels: the {MAX_LEVELS - 1} most frequent kept, the rest as 'other'"
        ),
    })  # fmt: skip
    return ColumnPlan(name=name, kind="categorical", levels=kept, other=True)


def _one_scale(frame: pd.DataFrame, candidates: list[tuple[str, ColumnKind]]) -> tuple[bool, str]:
    """Whether every feature is measured on one scale (see the module's rule), and why."""
    if not candidates:
        return False, "no features"
    other = [name for name, kind in candidates if kind != "numeric"]
    if other:
        return False, (
            f"features in different units ({other[0]!r} is not a number): each column is "
            "standardised"
        )
    spreads: dict[str, float] = {}
    for name, _ in candidates:
        values = as_numbers(frame[name], ColumnPlan(name=name, kind="numeric"))[0]
        present = values[~np.isnan(values)]
        uniques = np.unique(present)
        if len(uniques) <= 1:
            continue  # constant: dropped whatever the scale
        if 1 - len(present) / len(values) > MISSING_INDICATOR_SHARE:
            return False, f"{name!r} has missing values: each column is standardised"
        if len(uniques) == 2:
            return False, f"{name!r} is a flag (two values): each column is standardised"
        if np.all(present == np.round(present)) and len(uniques) < WHOLE_DISTINCT * len(present):
            return False, (
                f"{name!r} holds whole numbers repeating across rows ({len(uniques)} values), "
                "as counts, ages and scores in their own units do: each column is standardised"
            )
        median, top = np.percentile(present, [50, 99])
        if (
            present.min() >= 0
            and _skewness(present) > SKEW_THRESHOLD
            and top > HEAVY_TAIL_RATIO * median
        ):
            return False, (
                f"{name!r} spans orders of magnitude from zero (99th percentile {top:.3g}, "
                f"median {median:.3g}), as amounts and counts do: skewed columns are "
                "log-transformed and each column is standardised"
            )
        spreads[name] = float(present.std())
    if not spreads:
        return False, "no varying feature"
    widest, narrowest = max(spreads, key=spreads.__getitem__), min(spreads, key=spreads.__getitem__)
    ratio = spreads[widest] / spreads[narrowest]
    if ratio > SCALE_RATIO:
        return False, (
            f"spreads differ {ratio:.3g}-fold ({widest!r} against {narrowest!r}, more than "
            f"{SCALE_RATIO:g}): each column is standardised"
        )
    return True, (
        f"all {len(spreads)} features are numbers on comparable scales (spreads within "
        f"{ratio:.3g}-fold, none spanning orders of magnitude): the geometry is kept, one "
        "common scale for all"
    )


def _fit_numeric(
    probe: ColumnPlan,
    values: np.ndarray,
    decisions: list[dict[str, Any]],
    *,
    keep_geometry: bool = False,
) -> ColumnPlan | None:
    name = probe.name
    present = values[~np.isnan(values)]
    if len(present) == 0:
        decisions.append({"column": name, "action": "dropped", "reason": "no numeric values"})
        return None
    uniques, counts = np.unique(present, return_counts=True)
    top_share = counts.max() / len(values)
    if len(uniques) == 1 or top_share >= NEAR_CONSTANT_SHARE:
        reason = (
            "constant"
            if len(uniques) == 1
            else f"near-constant ({top_share:.1%} equal {uniques[counts.argmax()]:g})"
        )
        decisions.append({"column": name, "action": "dropped", "reason": reason})
        return None
    missing_share = 1 - len(present) / len(values)
    impute = float(np.median(present))
    indicator = missing_share > MISSING_INDICATOR_SHARE
    if missing_share > 0:
        decisions.append({
            "column": name, "action": "imputed", "value": impute,
            "missing": int(len(values) - len(present)), "indicator": indicator,
        })  # fmt: skip
    filled = np.where(np.isnan(values), impute, values)
    skewness = _skewness(filled)
    # A two-valued column (0/1 flags) is only rescaled by a log: leave it as it is.
    log = bool(skewness > SKEW_THRESHOLD and len(uniques) > 2 and not keep_geometry)
    if log:
        signed = bool(filled.min() < 0)
        decisions.append({
            "column": name, "action": "signed log1p" if signed else "log1p",
            "reason": f"skewness {skewness:.2f} > {SKEW_THRESHOLD:g}",
        })  # fmt: skip
        filled = np.sign(filled) * np.log1p(np.abs(filled))
    q1, q3 = np.percentile(filled, [25, 75])
    iqr = q3 - q1
    clip = None
    if iqr > 0 and not keep_geometry:
        low, high = q1 - FENCE_IQR * iqr, q3 + FENCE_IQR * iqr
        clipped = int(((filled < low) | (filled > high)).sum())
        if clipped:
            clip = (float(low), float(high))
            decisions.append(
                {
                    "column": name,
                    "action": "winsorised",
                    "values_clipped": clipped,
                    "bounds": list(clip),
                }
            )
    return ColumnPlan(
        name=name,
        kind=probe.kind,
        impute=impute,
        indicator=indicator,
        log=log,
        clip=clip,
        reference=probe.reference,
    )


def _drop_correlated(
    plans: list[ColumnPlan], blocks: list[np.ndarray], decisions: list[dict[str, Any]]
) -> tuple[list[ColumnPlan], list[np.ndarray]]:
    numeric = [i for i, plan in enumerate(plans) if plan.kind != "categorical"]
    if len(numeric) < 2:
        return plans, blocks
    first = np.column_stack([blocks[i][:, 0] for i in numeric])
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.corrcoef(first, rowvar=False)
    dropped: set[int] = set()
    for a in range(len(numeric)):
        if a in dropped:
            continue
        for b in range(a + 1, len(numeric)):
            if b in dropped or not np.isfinite(corr[a, b]):
                continue
            if abs(corr[a, b]) > CORRELATION_LIMIT:
                dropped.add(b)
                decisions.append({
                    "column": plans[numeric[b]].name, "action": "dropped",
                    "reason": f"|r| = {abs(corr[a, b]):.3f} with {plans[numeric[a]].name!r} (kept)",
                })  # fmt: skip
    keep = [i for i in range(len(plans)) if i not in {numeric[d] for d in dropped}]
    return [plans[i] for i in keep], [blocks[i] for i in keep]
