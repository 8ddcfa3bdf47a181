"""Trivial partitions: segments that are only one input column's levels or ranges.

A segmentation whose segments coincide with the levels of one column (a gender flag, a
plan type) or with value ranges of one numeric column says nothing that column did not
already say.  :func:`trivial_partition` measures, for every input column, the association
between the segment labels and the column with the bias-corrected Cramér's V
(Bergsma 2013); numeric columns are cut into as many quantile bins as there are segments.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

TRIVIAL_V = 0.9  # one column explains the partition at or above this V


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


def trivial_partition(
    customers: pd.DataFrame, columns: list[str], labels: np.ndarray
) -> dict[str, Any] | None:
    """The input column that alone explains the segments, if any.

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
        V >= :data:`TRIVIAL_V` and at least as many levels as segments, or None.
    """
    k = len(np.unique(labels))
    if k < 2:
        return None
    best: dict[str, Any] | None = None
    for col in columns:
        values = customers[col]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if numeric:
            values = pd.qcut(values.rank(method="first"), k, labels=False)
        known = values.notna().to_numpy()
        # V near 1 with fewer levels than segments only says one segment is one level
        # (a column determined by the segments), not that the segments are its levels.
        if values[known].nunique() < k:
            continue
        v = cramers_v(values.to_numpy()[known], labels[known])
        if v >= TRIVIAL_V and (best is None or v > best["value"]):
            best = {
                "column": col,
                "statistic": "cramers_v_quantile_bins" if numeric else "cramers_v",
                "value": round(v, 4),
                "kind": "numeric" if numeric else "categorical",
            }
    return best


def trivial_warning(found: dict[str, Any]) -> str:
    """The plain-words warning for a trivial partition."""
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
