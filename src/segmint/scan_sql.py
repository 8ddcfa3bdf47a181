"""SQL that types the raw text of a streamed log the way :func:`segmint.io.read_table` does.

:class:`segmint.scan.ScanSource` builds its view of the file from these pieces.  A value
costs one cheap test in the common case -- an id or code whose first and last characters
are printable ASCII and that cannot be an NA spelling is its raw text; a number or date
that DuckDB's cast reads from the raw text is that value -- and only the other values
take the slow path ``read_table`` calls for: every Unicode space stripped, the NA
spellings of :data:`segmint.io.NA_VALUES` missing, then the same reading.  Each value
that fits no decision raises a flag, counted by the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from segmint.cells import (
    DECIMAL_COMMA,
    LEADING_ZERO,
    NA_VALUES,
    NUMBER,
    PERCENT,
    money_digits,
    money_pattern,
)
from segmint.features.clean import literal

# Unicode White_Space, which read_table strips (pyarrow's utf8_trim_whitespace).
_WHITESPACE = (
    " \t\n\x0b\x0c\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_NA_JOINED = "\x01" + "\x01".join(sorted(v for v in NA_VALUES if v)) + "\x01"
_NA_LONGEST = max(len(v.encode()) for v in NA_VALUES)


@dataclass(frozen=True)
class Rule:
    """How one column's raw values become the canonical value."""

    kind: str  # text, int, float (ids/codes); number, decimal_comma, money, money_comma,
    # percent;
    # datetime; native
    date_label: str | None = None
    zoned: bool = False  # ISO dates with a UTC offset in the sample


def flag_value(flag: str) -> str:
    """The value column a flag ``chk_<role>_<kind>`` checks."""
    role = flag.split("_")[1]
    return "ts" if role == "time" else role


def missing_if_na(x: str) -> str:
    """``x``, missing when it is one of the NA spellings."""
    # Not ``x IN (...)``: DuckDB makes a long IN list a join, evaluated for every row
    # before any CASE could spare it.  The spellings are short: one string search.
    # (CASE branches run only on the rows that reach them; both sides of an AND or OR
    # run on every row.)
    test = f"contains({literal(_NA_JOINED)}, concat(chr(1), {x}, chr(1)))"
    return (
        f"CASE WHEN strlen({x}) > {_NA_LONGEST} THEN {x} "
        f"WHEN strlen({x}) = 0 OR {test} THEN NULL ELSE {x} END"
    )


def slow_text(raw: str) -> str:
    """The raw text stripped of every Unicode space, missing for NA spellings (slow)."""
    return missing_if_na(f"trim({raw}, {literal(_WHITESPACE)})")


def text_value(x: str, rule: Rule, native: str | None) -> tuple[str, list[tuple[str, str]]]:
    """(SQL of a normalised id or code, [(flag, SQL)]) from column alias ``x``."""
    if native is not None:
        if native in ("DOUBLE", "FLOAT") or native.startswith("DECIMAL"):
            if rule.kind == "int":
                return (
                    f"CASE WHEN isfinite({x}) THEN CAST(CAST({x} AS HUGEINT) AS VARCHAR) END",
                    [("frac", f"{x} IS NOT NULL AND isfinite({x}) AND {x} <> round({x})")],
                )
            return f"CAST(CAST({x} AS DOUBLE) AS VARCHAR)", []
        if native == "BOOLEAN":
            return f"CASE WHEN {x} THEN 'True' WHEN NOT {x} THEN 'False' END", []
        return f"CAST({x} AS VARCHAR)", []
    if rule.kind == "text":
        return x, []
    not_number = (
        f"{x} IS NOT NULL AND (NOT regexp_full_match({x}, {literal(NUMBER)}) "
        f"OR regexp_matches({x}, {literal(LEADING_ZERO)}))"
    )
    if rule.kind == "int":
        return (
            f"CAST(CAST(TRY_CAST({x} AS DOUBLE) AS HUGEINT) AS VARCHAR)",
            [
                ("text", not_number),
                ("frac", f"TRY_CAST({x} AS DOUBLE) <> round(TRY_CAST({x} AS DOUBLE))"),
            ],
        )
    return f"CAST(TRY_CAST({x} AS DOUBLE) AS VARCHAR)", [("text", not_number)]


def plain_or_slow(raw: str, first: str, last: str) -> str:
    """SQL of an id or code: the raw text when its first and last characters (their
    codes ``first`` and ``last``) are printable ASCII and it cannot be an NA spelling,
    else the text stripped of every Unicode space, missing for NA spellings.

    The last character's code is ``ascii(x[-1])``: a slice (``x[-1:]``) makes a string
    of every value, which cost a fifth of the whole read."""
    starts = sorted({ord(v[0]) for v in NA_VALUES if v})
    plain = (
        f"{first} > 32 AND {first} < 127 AND {first} NOT IN ({', '.join(map(str, starts))}) "
        f"AND {last} > 32 AND {last} < 127"
    )
    return f"CASE WHEN {raw} IS NULL THEN NULL WHEN {plain} THEN {raw} ELSE {slow_text(raw)} END"


def fast_or_slow(fast: str, raw: str, parse: Callable[[str], str], *, nan: bool) -> tuple[str, str]:
    """(value, flag of a value that is not missing and not readable): ``fast``, the raw
    text read, or, where that fails, the text stripped of every space, NA spellings
    missing, read.  With ``nan`` a NaN read goes the slow way (``nan`` is an NA
    spelling)."""
    slow = parse(slow_text(raw))
    ok = f"{fast} IS NOT NULL" + (f" AND NOT isnan({fast})" if nan else "")
    # CASE, not AND: DuckDB evaluates both sides of an AND on every row, while a CASE
    # branch runs only on the rows that reach it.  ``{value}`` in the flag stands for
    # the value column (computed once, one level below).
    value = f"CASE WHEN {ok} THEN {fast} WHEN {raw} IS NULL THEN NULL ELSE {slow} END"
    flag = (
        f"CASE WHEN {raw} IS NULL OR {{value}} IS NOT NULL THEN FALSE "
        f"ELSE {slow_text(raw)} IS NOT NULL END"
    )
    return value, flag


def native_number(x: str, native: str) -> tuple[str, list[tuple[str, str]]]:
    """(SQL of a DOUBLE, [(flag, SQL)]) from a typed Parquet column."""
    if native == "BOOLEAN":
        return "NULL::DOUBLE", [("text", f"{x} IS NOT NULL")]
    return f"TRY_CAST({x} AS DOUBLE)", [
        ("text", f"{x} IS NOT NULL AND TRY_CAST({x} AS DOUBLE) IS NULL")
    ]


MONEY_MARKS = {"money": ".", "money_comma": ","}
"""Rule kinds of amounts written as money, and their decimal marks."""


def money_value(t: str, mark: str) -> str:
    """SQL of the DOUBLE an amount written as money stands for (NULL when it is not
    one), as :func:`segmint.io.read_table` reads it."""
    digits = f"regexp_replace({t}, {literal(money_digits(mark))}, '', 'g')"
    if mark == ",":
        digits = f"replace({digits}, ',', '.')"
    sign = f"CASE WHEN starts_with({t}, '(') OR contains({t}, '-') THEN -1 ELSE 1 END"
    return (
        f"CASE WHEN regexp_full_match({t}, {literal(money_pattern(mark))}) "
        f"THEN {sign} * TRY_CAST({digits} AS DOUBLE) END"
    )


def number_parser(rule: Rule) -> Callable[[str], str]:
    """SQL reading a DOUBLE from text, with the column's decimal mark."""
    if rule.kind in MONEY_MARKS:
        return lambda t: money_value(t, MONEY_MARKS[rule.kind])
    if rule.kind == "percent":  # 15% -> 0.15, as segmint.cells.type_percent reads it
        return lambda t: (
            f"CASE WHEN regexp_full_match({t}, {literal(PERCENT)}) "
            f"THEN TRY_CAST(regexp_replace({t}, ' ?%$', '') AS DOUBLE) / 100 END"
        )
    if rule.kind == "decimal_comma":

        def parse(t: str) -> str:
            return (
                f"CASE WHEN regexp_full_match({t}, {literal(DECIMAL_COMMA)}) "
                f"THEN TRY_CAST(replace(replace({t}, '.', ''), ',', '.') AS DOUBLE) END"
            )

        return parse
    return lambda t: f"TRY_CAST({t} AS DOUBLE)"


def native_time(x: str, native: str) -> tuple[str, list[tuple[str, str]]]:
    """(SQL of a TIMESTAMP, [(flag, SQL)]) from a typed Parquet column."""
    if native.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"timezone('UTC', {x})", []
    return f"TRY_CAST({x} AS TIMESTAMP)", [
        ("bad", f"{x} IS NOT NULL AND TRY_CAST({x} AS TIMESTAMP) IS NULL")
    ]


def time_parser(rule: Rule) -> Callable[[str], str]:
    """SQL reading a TIMESTAMP from text, in the column's date format."""
    return lambda t: date_parser(t, rule.date_label or "YYYY-MM-DD", zoned=rule.zoned)


def strip_spaces(t: str) -> str:
    """SQL of ``t`` (already stripped of spaces) stripped of every Unicode space.

    ``trim(t, characters)`` is slow, so it runs only where it can matter: values with a
    non-ASCII character, or starting or ending with an ASCII control character (tab,
    line feed, ...).
    """
    odd = f"strlen({t}) <> length({t}) OR ascii({t}) < 32 OR ascii({t}[-1]) < 32"
    return f"CASE WHEN {odd} THEN trim({t}, {literal(_WHITESPACE)}) ELSE {t} END"


def quote_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


#: SQL of each date written as a number, from its text ``{x}``; microseconds as io rounds.
NUMBER_DATE_SQL = {
    "YYYYMMDD": "try_strptime({x}, '%Y%m%d')",
    "epoch_s": "make_timestamp(CAST(round(TRY_CAST({x} AS DOUBLE) * 1e6) AS BIGINT))",
    "epoch_ms": "make_timestamp(CAST(round(TRY_CAST({x} AS DOUBLE) * 1e3) AS BIGINT))",
    "excel_serial": (
        "make_timestamp(CAST(round((TRY_CAST({x} AS DOUBLE) - 25569) * 86400e6) AS BIGINT))"
    ),
}


def date_parser(x: str, label: str, *, zoned: bool = False) -> str:
    """SQL turning text ``x`` into a TIMESTAMP with io's date format ``label``."""
    if label in NUMBER_DATE_SQL:  # dates written as numbers (segmint.cells.NUMBER_DATES)
        return NUMBER_DATE_SQL[label].format(x=x)
    if label in ("YYYY-MM-DD", "YYYY/MM/DD"):
        value = x if label == "YYYY-MM-DD" else f"replace({x}, '/', '-')"
        if zoned:  # offsets are converted to UTC, as read_table does
            return (
                f"CASE WHEN regexp_matches({value}, '(Z|[+-]\\d{{2}}:?\\d{{2}})$') "
                f"THEN timezone('UTC', TRY_CAST({value} AS TIMESTAMPTZ)) "
                f"ELSE TRY_CAST({value} AS TIMESTAMP) END"
            )
        return f"TRY_CAST({value} AS TIMESTAMP)"
    order = label[:2]  # DD or MM
    sep = label[2]
    day_month = "%d{0}%m{0}%Y" if order == "DD" else "%m{0}%d{0}%Y"
    base = day_month.format(sep)
    formats = [f"{base} %H:%M:%S.%f", f"{base} %H:%M:%S", f"{base} %H:%M", base]
    formats += [f.replace(" ", "T", 1) for f in formats[:3]]
    listed = "[" + ", ".join(literal(f) for f in formats) + "]"
    return f"try_strptime({x}, {listed})"
