"""Placeholders and impossible values in a customer table.

Customer tables carry codes that are not measurements: an income of 666666 or 99999
meaning "not given", -1 for "unknown" in a count, a birth year of 1893, a marital status
typed as a joke. Left in, they are capped or one-hot encoded like real values and pull
segments and their profiles. The rules below find them per column; each finding names
the column, the values, the number of rows and the reason. Found values are set to
missing (and then imputed like any missing value).

The rules, each needing more than one piece of evidence so that real extremes stay:

1. **Placeholder code at the top or bottom of a numeric column**: an integer of at least
   three digits written with one digit (666666, 99999, -999), far outside the bulk (at
   least :data:`FAR_IQR` interquartile ranges beyond the quartile) *and* at least
   :data:`GAP_RATIO` times as far from the median as every other value.
2. **Negative code in a count-like column otherwise never negative**: -1, -9, -99, -999,
   ... when every other value is a whole number, zero or positive, taking at least three
   values (an amount with a few -1.0 is left alone: refunds are negative amounts).
3. **Impossible birth year** (column named like birth/born/yob): before the current year
   minus :data:`MAX_AGE`, or after the current year.
4. **Impossible age** (column named age): below 0 or above :data:`MAX_AGE`.
5. **Junk level of a categorical**: in a column of at most :data:`FEW_LEVELS` levels and at
   least :data:`MIN_ROWS_FOR_LEVELS` rows, a level of at most :data:`RARE_LEVEL_ROWS` rows
   while every ordinary level has at least :data:`RARE_LEVEL_RATIO` times as many. A
   legitimate rare level (3% of customers) is never touched; only a handful of rows
   beside levels that hold hundreds.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

FAR_IQR = 6.0
GAP_RATIO = 2.0
MAX_AGE = 120
FEW_LEVELS = 10
MIN_ROWS_FOR_LEVELS = 200
RARE_LEVEL_ROWS = 5
RARE_LEVEL_RATIO = 20.0
_NEGATIVE_CODES = (-1.0, -9.0, -99.0, -999.0, -9999.0, -99999.0)


@dataclass(frozen=True)
class Sentinel:
    """Values of one column that are placeholders or impossible.

    Attributes
    ----------
    column : str
    values : tuple
        The exact values set to missing (numbers or category levels); for a range rule,
        the values found outside the range at fit time.
    low, high : float or None
        For a range rule: values below ``low`` or above ``high`` are set to missing.
    rows : int
        Rows affected in the table the rule was found on.
    reason : str
        Why, in plain words.
    """

    column: str
    values: tuple[Any, ...] = ()
    low: float | None = None
    high: float | None = None
    rows: int = 0
    reason: str = ""

    def mask(self, series: pd.Series) -> pd.Series:
        """Which values of ``series`` this rule sets to missing (a range rule: any outside)."""
        if self.low is not None or self.high is not None:
            numbers = pd.to_numeric(series, errors="coerce")
            out = pd.Series(False, index=series.index)
            if self.low is not None:
                out |= numbers < self.low
            if self.high is not None:
                out |= numbers > self.high
            return out.fillna(False).astype(bool)
        if self.values and isinstance(self.values[0], str):
            return series.astype("string").str.strip().isin(self.values).fillna(False).astype(bool)
        numbers = pd.to_numeric(series, errors="coerce")
        return numbers.isin(self.values).fillna(False).astype(bool)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "column": self.column,
            "values": list(self.values),
            "low": self.low,
            "high": self.high,
            "rows": self.rows,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sentinel:
        """Inverse of :meth:`to_dict`."""
        return cls(
            column=str(data["column"]),
            values=tuple(data.get("values", ())),
            low=data.get("low"),
            high=data.get("high"),
            rows=int(data.get("rows", 0)),
            reason=str(data.get("reason", "")),
        )

    def describe(self) -> str:
        """One line for the terminal and the report."""
        shown = ", ".join(value_text(v) for v in self.values[:5]) if self.values else ""
        what = f" ({shown})" if shown else ""
        rows = f"{self.rows:,} row{'s' if self.rows != 1 else ''}"
        return f"{self.column}{what}: {rows} set to missing, {self.reason}"


def value_text(value: Any) -> str:
    """A found value as written: 666666, not 666666.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _words(name: str) -> list[str]:
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name)
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def _is_birth_year(name: str) -> bool:
    words = _words(name)
    return any(w in ("birth", "born", "yob", "birthyear") for w in words) and not any(
        w in ("date", "day", "month") for w in words
    )


def _is_age(name: str) -> bool:
    return "age" in _words(name)


def _one_digit_code(value: float) -> bool:
    if not float(value).is_integer():
        return False
    digits = str(abs(int(value)))
    return len(digits) >= 3 and len(set(digits)) == 1


def find_sentinels(
    frame: pd.DataFrame, *, exclude: Sequence[str] = (), today: dt.date | None = None
) -> list[Sentinel]:
    """Placeholders and impossible values of every column (see the module rules).

    Parameters
    ----------
    frame : DataFrame
        One row per customer.
    exclude : sequence of str
        Columns not examined (id, outcome, ...).
    today : date, optional
        The current date for the birth-year rule (default: today).

    Returns
    -------
    list of Sentinel
        In column order; empty when nothing is found.
    """
    year = (today or dt.date.today()).year
    found: list[Sentinel] = []
    for col in frame.columns:
        name = str(col)
        if name in exclude:
            continue
        series = frame[col]
        if pd.api.types.is_bool_dtype(series) or pd.api.types.is_datetime64_any_dtype(series):
            continue
        if pd.api.types.is_numeric_dtype(series):
            found += _numeric_sentinels(name, series, year)
        elif pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            found += _level_sentinels(name, series)
    return found


def _numeric_sentinels(name: str, series: pd.Series, year: int) -> list[Sentinel]:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    values = values[np.isfinite(values)]
    if len(values) < 20:
        return []
    if _is_birth_year(name) and 1000 <= np.median(values) <= year:
        reason = f"birth year before {year - MAX_AGE} or after {year}"
        return _out_of_range(name, values, float(year - MAX_AGE), float(year), reason)
    if _is_age(name) and 0 <= np.median(values) <= MAX_AGE:
        reason = f"age below 0 or above {MAX_AGE}"
        return _out_of_range(name, values, 0.0, float(MAX_AGE), reason)
    found = []
    codes = _extreme_codes(values)
    if codes:
        rows = int(np.isin(values, codes).sum())
        found.append(
            Sentinel(
                name,
                values=tuple(codes),
                rows=rows,
                reason="a placeholder code far outside the other values",
            )
        )
    negatives = np.unique(values[values < 0])
    rest = values[values >= 0]
    if (
        len(negatives) == 1
        and float(negatives[0]) in _NEGATIVE_CODES
        and float(negatives[0]) not in codes
        and len(np.unique(rest)) >= 3
        and bool(np.all(np.mod(rest, 1.0) == 0))
        and len(rest) >= 0.5 * len(values)
    ):
        found.append(
            Sentinel(
                name,
                values=(float(negatives[0]),),
                rows=int((values == negatives[0]).sum()),
                reason="a negative code in a column otherwise never negative",
            )
        )
    return found


def _out_of_range(
    name: str, values: np.ndarray, low: float, high: float, reason: str
) -> list[Sentinel]:
    outside = values[(values < low) | (values > high)]
    if len(outside) == 0:
        return []
    shown = tuple(float(v) for v in np.unique(outside))
    return [Sentinel(name, values=shown, low=low, high=high, rows=len(outside), reason=reason)]


def _extreme_codes(values: np.ndarray) -> list[float]:
    """One-digit codes at either end that are far from the bulk and from every other value."""
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    iqr = q3 - q1
    if iqr <= 0:
        return []
    distinct = np.unique(values)
    codes: list[float] = []
    far: Callable[[float], float]
    for ordered, far in ((distinct[::-1], lambda v: v - q3), (distinct, lambda v: q1 - v)):
        for i, value in enumerate(ordered[:3]):
            if not _one_digit_code(value) or far(value) < FAR_IQR * iqr:
                break
            others = ordered[i + 1 :]
            if len(others) == 0:
                break
            nearest_other = abs(float(others[0]) - median)
            if abs(float(value) - median) < GAP_RATIO * max(nearest_other, iqr):
                break
            codes.append(float(value))
    return codes


def _level_sentinels(name: str, series: pd.Series) -> list[Sentinel]:
    text = series.astype("string").str.strip()
    text = text[text.notna() & (text != "")]
    if len(text) < MIN_ROWS_FOR_LEVELS:
        return []
    counts = text.value_counts()
    if not 3 <= len(counts) <= FEW_LEVELS:
        return []
    rare = counts[counts <= RARE_LEVEL_ROWS]
    ordinary = counts[counts > RARE_LEVEL_ROWS]
    if rare.empty or len(ordinary) < 2 or ordinary.min() < RARE_LEVEL_RATIO * rare.max():
        return []
    levels = tuple(sorted(str(v) for v in rare.index))
    return [
        Sentinel(
            name,
            values=levels,
            rows=int(rare.sum()),
            reason=(
                f"rare levels (at most {int(rare.max())} rows each) beside levels of "
                f"{int(ordinary.min()):,} rows or more"
            ),
        )
    ]


def clear_sentinels(frame: pd.DataFrame, found: Sequence[Sentinel]) -> pd.DataFrame:
    """``frame`` with the values of ``found`` set to missing (other columns shared, not copied)."""
    if not found:
        return frame
    out = frame.copy(deep=False)
    for rule in found:
        if rule.column not in out.columns:
            continue
        series = out[rule.column]
        hit = rule.mask(series)
        if hit.any():
            if pd.api.types.is_integer_dtype(series) or pd.api.types.is_bool_dtype(series):
                series = series.astype("float64")
            out[rule.column] = series.mask(hit)
    return out
