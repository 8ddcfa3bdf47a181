"""The numbers behind the report's charts, computed from a segmentation (pure, no I/O).

:func:`build_exhibits` turns a fitted segmentation (the prepared matrix, the labels, the
features in the user's units) into :class:`Exhibits`: small, JSON-ready summaries that a
report can draw without the data.

* 2-D map: PCA of the prepared matrix (what the model saw), on a sample stratified by
  segment of at most :data:`MAP_POINTS` customers; segment centres projected too.
* t-SNE (scikit-learn's ``TSNE``) on a stratified sample of at most :data:`TSNE_POINTS`,
  computed only when it adds something: at least 3 prepared columns, at least 100
  customers, and PCA's two axes keeping less than :data:`TSNE_WHEN_PCA_BELOW` (70%) of
  the variance (a 2-D PCA map that keeps most of the variance is already faithful).
* Silhouette of every customer of a stratified sample of at most :data:`SILHOUETTE_POINTS`
  (exact ``silhouette_samples`` on the sample), for the per-segment silhouette plot.
* Box statistics (quartiles, Tukey whiskers, mean) per numeric feature and segment, on
  every customer; distributions (histograms, level counts) of every feature; the
  correlation matrix of the prepared columns; percentile-rank profiles for a radar chart;
  population mean, median and standard deviation; a feature catalogue in words.
* Dendrogram (Ward linkage on a sample of at most :data:`DENDROGRAM_POINTS`, last 30
  merges) when the model's algorithm is hierarchical.

Every sample is seeded by ``random_state``. Segment ids, never names, identify segments,
so a renamed segment needs no recomputation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_samples
from threadpoolctl import threadpool_limits

from segmint.naming import UNASSIGNED, humanise
from segmint.prepare import ColumnPlan, Preparation

MAP_POINTS = 5_000
TSNE_POINTS = 1_500
TSNE_WHEN_PCA_BELOW = 0.70
TSNE_MIN_CUSTOMERS = 100
SILHOUETTE_POINTS = 2_000
DENDROGRAM_POINTS = 1_000
HISTOGRAM_BINS = 30
MAX_BOX_FEATURES = 12
MAX_RADAR_FEATURES = 8
MAX_CORRELATION_COLUMNS = 40
MAX_LEVELS_SHOWN = 15
CORRELATION_ROWS = 50_000

FEATURE_DEFINITIONS: dict[str, str] = {
    "recency_days": "Days from the customer's last order with positive value to the as-of date "
    "(a purchase on the last day of the data gives 1).",
    "frequency": "Number of orders with positive value (an order is the lines sharing an "
    "invoice number; returns never count).",
    "monetary": "Net spend: purchases minus returns, over the whole history.",
    "avg_order_value": "Mean value of the customer's orders with positive value.",
    "tenure_days": "Days from the customer's first order with positive value to the as-of date.",
}
# The behavioural families of :mod:`segmint.features.families`, in plain words.
FEATURE_DEFINITIONS.update(
    {
        "order_value_std": "Spread (standard deviation) of the customer's order values; 0 with "
        "one order.",
        "order_value_cv": "How much order values vary relative to their mean (standard "
        "deviation / mean); 0 = every order the same size.",
        "days_between_orders": "Mean days between consecutive orders (missing with one order).",
        "days_between_orders_cv": "How irregular the gaps between orders are (standard "
        "deviation / mean of the gaps); 0 = like clockwork; missing with one order.",
        "spend_per_month": "Net spend per month since the first order (at least one month).",
        "spend_per_active_month": "Net spend per month in which the customer ordered.",
        "active_month_share": "Share of the months since the first order with at least one order.",
        "monthly_spend_slope": "Trend of monthly spend since the first order (least-squares "
        "slope, money per month; months without orders count as 0).",
        "top_month_share": "Share of spend in the customer's top calendar month (years pooled); "
        "1 = everything bought in one month of the year.",
        "peak_season_share": "Share of spend in the shop's peak months.",
        "weekend_share": "Share of spend on Saturdays and Sundays.",
        "night_share": "Share of spend ordered between 0:00 and 6:00.",
        "morning_share": "Share of spend ordered between 6:00 and 12:00.",
        "afternoon_share": "Share of spend ordered between 12:00 and 18:00.",
        "evening_share": "Share of spend ordered between 18:00 and 24:00.",
        "distinct_products": "Number of different products bought.",
        "distinct_categories": "Number of different product categories bought.",
        "return_value_share": "Value of returns over value of purchases.",
        "return_quantity_share": "Units returned over units bought.",
        "discounted_share": "Share of purchase value bought with a discount.",
        "mean_discount": "Mean discount rate, weighted by purchase value.",
        "quality_score": "Data quality of the customer's lines (1 = no problem found).",
    }
)
_PATTERNS: tuple[tuple[str, str, str], ...] = (
    (r"spend_last_(\d+)d", "Spend in the last {0} days before the as-of date.", "currency"),
    (r"spend_prev_(\d+)d", "Spend in the {0} days before the last {0} days.", "currency"),
    (r"orders_last_(\d+)d", "Orders in the last {0} days before the as-of date.", "orders"),
    (r"orders_prev_(\d+)d", "Orders in the {0} days before the last {0} days.", "orders"),
    (r"frequency_last_(\d+)d", "Orders in the last {0} days before the as-of date.", "orders"),
    (r"monetary_last_(\d+)d", "Net spend in the last {0} days before the as-of date.", "currency"),
    (r"(spend|orders)_trend", "Change of {0} in the recent period against the one before: "
     "(last - previous) / (last + previous), from -1 (stopped) to +1 (started).", ""),
    (r"channel_share_(.+)", "Share of orders placed through the {0} channel.", ""),
)  # fmt: skip


def definition_for(feature: str) -> tuple[str, str] | None:
    """A known feature's definition in words and its unit (None when unknown)."""
    if feature in FEATURE_DEFINITIONS:
        return FEATURE_DEFINITIONS[feature], FEATURE_UNITS.get(feature, "")
    for pattern, text, unit in _PATTERNS:
        match = re.fullmatch(pattern, feature)
        if match:
            return text.format(*match.groups()), unit
    return None


FEATURE_UNITS: dict[str, str] = {
    "days_between_orders": "days",
    "order_value_std": "currency",
    "spend_per_month": "currency",
    "spend_per_active_month": "currency",
    "recency_days": "days",
    "frequency": "orders",
    "monetary": "currency",
    "avg_order_value": "currency",
    "tenure_days": "days",
}


@dataclass(frozen=True)
class Exhibits:
    """Chart data of one segmentation (see the module docstring); JSON-ready."""

    map: dict[str, Any] = field(default_factory=dict)
    tsne: dict[str, Any] | None = None
    silhouette: dict[str, Any] | None = None
    boxes: dict[str, Any] = field(default_factory=dict)
    distributions: list[dict[str, Any]] = field(default_factory=list)
    correlation: dict[str, Any] = field(default_factory=dict)
    radar: dict[str, Any] = field(default_factory=dict)
    population: dict[str, Any] = field(default_factory=dict)
    catalogue: list[dict[str, Any]] = field(default_factory=list)
    dendrogram: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return cast(dict[str, Any], _finite(asdict(self)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Exhibits:
        """Inverse of :meth:`to_dict` (unknown keys are ignored)."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, (np.floating, float)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def stratified_sample(labels: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Row positions of a sample of at most ``size``, each segment in proportion to its size
    but with at least ``min(its size, 30)`` rows, sorted. All rows when few enough."""
    n = len(labels)
    if n <= size:
        return np.arange(n)
    chosen = []
    for seg in np.unique(labels):
        rows = np.flatnonzero(labels == seg)
        take = min(len(rows), max(30, round(size * len(rows) / n)))
        chosen.append(rng.choice(rows, size=take, replace=False))
    return np.sort(np.concatenate(chosen))


def build_exhibits(
    *,
    matrix: np.ndarray,
    labels: np.ndarray,
    values: pd.DataFrame,
    customers: pd.DataFrame,
    preparation: Preparation,
    algorithm: str = "kmeans",
    definitions: Mapping[str, str] | None = None,
    random_state: int | None = 0,
) -> Exhibits:
    """Everything the report draws, from one segmentation.

    Parameters
    ----------
    matrix : ndarray
        The prepared matrix the model was fitted on, one row per customer.
    labels : ndarray
        Segment of every customer (-1: unassigned).
    values : DataFrame
        Features in the user's units (:func:`segmint.profile.profile_frame`).
    customers : DataFrame
        The customer table (``customer_id`` and the raw feature columns).
    preparation : Preparation
    algorithm : str
        The model's algorithm (a dendrogram is drawn for hierarchical ones).
    definitions : mapping, optional
        Feature name -> definition in words, added to :data:`FEATURE_DEFINITIONS`.
    random_state : int or None
        Seed of every sample and of t-SNE.
    """
    labels = np.asarray(labels)
    matrix = np.asarray(matrix, dtype=float)
    rng = np.random.default_rng(random_state)
    notes: list[str] = []
    pca_map, explained = _pca_map(matrix, labels, rng)
    tsne = None
    if (
        matrix.shape[1] >= 3
        and len(labels) >= TSNE_MIN_CUSTOMERS
        and explained < TSNE_WHEN_PCA_BELOW
    ):
        tsne = _tsne(matrix, labels, rng, random_state)
        notes.append(
            f"t-SNE drawn because the PCA map keeps only {explained:.0%} of the variance "
            f"(below {TSNE_WHEN_PCA_BELOW:.0%})."
        )
    hierarchical = bool(re.search(r"hier|agglo|ward|linkage|genie", algorithm.lower()))
    return Exhibits(
        map=pca_map,
        tsne=tsne,
        silhouette=_silhouettes(matrix, labels, rng),
        boxes=_boxes(values, labels, preparation),
        distributions=_distributions(values, customers, preparation),
        correlation=_correlation(matrix, list(preparation.columns), rng),
        radar=_radar(values, labels),
        population={
            "mean": values.mean(axis=0, skipna=True).to_dict(),
            "median": values.median(axis=0, skipna=True).to_dict(),
            "std": values.std(axis=0, ddof=0, skipna=True).to_dict(),
        },
        catalogue=feature_catalogue(preparation, values, definitions or {}),
        dendrogram=_dendrogram(matrix, labels, rng) if hierarchical else None,
        notes=notes,
    )


def _round(array: np.ndarray, digits: int = 4) -> list[float]:
    return [float(v) for v in np.round(np.asarray(array, dtype=float), digits)]


def _pca_map(
    matrix: np.ndarray, labels: np.ndarray, rng: np.random.Generator
) -> tuple[dict[str, Any], float]:
    n, p = matrix.shape
    sample = stratified_sample(labels, MAP_POINTS, rng)
    segments = [int(s) for s in np.unique(labels)]
    centres = (
        np.array([matrix[labels == s].mean(axis=0) for s in segments]) if n else np.empty((0, p))
    )
    if p == 0 or n < 2:
        coords, centre_coords, ratio = np.zeros((n, 2)), np.zeros((len(segments), 2)), [1.0, 0.0]
    elif p == 1:
        coords = np.column_stack([matrix[:, 0], np.zeros(n)])
        centre_coords = np.column_stack([centres[:, 0], np.zeros(len(segments))])
        ratio = [1.0, 0.0]
    else:
        fit_rows = (
            matrix
            if n <= CORRELATION_ROWS
            else matrix[rng.choice(n, CORRELATION_ROWS, replace=False)]
        )
        pca = PCA(n_components=2, random_state=0).fit(fit_rows)
        coords = pca.transform(matrix[sample])
        centre_coords = pca.transform(centres)
        ratio = [float(r) for r in pca.explained_variance_ratio_]
        sample_coords = coords
        coords = np.zeros((n, 2))
        coords[sample] = sample_coords
    data = {
        "method": "PCA",
        "x": _round(coords[sample, 0]),
        "y": _round(coords[sample, 1]),
        "segment": [int(s) for s in labels[sample]],
        "explained": ratio,
        "centres": {str(s): _round(centre_coords[i]) for i, s in enumerate(segments)},
        "sampled": len(sample),
        "total": n,
    }
    return data, float(sum(ratio))


def _tsne(
    matrix: np.ndarray, labels: np.ndarray, rng: np.random.Generator, seed: int | None
) -> dict[str, Any]:
    sample = stratified_sample(labels, TSNE_POINTS, rng)
    perplexity = float(min(30.0, (len(sample) - 1) / 3))
    # One thread: on a busy machine OpenMP threads of t-SNE slow it down several-fold.
    with threadpool_limits(1):
        coords = TSNE(
            n_components=2, init="pca", perplexity=perplexity, max_iter=500,
            random_state=seed if seed is not None else 0,
        ).fit_transform(matrix[sample])  # fmt: skip
    return {
        "method": "t-SNE",
        "x": _round(coords[:, 0], 3),
        "y": _round(coords[:, 1], 3),
        "segment": [int(s) for s in labels[sample]],
        "sampled": len(sample),
        "total": len(labels),
        "perplexity": perplexity,
    }


def _silhouettes(
    matrix: np.ndarray, labels: np.ndarray, rng: np.random.Generator
) -> dict[str, Any] | None:
    assigned = np.flatnonzero(labels != UNASSIGNED)
    if len(np.unique(labels[assigned])) < 2 or len(assigned) < 3:
        return None
    sample = assigned[stratified_sample(labels[assigned], SILHOUETTE_POINTS, rng)]
    if len(np.unique(labels[sample])) < 2 or len(np.unique(labels[sample])) >= len(sample):
        return None
    scores = silhouette_samples(matrix[sample], labels[sample])
    per_segment = {}
    for seg in np.unique(labels[sample]):
        mine = np.sort(scores[labels[sample] == seg])[::-1]
        per_segment[str(int(seg))] = {"values": _round(mine, 3), "mean": float(mine.mean())}
    return {
        "segments": per_segment,
        "mean": float(scores.mean()),
        "sampled": len(sample),
        "total": len(assigned),
    }


def _numeric_plans(preparation: Preparation) -> list[ColumnPlan]:
    return [
        p for p in (preparation.described or preparation.plans) if p.kind in ("numeric", "datetime")
    ]


def _boxes(values: pd.DataFrame, labels: np.ndarray, preparation: Preparation) -> dict[str, Any]:
    # A 0/1 number (SeniorCitizen) has no box worth drawing: its share is in the heatmap.
    plans = [
        p
        for p in _numeric_plans(preparation)
        if p.name in values.columns and values[p.name].nunique(dropna=True) > 2
    ]
    if not plans:
        return {"features": [], "stats": {}}
    spread = {}
    for plan in plans:
        column = values[plan.name]
        sd = column.std(ddof=0)
        means = [column[labels == s].mean() for s in np.unique(labels)]
        spread[plan.name] = (
            (np.nanmax(means) - np.nanmin(means)) / sd if sd and np.isfinite(sd) else 0.0
        )
    chosen = sorted(plans, key=lambda p: -spread[p.name])[:MAX_BOX_FEATURES]
    stats: dict[str, Any] = {}
    for plan in chosen:
        rows = []
        for seg in np.unique(labels):
            column = values[plan.name].to_numpy(dtype=float)[labels == seg]
            column = column[np.isfinite(column)]
            if len(column) == 0:
                continue
            q1, median, q3 = np.quantile(column, [0.25, 0.5, 0.75])
            iqr = q3 - q1
            inside = column[(column >= q1 - 1.5 * iqr) & (column <= q3 + 1.5 * iqr)]
            rows.append(
                {
                    "segment": int(seg), "n": len(column), "q1": float(q1), "median": float(median),
                    "q3": float(q3), "mean": float(column.mean()),
                    "lower": float(inside.min()), "upper": float(inside.max()),
                }
            )  # fmt: skip
        positive = bool((values[plan.name].dropna() > 0).all())
        stats[plan.name] = {"rows": rows, "log": bool(plan.log and positive)}
    return {"features": [p.name for p in chosen], "stats": stats}


def _distributions(
    values: pd.DataFrame, customers: pd.DataFrame, preparation: Preparation
) -> list[dict[str, Any]]:
    out = []
    for plan in preparation.described or preparation.plans:
        if plan.kind == "categorical" or plan.kind == "boolean":
            raw = (
                customers[plan.name]
                if plan.name in customers.columns
                else pd.Series(dtype="string")
            )
            text = raw.astype("string").str.strip()
            text = text.fillna("missing").mask(text == "", "missing")
            counts = text.value_counts()
            top = counts.head(MAX_LEVELS_SHOWN)
            levels = [str(level) for level in top.index]
            numbers = [int(c) for c in top.to_numpy()]
            if len(counts) > MAX_LEVELS_SHOWN:
                levels.append(f"{len(counts) - MAX_LEVELS_SHOWN} other levels")
                numbers.append(int(counts.iloc[MAX_LEVELS_SHOWN:].sum()))
            out.append(
                {"feature": plan.name, "kind": "categorical", "levels": levels, "counts": numbers}
            )
            continue
        if plan.name not in values.columns:
            continue
        column = values[plan.name].to_numpy(dtype=float)
        finite = column[np.isfinite(column)]
        entry: dict[str, Any] = {
            "feature": plan.name,
            "kind": "numeric",
            "missing": int((~np.isfinite(column)).sum()),
        }
        if len(finite):
            low, top = float(finite.min()), float(np.quantile(finite, 0.99))
            if top <= low:
                top = float(finite.max()) if finite.max() > low else low + 1.0
            counts, edges = np.histogram(
                finite[finite <= top], bins=HISTOGRAM_BINS, range=(low, top)
            )
            entry.update(
                edges=_round(edges, 6), counts=[int(c) for c in counts],
                above=int((finite > top).sum()), max=float(finite.max()),
            )  # fmt: skip
        out.append(entry)
    return out


def _correlation(
    matrix: np.ndarray, columns: list[str], rng: np.random.Generator
) -> dict[str, Any]:
    n, p = matrix.shape
    if p < 2 or n < 3:
        return {"columns": [], "matrix": []}
    rows = (
        matrix if n <= CORRELATION_ROWS else matrix[rng.choice(n, CORRELATION_ROWS, replace=False)]
    )
    varying = [j for j in range(p) if np.std(rows[:, j]) > 0][:MAX_CORRELATION_COLUMNS]
    if len(varying) < 2:
        return {"columns": [], "matrix": []}
    r = np.corrcoef(rows[:, varying], rowvar=False)
    return {
        "columns": [columns[j] if j < len(columns) else f"x{j}" for j in varying],
        "matrix": [_round(row, 3) for row in r],
        "truncated": p > MAX_CORRELATION_COLUMNS,
    }


def _radar(values: pd.DataFrame, labels: np.ndarray) -> dict[str, Any]:
    if values.shape[1] == 0:
        return {"features": [], "segments": {}}
    # A level's share is already on a 0..100 scale; a number becomes its percentile rank.
    scores = pd.DataFrame(index=values.index)
    for column in values.columns:
        series = values[column]
        levels = set(series.dropna().unique())
        scores[column] = series * 100 if levels <= {0.0, 1.0} else series.rank(pct=True) * 100
    segments = [int(s) for s in np.unique(labels) if s != UNASSIGNED]
    means = pd.DataFrame({s: scores[labels == s].mean(axis=0) for s in segments})
    spread = (means.max(axis=1) - means.min(axis=1)).fillna(0.0)
    chosen: list[Any] = []
    # Recency, frequency, monetary value and tenure first: the axes people read segments by.
    first = [
        c for c in FEATURE_UNITS if c in ("recency_days", "frequency", "monetary", "tenure_days")
    ]
    ordered = [c for c in first if c in spread.index and spread[c] > 0]
    ordered += [
        c for c in spread.sort_values(ascending=False, kind="stable").index if c not in ordered
    ]
    for column in ordered:
        if len(chosen) == MAX_RADAR_FEATURES or spread[column] <= 0:
            break
        # One fact once: "PhoneService=No" mirrors "PhoneService=Yes", and "No internet
        # service" repeats across every add-on column.
        base = str(column).split("=", 1)[0]
        if "=" in str(column) and any(str(other).split("=", 1)[0] == base for other in chosen):
            continue
        if len(segments) >= 5 and any(
            abs(np.corrcoef(means.loc[column], means.loc[other])[0, 1]) > 0.99 for other in chosen
        ):
            continue
        chosen.append(column)
    return {
        "features": [str(c) for c in chosen],
        "segments": {str(s): _round(means.loc[chosen, s].to_numpy(), 2) for s in segments},
    }


def _dendrogram(
    matrix: np.ndarray, labels: np.ndarray, rng: np.random.Generator
) -> dict[str, Any] | None:
    from scipy.cluster.hierarchy import dendrogram, linkage

    sample = stratified_sample(labels, DENDROGRAM_POINTS, rng)
    if len(sample) < 3:
        return None
    tree = linkage(matrix[sample], method="ward")
    drawn = dendrogram(tree, truncate_mode="lastp", p=30, no_plot=True)
    k = len(np.unique(labels[labels >= 0]))
    heights = tree[:, 2]
    cut = (heights[-k] + heights[-k + 1]) / 2 if 2 <= k <= len(heights) else None
    return {
        "icoord": [_round(c, 3) for c in drawn["icoord"]],
        "dcoord": [_round(c, 4) for c in drawn["dcoord"]],
        "leaves": [str(label) for label in drawn["ivl"]],
        "sampled": len(sample),
        "k": k,
        "cut_height": None if cut is None else round(float(cut), 4),
    }


def feature_catalogue(
    preparation: Preparation, values: pd.DataFrame, definitions: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Every feature in words: what it is, its unit, how the model used it.

    Features the model did not use (dropped as identifiers, free text, constant, ...)
    are listed with the reason. ``definitions`` adds to (and overrides)
    :data:`FEATURE_DEFINITIONS`.
    """
    definitions = {**FEATURE_DEFINITIONS, **definitions}
    used = set(preparation.input_columns)
    out = []
    for plan in preparation.described or preparation.plans:
        known = definition_for(plan.name)
        definition = definitions.get(plan.name) or (known[0] if known else "")
        unit = FEATURE_UNITS.get(plan.name) or (known[1] if known else "") or _unit(plan)
        out.append(
            {
                "feature": plan.name,
                "label": humanise(plan.name),
                "definition": definition or _generic_definition(plan, values),
                "unit": unit,
                "kind": plan.kind,
                "used": plan.name in used,
                "treatment": _treatment(plan, plan.name in used),
            }
        )
    listed = {entry["feature"] for entry in out}
    for decision in preparation.decisions:
        column = str(decision.get("column", ""))
        action = str(decision.get("action", ""))
        if column in listed or column == "customer_id" or action not in ("dropped", "excluded"):
            continue
        reason = str(decision.get("reason", ""))
        out.append(
            {
                "feature": column, "label": humanise(column),
                "definition": definitions.get(column, f"Column {column!r} of the data."),
                "unit": "", "kind": "", "used": False,
                "treatment": f"not used: {reason}" if reason else "not used",
            }
        )  # fmt: skip
        listed.add(column)
    return out


def _unit(plan: ColumnPlan) -> str:
    if plan.kind == "datetime":
        return "days"
    if plan.kind == "categorical":
        return "share of customers"
    if plan.name.lower().endswith("_days"):
        return "days"
    return ""


def _generic_definition(plan: ColumnPlan, values: pd.DataFrame) -> str:
    name = plan.name
    if plan.kind == "categorical":
        levels = ", ".join(plan.levels[:6]) + (", ..." if len(plan.levels) > 6 else "")
        return f"Category {name!r} of the data ({len(plan.levels)} levels: {levels})."
    if plan.kind == "boolean":
        return f"Yes/no column {name!r} of the data (1 = yes)."
    if plan.kind == "datetime":
        reference = (plan.reference or "")[:10]
        return f"Date column {name!r}, as days before its latest date ({reference})."
    if name in values.columns:
        column = values[name].dropna()
        if len(column):
            return (
                f"Numeric column {name!r} of the data (median {column.median():,.4g}, "
                f"from {column.min():,.4g} to {column.max():,.4g})."
            )
    return f"Numeric column {name!r} of the data."


def _treatment(plan: ColumnPlan, used: bool) -> str:
    if not used:
        return "described only (redundant with another feature)"
    steps = []
    if plan.kind == "categorical":
        steps.append("one 0/1 column per level, weighted so the category counts as one feature")
    if plan.impute is not None and plan.indicator:
        steps.append("missing values imputed with the median, with a missing flag")
    if plan.log:
        steps.append("log-transformed (skewed)")
    if plan.clip:
        steps.append("extreme values capped")
    steps.append("standardised")
    return "; ".join(steps)
