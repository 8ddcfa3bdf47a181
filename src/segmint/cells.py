"""Typing rules: how the text of a cell becomes a number, an amount, a date, or stays text.

:mod:`segmint.io` reads every file format through these rules, and the streaming reader
(:mod:`segmint.scan_sql`) writes the same decisions in SQL:

* values are stripped; blank cells and the spellings in :data:`NA_VALUES` are missing
  (``"-"`` stays text);
* all non-missing values numeric -> ``int64`` when every value is written as an integer and
  none is missing, else ``float64``.  A value with a leading zero (``"0001"``) keeps the
  column as text (identifiers).  With a ``;``, tab or ``|`` delimiter, ``1,5`` and
  ``1.234,56`` are decimal-comma numbers;
* all non-missing values numbers written as money (a currency sign before or after,
  thousands separators, accounting parentheses for negatives: ``$1,234.50``, ``(12.00)``,
  ``1.234,50 €`` where the decimal comma applies) -> ``float64``;
* all non-missing values percentages (``15%``, ``2.5 %``) -> ``float64`` fractions (0.15);
* >= 90 % of the non-missing values parse with ONE date format -> ``datetime64[ns]``; the
  rest become NaT and are reported in ``details["unparseable"]``;
* anything else (Yes/No and True/False too) stays pandas ``str``;
* then a numeric column whose name says date or time and whose values are all plausible
  dates of one kind written as numbers (``YYYYMMDD``, epoch seconds or milliseconds, Excel
  serial days) becomes ``datetime64[ns]`` (:func:`type_number_date`).

Native values are kept: numbers and datetimes from Excel, JSON and Parquet stay numbers and
datetimes; booleans become the text ``"True"`` / ``"False"`` as in a CSV file; columns of
mixed native types are turned into text and typed by the rules above.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

#: Cell spellings read as missing once stripped; Excel error values count as missing too.
NA_VALUES: frozenset[str] = frozenset(
    {
        "",
        "NA",
        "N/A",
        "n/a",
        "#N/A",
        "null",
        "NULL",
        "Null",
        "NaN",
        "nan",
        "None",
        "<NA>",
        "NaT",
        "#DIV/0!",
        "#VALUE!",
        "#REF!",
        "#NAME?",
        "#NUM!",
        "#NULL!",
    }
)
_NA_SET = pa.array(sorted(NA_VALUES), pa.string())

NUMBER = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
_INTEGER = r"^[+-]?\d+$"
LEADING_ZERO = r"^[+-]?0\d"
DECIMAL_COMMA = r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$"
_CURRENCY = "[$€£¥₹]"
_GAP = "[ \\x{a0}\\x{202f}]"  # a space, no-break space or narrow no-break space


def money_pattern(mark: str) -> str:
    """Regular expression (RE2 and Java) of a number written as money with decimal mark
    ``mark``: a currency sign before or after, thousands separators (``,`` with a decimal
    point; ``.`` or a space with a decimal comma), a sign or accounting parentheses."""
    thousands = "," if mark == "." else f"(?:\\.|{_GAP})"
    decimals = "\\.\\d+" if mark == "." else ",\\d+"
    digits = f"(?:\\d{{1,3}}(?:{thousands}\\d{{3}})+|\\d+)(?:{decimals})?"
    amount = f"{_GAP}?{digits}{_GAP}?{_CURRENCY}?"
    return f"^(?:(?:[+-]?{_CURRENCY}?|{_CURRENCY}[+-]){amount}|\\({_CURRENCY}?{amount}\\))$"


def money_evidence(mark: str) -> str:
    """Regular expression of a value that shows a column is money, not plain numbers or
    codes: a currency sign or parentheses (or, with a decimal point, a thousands comma;
    ``123 456`` alone may be an identifier)."""
    return "[$€£¥₹(]" if mark == "," else "[$€£¥₹(,]"


def money_digits(mark: str) -> str:
    """Regular expression of what a money value drops to become a plain number."""
    return "[^0-9.]" if mark == "." else "[^0-9,]"


# Date formats: (label, regex with groups A B C and a time, field orders).  One label and
# order is ONE format.  When day-first and month-first parse equally many values (no first
# or second field above 12) we choose DAY-FIRST: it is the order of every listed format but
# US slashes; the choice is recorded in details["date_formats"].
_TIME = r"(?:[ T](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<F>\d{1,9}))?)?)?"
DATE_SHAPES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "YYYY-MM-DD",
        r"^(?P<A>\d{4})-(?P<B>\d{1,2})-(?P<C>\d{1,2})" + _TIME + r"(?P<Z>Z|[+-]\d{2}:?\d{2})?$",
        ("ymd",),
    ),
    ("YYYY/MM/DD", r"^(?P<A>\d{4})/(?P<B>\d{1,2})/(?P<C>\d{1,2})" + _TIME + "$", ("ymd",)),
    ("/", r"^(?P<A>\d{1,2})/(?P<B>\d{1,2})/(?P<C>\d{4})" + _TIME + "$", ("dmy", "mdy")),
    ("-", r"^(?P<A>\d{1,2})-(?P<B>\d{1,2})-(?P<C>\d{4})" + _TIME + "$", ("dmy", "mdy")),
    (".", r"^(?P<A>\d{1,2})\.(?P<B>\d{1,2})\.(?P<C>\d{4})" + _TIME + "$", ("dmy",)),
)
_NAT = np.iinfo(np.int64).min
_NS = 1_000_000_000


#: A number written as a percentage: ``15%``, ``-2.5 %``; read as the fraction (0.15).
PERCENT = r"^[+-]?(?:\d+\.?\d*|\.\d+) ?%$"


@dataclass
class Typed:
    """A typed column and what was learnt typing it."""

    series: pd.Series
    kind: str
    date_format: str | None = None
    identifier: bool = False
    decimal_comma: bool = False
    money: str | None = None  # the decimal mark of a column of amounts written as money
    percent: bool = False  # written as percentages (15%), read as fractions (0.15)
    bad: tuple[int, int, str] | None = None  # count, first position, first value


def _all(values: pa.ChunkedArray, pattern: str) -> bool:
    if len(values) > 20_000:
        # one miss in an evenly spread sample settles it without scanning every value
        sample = values.take(pa.array(range(0, len(values), len(values) // 2_000)))
        if not pc.all(pc.match_substring_regex(sample, pattern)).as_py():
            return False
    return bool(pc.all(pc.match_substring_regex(values, pattern)).as_py())


def _any(values: pa.ChunkedArray, pattern: str) -> bool:
    return bool(pc.any(pc.match_substring_regex(values, pattern)).as_py())


def floats(column: pa.ChunkedArray) -> np.ndarray:
    """A numeric arrow column as float64 with NaN for nulls."""
    return np.asarray(pc.cast(column, pa.float64()).to_numpy(), dtype=np.float64)


def _money_floats(column: pa.ChunkedArray, mark: str) -> np.ndarray:
    """Amounts written as money (see :func:`money_pattern`) as float64, NaN for nulls."""
    digits = pc.replace_substring_regex(column, money_digits(mark), "")
    if mark == ",":
        digits = pc.replace_substring(digits, ",", ".")
    negative = pc.or_(pc.starts_with(column, "("), pc.match_substring(column, "-"))
    values = floats(digits)
    return np.where(pc.fill_null(negative, False).to_numpy(zero_copy_only=False), -values, values)


def _part(extracted: pa.ChunkedArray, name: str) -> np.ndarray:
    """One captured date group as float64 (NaN when absent); fractions as nanoseconds."""
    part = pc.struct_field(extracted, name)
    if name == "F":
        part = pc.utf8_rpad(part, width=9, padding="0")
    part = pc.if_else(pc.equal(part, ""), pa.scalar(None, pa.string()), part)
    return floats(pc.cast(part, pa.int64()))


def _civil_to_ns(
    y: np.ndarray, m: np.ndarray, d: np.ndarray, clock: list[np.ndarray], tz_minutes: np.ndarray
) -> np.ndarray:
    """Nanoseconds since 1970 of calendar parts; ``_NAT`` where invalid or missing."""
    valid = ~(np.isnan(y) | np.isnan(m) | np.isnan(d))
    y0, m0, d0 = (np.where(valid, v, 1).astype(np.int64) for v in (y, m, d))
    hh, mm, ss, ff = (np.nan_to_num(v).astype(np.int64) for v in clock)
    leap = (y0 % 4 == 0) & ((y0 % 100 != 0) | (y0 % 400 == 0))
    month_days = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    last = month_days[np.clip(m0, 1, 12) - 1] + (leap & (m0 == 2))
    valid &= (m0 >= 1) & (m0 <= 12) & (d0 >= 1) & (d0 <= last) & (y0 >= 1678) & (y0 <= 2261)
    valid &= (hh < 24) & (mm < 60) & (ss < 60)
    yy = y0 - (m0 <= 2)  # days from civil, H. Hinnant's algorithm
    era = np.floor_divide(yy, 400)
    yoe = yy - era * 400
    doy = (153 * ((m0 + 9) % 12) + 2) // 5 + d0 - 1
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
    ns = (days * 86400 + hh * 3600 + mm * 60 + ss - tz_minutes * 60) * _NS + ff
    return np.where(valid, ns, _NAT)


def _tz_minutes(extracted: pa.ChunkedArray) -> np.ndarray:
    """UTC offsets in minutes of ISO values (0 when absent or ``Z``)."""
    zones = pc.struct_field(extracted, "Z").to_pylist()
    out = np.zeros(len(zones), dtype=np.int64)
    for i, zone in enumerate(zones):
        if zone and zone != "Z":
            digits = zone[1:].replace(":", "")
            out[i] = (1 if zone[0] == "+" else -1) * (int(digits[:2]) * 60 + int(digits[2:]))
    return out


def _parse_dates(column: pa.ChunkedArray, values: pa.ChunkedArray) -> tuple[np.ndarray, str]:
    """Timestamps (ns) with the format that parses most values, and its label.

    Shapes matching under 80 % of an evenly spread sample of 2,000 values are not tried.
    """
    step = max(1, len(values) // 2000)
    sample = values.take(pa.array(range(0, len(values), step)))
    best: tuple[int, np.ndarray, str] = (-1, np.empty(0, np.int64), "")
    for label, shape, orders in DATE_SHAPES:
        if (pc.sum(pc.match_substring_regex(sample, shape)).as_py() or 0) < 0.8 * len(sample):
            continue
        extracted = pc.extract_regex(column, shape)
        a, b, c = (_part(extracted, g) for g in "ABC")
        clock = [_part(extracted, g) for g in "HMSF"]
        zoned = "Z" in shape and _any(pc.struct_field(extracted, "Z"), ".")
        tz = _tz_minutes(extracted) if zoned else np.zeros(len(column), np.int64)
        for order in orders:
            ymd = {"ymd": (a, b, c), "dmy": (c, b, a), "mdy": (c, a, b)}[order]
            ns = _civil_to_ns(*ymd, clock, tz)
            good = int((ns != _NAT).sum())
            if good > best[0]:
                name = "{0}{1}{2}{1}YYYY".format(
                    *(("DD", label, "MM") if order == "dmy" else ("MM", label, "DD"))
                )
                best = (good, ns, label if order == "ymd" else name)
    return best[1], best[2]


def type_strings(column: pa.ChunkedArray, *, decimal_comma: bool) -> Typed:
    """Apply the typing rules to a column of strings (nulls are missing)."""
    column = pc.utf8_trim_whitespace(pc.cast(column, pa.string()))
    spelled = pc.is_in(column, value_set=_NA_SET)
    if pc.any(spelled).as_py():  # copies of a million strings only when something changes
        column = pc.if_else(spelled, pa.scalar(None, pa.string()), column)
    values = pc.drop_null(column) if column.null_count else column
    if len(values) == 0:
        return Typed(column.to_pandas(), "empty")
    comma = decimal_comma and _all(values, DECIMAL_COMMA) and _any(values, ",")
    if _all(values, NUMBER) or comma:
        if _any(values, LEADING_ZERO):
            return Typed(column.to_pandas(), "text", identifier=True)
        if comma:
            fixed = pc.replace_substring(pc.replace_substring(column, ".", ""), ",", ".")
            return Typed(pd.Series(floats(fixed)), "float", decimal_comma=True)
        if len(values) == len(column) and _all(values, _INTEGER):
            try:
                ints = pc.cast(pc.replace_substring_regex(column, r"^\+", ""), pa.int64())
                return Typed(pd.Series(ints.to_numpy(), dtype=np.int64), "integer")
            except pa.ArrowInvalid:  # beyond int64: float64 below
                pass
        return Typed(pd.Series(floats(column)), "float")
    percent = type_percent(column, values)
    if percent is not None:
        return percent
    for mark in (",", ".") if decimal_comma else (".",):
        if _all(values, money_pattern(mark)) and _any(values, money_evidence(mark)):
            return Typed(pd.Series(_money_floats(column, mark)), "float", money=mark)
    ns, label = _parse_dates(column, values)
    if len(ns) == 0 or (ns != _NAT).sum() < 0.9 * len(values):
        return Typed(column.to_pandas(), "text")
    typed = Typed(pd.Series(ns.view("datetime64[ns]")), "datetime", date_format=label)
    bad = np.flatnonzero((ns == _NAT) & pc.is_valid(column).to_numpy(zero_copy_only=False))
    if bad.size:
        typed.bad = (int(bad.size), int(bad[0]), str(column[int(bad[0])].as_py()))
    return typed


def _is_missing(value: Any) -> bool:
    return (
        value is None
        or value is pd.NaT
        or value is pd.NA
        or (isinstance(value, float) and math.isnan(value))
    )


def cell_text(value: Any) -> str:
    """Text form of an Excel / JSON / Parquet cell, as a CSV file would show it."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)


def type_objects(values: Sequence[Any]) -> Typed | pa.ChunkedArray:
    """Native numbers or datetimes -> a typed column; anything else -> strings to type."""
    present = [v for v in values if not _is_missing(v)]
    if present and all(
        isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_)
        for v in present
    ):
        if len(present) == len(values) and all(isinstance(v, int | np.integer) for v in present):
            try:
                return Typed(pd.Series(np.array(values, dtype=np.int64)), "integer")
            except OverflowError:
                pass
        floats = [np.nan if _is_missing(v) else float(v) for v in values]
        return Typed(pd.Series(np.array(floats, dtype=np.float64)), "float")
    if present and all(isinstance(v, dt.datetime | dt.date) for v in present):
        try:
            stamps = pd.to_datetime(pd.Series(values, dtype=object))
            return Typed(naive_ns(stamps), "datetime")
        except (ValueError, TypeError, OverflowError):
            pass
    return pa.chunked_array(
        [pa.array([None if _is_missing(v) else cell_text(v) for v in values], pa.string())]
    )


def naive_ns(stamps: pd.Series) -> pd.Series:
    """Datetimes as naive ``datetime64[ns]`` (zoned ones converted to UTC first)."""
    if stamps.dt.tz is not None:
        stamps = stamps.dt.tz_convert(None)
    return stamps.astype("datetime64[ns]")


# ----------------------------------------------------------------------------- dates as numbers
#: Labels of dates written as numbers, with the plausible range of their values; each is
#: recognised only when the column's name says date or time (see :func:`names_a_date`).
NUMBER_DATES: tuple[tuple[str, float, float], ...] = (
    ("YYYYMMDD", 19000101, 21001231),
    ("epoch_s", 631_152_000, 4_102_444_800),  # 1990-01-01 .. 2100-01-01, seconds
    ("epoch_ms", 631_152_000_000, 4_102_444_800_000),
    ("excel_serial", 20_000, 80_000),  # days since 1899-12-30: 1954 .. 2119
)
_DATE_WORDS = ("date", "datum", "fecha", "timestamp", "datetime", "zeitpunkt", "horodatage")
_DATE_TOKENS = frozenset({"time", "day", "ts", "dt", "tag", "jour", "dia", "data", "when"})
_EXCEL_EPOCH_DAYS = 25_569  # 1970-01-01 as an Excel serial day number


def names_a_date(name: str) -> bool:
    """Whether a column name says date or time: it contains ``date`` (``order_date``,
    ``InvoiceDate``), ``datum``, ``fecha``, ``timestamp``, or has the word ``time``,
    ``day``, ``ts``, ``dt`` (``purchase_time``, ``Day``)."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", str(name)).lower()
    if any(word in spaced for word in _DATE_WORDS):
        return True
    return any(token in _DATE_TOKENS for token in re.findall(r"[a-z]+", spaced))


def _yyyymmdd_ns(values: np.ndarray) -> np.ndarray:
    """Nanoseconds since 1970 of whole numbers written YYYYMMDD; ``_NAT`` where invalid."""
    whole = values.astype(np.int64)
    y, m, d = (p.astype(np.float64) for p in (whole // 10_000, whole // 100 % 100, whole % 100))
    zero = np.zeros(len(whole))
    return _civil_to_ns(y, m, d, [zero, zero, zero, zero], np.zeros(len(whole), np.int64))


def number_date_kind(values: np.ndarray) -> str | None:
    """The label of :data:`NUMBER_DATES` every (non-NaN) value of ``values`` fits, or None.

    ``YYYYMMDD`` needs whole numbers that are valid calendar days; the epochs and Excel
    serial day numbers need every value inside their range.  Call it only for a column
    whose name says date (:func:`names_a_date`): numbers alone are no evidence.
    """
    present = values[~np.isnan(values)]
    if present.size == 0:
        return None
    low, high = float(present.min()), float(present.max())
    for label, first, last in NUMBER_DATES:
        if not first <= low <= high <= last:
            continue
        if label != "YYYYMMDD":
            return label
        if (present != np.round(present)).any():
            continue
        if (_yyyymmdd_ns(present) != _NAT).all():
            return label
    return None


def number_dates(values: np.ndarray, label: str) -> np.ndarray:
    """Numbers of the :data:`NUMBER_DATES` kind ``label`` as ``datetime64[ns]`` (NaT for
    NaN)."""
    nan = np.isnan(values)
    v = np.where(nan, 0, values)
    if label == "YYYYMMDD":
        ns = _yyyymmdd_ns(v)
    else:
        seconds = {
            "epoch_s": v,
            "epoch_ms": v / 1000,
            "excel_serial": (v - _EXCEL_EPOCH_DAYS) * 86_400,
        }[label]
        ns = np.round(seconds * 1e6).astype(np.int64) * 1000  # microseconds, as SQL does
    return np.where(nan, _NAT, ns).view("datetime64[ns]")


def type_number_date(name: str, typed: Typed) -> Typed:
    """A numeric column whose name says date and whose values are all plausible dates of
    one :data:`NUMBER_DATES` kind, as a datetime column (``date_format`` = the label);
    any other column unchanged."""
    if typed.kind not in ("integer", "float") or typed.money or not names_a_date(name):
        return typed
    values = typed.series.to_numpy(dtype=np.float64)
    label = number_date_kind(values)
    if label is None:
        return typed
    return Typed(pd.Series(number_dates(values, label)), "datetime", date_format=label)


def type_percent(column: pa.ChunkedArray, values: pa.ChunkedArray) -> Typed | None:
    """A column whose every non-missing value is a percentage (:data:`PERCENT`) as the
    fractions they stand for (``15%`` -> 0.15), else None."""
    if not _all(values, PERCENT):
        return None
    digits = pc.replace_substring_regex(column, " ?%$", "")
    return Typed(pd.Series(floats(digits) / 100), "float", percent=True)


#: Why a numeric column named as the time role is not read as dates, and what to do.
NUMBER_DATE_HINT = (
    "; it holds numbers, which are read as dates (YYYYMMDD, epoch seconds or milliseconds, "
    "Excel serial days) only when the column's name says date or time: name it so in a "
    "header line (e.g. 'date')"
)


def type_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its text and mixed columns typed by these rules, as a file's would be
    (a DataFrame built in Python, a database result); typed columns are left as they are."""
    out: dict[str, pd.Series] = {}
    changed = False
    for name in frame.columns:
        series = frame[name]
        if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
            out[name] = series
            continue
        typed = type_objects(series.tolist())
        if not isinstance(typed, Typed):
            typed = type_strings(typed, decimal_comma=False)
        out[name] = typed.series.set_axis(frame.index)
        changed = True
    return pd.DataFrame(out, index=frame.index) if changed else frame
