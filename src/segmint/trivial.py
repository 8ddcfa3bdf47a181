"""Trivial partitions: segments that are only one input column's levels or ranges.

A segmentation whose segments coincide with the levels of one column (a gender flag, a
plan type) or with value ranges of one numeric column says nothing that column did not
already say.  :func:`trivial_partition` measures, for every input column, the association
between the segment labels and the column with the bias-corrected Cramér's V
(Bergsma 2013); numeric columns are cut into as many quantile bins as there are segments
(a numeric column of two values is a flag and counts as levels).

A column can also split the segments without being them: with a two-level column that
the scaled features make far apart (a gender flag), k-means and its kin find the
behavioural groups once per level — six segments that are three groups times two
genders. :func:`trivial_partition` calls such a column *nested*: every segment is at
least :data:`NESTED_PURITY` one level, and at least two levels are each the level of two
or more segments (a flag that only marks one segment, as a churn flag may, is not).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

TRIVIAL_V = 0.9  # one column explains the partition at or above this V
NESTED_PURITY = 0.95  # every segment at least this share one level of the column


def cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Bias-corrected Cramér's V between two label arrays (Bergsma 2013).

    Parameters
    ----------
    a, b : ndarray
        Labels of the same observations (missing values already dropped).

    Returns
    -------
    float
        In [0, 1]; 0 when either side has a single level.
    """
    table = pd.crosstab(a, b).to_numpy(dtype=float)
    n = table.sum()
    r, c = table.shape
    if n < 2 or r < 2 or c < 2:
        return 0.0
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    phi2 = float(((table - expected) ** 2 / expected).sum() / n)
    phi2c = max(0.0, phi2 - (r - 1) * (c - 1) / (n - 1))
    rc = r - (r - 1) ** 2 / (n - 1)
    cc = c - (c - 1) ** 2 / (n - 1)
    denom = min(rc - 1, cc - 1)
    return float(np.sqrt(phi2c / denom)) if denom > 0 else 0.0


def _is_numeric(values: pd.Series) -> bool:
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    return numeric and values.nunique() > 2


def _nested(values: pd.Series, labels: np.ndarray) -> float | None:
    """The lowest purity of a segment in one level when ``values`` splits the segments."""
    table = pd.crosstab(labels, values.astype(str))
    if table.shape[1] < 2 or table.shape[1] >= table.shape[0]:
        return None
    purity = table.max(axis=1) / table.sum(axis=1)
    owners = table.idxmax(axis=1).value_counts()
    if purity.min() < NESTED_PURITY or (owners >= 2).sum() < 2:
        return None
    return float(purity.min())


def trivial_partition(
    customers: pd.DataFrame, columns: list[str], labels: np.ndarray
) -> dict[str, Any] | None:
    """The input column that alone explains the segments, or splits them, if any.

    Parameters
    ----------
    customers : DataFrame
        The customer table before encoding.
    columns : list of str
        Its input columns.
    labels : ndarray
        Segment label of each row.

    Returns
    -------
    dict or None
        ``{column, statistic, value, kind}`` of the most associated column with
        V >= :data:`TRIVIAL_V` and at least as many levels as segments; else of a nested
        column (``statistic`` ``"nested_levels"``, ``value`` the lowest purity); or None.
    """
    labels = np.asarray(labels)
    k = len(np.unique(labels))
    if k < 2:
        return None
    best: dict[str, Any] | None = None
    nested: dict[str, Any] | None = None
    for col in columns:
        values = customers[col]
        numeric = _is_numeric(values)
        if numeric:
            values = pd.qcut(values.rank(method="first"), k, labels=False)
        known = values.notna().to_numpy()
        # V near 1 with fewer levels than segments only says one segment is one level
        # (a column determined by the segments), not that the segments are its levels.
        if values[known].nunique() < k:
            purity = None if numeric else _nested(values[known], labels[known])
            if purity is not None and (nested is None or purity > nested["value"]):
                nested = {
                    "column": col,
                    "statistic": "nested_levels",
                    "value": round(purity, 4),
                    "kind": "categorical",
                }
            continue
        v = cramers_v(values.to_numpy()[known], labels[known])
        if v >= TRIVIAL_V and (best is None or v > best["value"]):
            best = {
                "column": col,
                "statistic": "cramers_v_quantile_bins" if numeric else "cramers_v",
                "value": round(v, 4),
                "kind": "numeric" if numeric else "categorical",
            }
    return best or nested


def trivial_warning(found: dict[str, Any]) -> str:
    """The plain-words warning for a trivial partition."""
    if found["statistic"] == "nested_levels":
        return (
            f"every segment is one level of {found['column']} and its levels are split "
            f"again (lowest purity {found['value']:.2f}): this column multiplies the "
            f"segments; try --exclude {found['column']}"
        )
    if found["kind"] == "categorical":
        return (
            f"the segments are the levels of {found['column']} (Cramér's V "
            f"{found['value']:.2f}): this column alone splits the customers; "
            f"try --exclude {found['column']}"
        )
    return (
        f"the segments are value ranges of {found['column']} (Cramér's V "
        f"{found['value']:.2f} with its quantile bins): this column alone splits the customers"
    )
