"""Outcome overlay: does the segmentation separate what the user cares about?

An *outcome* (churn, revenue next period, a campaign response) is never used to form
segments. After segmenting, its rate (a two-valued column) or mean (a numeric column) is
given per segment with a 95% confidence interval, and a test says whether segments
differ:

* two values (Yes/No, 1/0, true/false, any two labels): the rate of the *positive*
  value (yes, true, 1, y; otherwise the rarer of the two, ties to the later in sort
  order) with Wilson's score interval, and Pearson's chi-squared test of independence on
  the segments x {positive, other} table, with Cramér's V as the size of the difference;
* numbers with more than two values: the mean with Student's t interval, and the
  Kruskal-Wallis test (no normality assumed), with epsilon-squared ``H / (n - 1)`` as the
  size of the difference.

Customers without a value are left out of the overlay (counted). Customers an algorithm
left unassigned (segment -1) get a row but are not part of the test.

Transaction logs: the outcome must be a column with one value per customer (repeated on
every line of that customer, blanks allowed); a customer with two different values is a
data error.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from scipy import stats

from segmint.errors import DataError
from segmint.features.roles import ColumnRoles, normalise_ids

CONFIDENCE = 0.95
SIGNIFICANCE = 0.05
_POSITIVE = {"yes", "true", "1", "y", "1.0"}


@dataclass(frozen=True)
class OutcomeSegment:
    """The outcome in one segment.

    Attributes
    ----------
    segment : int
    name : str
    n : int
        Members with a known outcome.
    value : float
        Rate (0..1) or mean.
    low, high : float
        95% confidence interval (NaN when it cannot be computed, e.g. one customer).
    positives : int or None
        Members with the positive value (rates only).
    """

    segment: int
    name: str
    n: int
    value: float
    low: float
    high: float
    positives: int | None = None


@dataclass(frozen=True)
class OutcomeOverlay:
    """The outcome per segment, and whether segments differ.

    Attributes
    ----------
    column : str
    kind : {"rate", "mean"}
    positive : str or None
        The value counted by the rate.
    label : str
        Words for the measure, e.g. ``"Churn = Yes rate"`` or ``"mean revenue"``.
    overall, overall_low, overall_high : float
        Over all customers with a known outcome.
    n, n_missing : int
        Customers with and without a known outcome.
    segments : list of OutcomeSegment
    interval : str
        How the intervals are computed.
    test : str
        ``"chi-squared"``, ``"Kruskal-Wallis"`` or ``""`` (no test possible).
    statistic, p_value, effect : float or None
    dof : int or None
    effect_name : str
        ``"Cramér's V"`` or ``"epsilon-squared"``.
    conclusion : str
        One sentence for the report.
    """

    column: str
    kind: Literal["rate", "mean"]
    positive: str | None
    label: str
    overall: float
    overall_low: float
    overall_high: float
    n: int
    n_missing: int
    segments: list[OutcomeSegment] = field(default_factory=list)
    interval: str = ""
    test: str = ""
    statistic: float | None = None
    dof: int | None = None
    p_value: float | None = None
    effect: float | None = None
    effect_name: str = ""
    conclusion: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN as None)."""
        data = asdict(self)
        return cast(dict[str, Any], _nan_to_none(data))


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_nan_to_none(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson's score interval for a proportion (Wilson 1927).

    Returns ``(nan, nan)`` for ``n = 0``.
    """
    if n <= 0:
        return float("nan"), float("nan")
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    p = successes / n
    denominator = 1 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denominator
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denominator
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def mean_interval(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Student's t interval for a mean; ``(nan, nan)`` with fewer than two values."""
    values = np.asarray(values, dtype=float)
    n = len(values)
    if n < 2:
        return float("nan"), float("nan")
    mean = float(values.mean())
    sem = float(values.std(ddof=1) / np.sqrt(n))
    if sem == 0:
        return mean, mean
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sem
    return mean - half, mean + half


def _missing(series: pd.Series) -> pd.Series:
    text = series.astype("string").str.strip()
    return series.isna() | text.isna() | (text == "")


def _text(values: pd.Series) -> pd.Series:
    """Values as trimmed text; numbers without a needless ``.0`` (1.0 -> "1")."""
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return pd.Series(
            [f"{v:g}" if isinstance(v, (float, np.floating)) else str(v) for v in values],
            index=values.index,
            dtype="string",
        )
    return values.astype("string").str.strip()


def _as_binary(known: pd.Series, column: str) -> tuple[np.ndarray, str] | None:
    """0/1 values and the positive label when the column has at most two values."""
    if pd.api.types.is_bool_dtype(known):
        return known.to_numpy(dtype=bool).astype(float), "True"
    text = _text(known)
    levels = sorted(set(text))
    if len(levels) > 2:
        return None
    if len(levels) == 1:
        raise DataError(
            f"--outcome column {column!r} has only one value ({levels[0]!r}): nothing to compare"
        )
    positive_words = [level for level in levels if level.lower() in _POSITIVE]
    if len(positive_words) == 1:
        positive = positive_words[0]
    else:
        counts = text.value_counts()
        # The rarer value is usually the event (churned, responded); ties: later in order.
        positive = min(levels, key=lambda level: (counts[level], -levels.index(level)))
    return (text == positive).to_numpy(dtype=float), positive


def outcome_overlay(
    outcome: pd.Series, labels: np.ndarray, names: dict[int, str], *, column: str | None = None
) -> OutcomeOverlay:
    """Rate or mean of ``outcome`` per segment, intervals and the test across segments.

    Parameters
    ----------
    outcome : Series
        The outcome of every segmented customer, in the order of ``labels``.
    labels : ndarray
        Segment of every customer (-1: unassigned).
    names : dict
        Segment id -> name, in the order segments are reported.
    column : str, optional
        Name of the outcome (defaults to ``outcome.name``).

    Raises
    ------
    DataError
        No known value, a single value, or text with more than two values.
    """
    column = str(column if column is not None else outcome.name)
    outcome = outcome.reset_index(drop=True)
    labels = np.asarray(labels)
    missing = _missing(outcome).to_numpy()
    if missing.all():
        raise DataError(f"--outcome column {column!r} has no values for the segmented customers")
    known = outcome[~missing]
    known_labels = labels[~missing]
    binary = _as_binary(known, column)
    if binary is not None:
        values, positive = binary
        return _rate_overlay(column, positive, values, known_labels, names, int(missing.sum()))
    numbers = pd.to_numeric(known.astype("string").str.strip(), errors="coerce")
    bad = numbers.isna()
    if bad.any():
        example = known[bad].iloc[0]
        raise DataError(
            f"--outcome column {column!r} must be two-valued or numeric; {example!r} is neither "
            f"({known.nunique()} different values)"
        )
    return _mean_overlay(
        column, numbers.to_numpy(dtype=float), known_labels, names, int(missing.sum())
    )


def _rate_overlay(
    column: str,
    positive: str,
    values: np.ndarray,
    labels: np.ndarray,
    names: dict[int, str],
    n_missing: int,
) -> OutcomeOverlay:
    rows = []
    for seg, name in names.items():
        member = values[labels == seg]
        hits = int(member.sum())
        low, high = wilson_interval(hits, len(member))
        rate = hits / len(member) if len(member) else float("nan")
        rows.append(OutcomeSegment(seg, name, len(member), rate, low, high, hits))
    table = np.array(
        [[r.positives, r.n - (r.positives or 0)] for r in rows if r.segment >= 0 and r.n > 0]
    )
    total_hits = int(values.sum())
    low, high = wilson_interval(total_hits, len(values))
    test, statistic, dof, p_value, effect = "", None, None, None, None
    if len(table) >= 2 and table.sum(axis=0).min() > 0:
        result = stats.chi2_contingency(table, correction=False)
        test, statistic, dof, p_value = (
            "chi-squared",
            float(result.statistic),
            int(result.dof),
            float(result.pvalue),
        )
        effect = float(np.sqrt(statistic / table.sum()))
    label = f"{column} = {positive} rate"
    return OutcomeOverlay(
        column=column, kind="rate", positive=positive, label=label,
        overall=total_hits / len(values), overall_low=low, overall_high=high,
        n=len(values), n_missing=n_missing, segments=rows,
        interval=f"Wilson score interval, {CONFIDENCE:.0%}", test=test, statistic=statistic,
        dof=dof, p_value=p_value, effect=effect, effect_name="Cramér's V",
        conclusion=_conclusion(label, test, p_value, len(table)),
    )  # fmt: skip


def _mean_overlay(
    column: str, values: np.ndarray, labels: np.ndarray, names: dict[int, str], n_missing: int
) -> OutcomeOverlay:
    rows = []
    for seg, name in names.items():
        member = values[labels == seg]
        low, high = mean_interval(member)
        mean = float(member.mean()) if len(member) else float("nan")
        rows.append(OutcomeSegment(seg, name, len(member), mean, low, high))
    groups = [values[labels == r.segment] for r in rows if r.segment >= 0 and r.n > 0]
    test, statistic, dof, p_value, effect = "", None, None, None, None
    if len(groups) >= 2 and np.ptp(np.concatenate(groups)) > 0:
        result = stats.kruskal(*groups)
        test, statistic, dof, p_value = (
            "Kruskal-Wallis",
            float(result.statistic),
            len(groups) - 1,
            float(result.pvalue),
        )
        n_tested = sum(len(g) for g in groups)
        effect = float(statistic / (n_tested - 1)) if n_tested > 1 else None
    low, high = mean_interval(values)
    label = f"mean {column}"
    return OutcomeOverlay(
        column=column, kind="mean", positive=None, label=label,
        overall=float(values.mean()), overall_low=low, overall_high=high,
        n=len(values), n_missing=n_missing, segments=rows,
        interval=f"Student's t interval, {CONFIDENCE:.0%}", test=test, statistic=statistic,
        dof=dof, p_value=p_value, effect=effect, effect_name="epsilon-squared",
        conclusion=_conclusion(label, test, p_value, len(groups)),
    )  # fmt: skip


def format_p(p_value: float) -> str:
    """``p < 0.001`` or ``p = 0.023``."""
    return "p < 0.001" if p_value < 0.001 else f"p = {p_value:.3f}"


def _conclusion(label: str, test: str, p_value: float | None, groups: int) -> str:
    if groups < 2:
        return f"One segment only: nothing to compare the {label} across."
    if p_value is None:
        return f"The {label} is the same in every segment: no test needed."
    if p_value < SIGNIFICANCE:
        return f"Segments differ in {label} ({test} test, {format_p(p_value)})."
    return f"No evidence that segments differ in {label} ({test} test, {format_p(p_value)})."


def customer_outcome(
    frame: pd.DataFrame,
    roles: ColumnRoles,
    customer_ids: pd.Series,
    column: str,
    *,
    source: str = "data",
) -> pd.Series:
    """The outcome of every customer in ``customer_ids`` from a transaction log.

    The column must hold one value per customer (blanks allowed); customers without any
    value get a missing outcome.

    Raises
    ------
    DataError
        A customer with two different values.
    """
    if roles.customer is None:
        raise DataError(f"{source}: no customer id column to attach --outcome {column!r} to")
    ids = normalise_ids(frame[roles.customer])
    values = frame[column]
    keep = ids.notna().to_numpy() & ~_missing(values).to_numpy()
    pairs = pd.DataFrame({"id": ids[keep].to_numpy(), "value": _text(values[keep]).to_numpy()})
    distinct = pairs.drop_duplicates()
    clash = distinct["id"].duplicated(keep=False)
    if clash.any():
        first = distinct[clash].iloc[0]["id"]
        both = distinct.loc[distinct["id"] == first, "value"].head(2).tolist()
        raise DataError(
            f"{source}: --outcome column {column!r} must have one value per customer; "
            f"customer {first!r} has {both[0]!r} and {both[1]!r}"
        )
    lookup = distinct.set_index("id")["value"]
    mapped = lookup.reindex(customer_ids.astype("string").to_numpy())
    original = values[keep]
    if pd.api.types.is_numeric_dtype(original) and not pd.api.types.is_bool_dtype(original):
        # Keep numbers as numbers (text round trip above only served the comparison).
        numeric = pd.to_numeric(mapped, errors="coerce")
        return pd.Series(numeric.to_numpy(), name=column)
    return pd.Series(mapped.to_numpy(), name=column)
