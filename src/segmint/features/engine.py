"""Transaction log -> one row per customer: cleaning and every feature family, in DuckDB.

:func:`compute_features` runs on a DuckDB connection that holds a view ``src`` of the
log with canonical column names (see :data:`segmint.features.clean.CANONICAL`).  Two
adapters build that view: :func:`frame_source` from a pandas DataFrame in memory, and
:mod:`segmint.scan` from a CSV or Parquet file that DuckDB reads as a stream, so that a
log larger than memory never becomes a DataFrame.  Both then take the same code path.

Cleaning rules are in :mod:`segmint.features.clean`, feature definitions in
:mod:`segmint.features.families`.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, cast

import duckdb
import numpy as np
import pandas as pd

from segmint.cells import NUMBER_DATE_HINT, number_date_kind, number_dates
from segmint.errors import DataError, UsageError
from segmint.features.clean import REASON_TEXT, STATES, CleaningSQL, line_stat_columns, literal
from segmint.features.families import INTEGER_FEATURES, RFM_FEATURES, Families
from segmint.features.roles import normalise_ids
from segmint.features.spec import FAMILIES, NEEDS, FeatureSpec

Progress = Callable[[str, float | None], None]
"""``progress(step, percent)``: the step running, and how far it is (0-100) when known."""

EXCLUSION_DETAILS = {
    "no_valid_dates": "every line of this customer has an unparseable or missing date",
    "only_future_dates": "every dated line of this customer is after today",
    "no_transactions_before_as_of": "no line before the as-of date",
    "no_purchases": "only returns, cancellations, zero-price, non-product or voided lines",
}
QUALITY_COLUMNS = ("quality_score", "quality_reasons")


@dataclass(frozen=True)
class TransactionFeatures:
    """Customer features derived from a transaction log.

    Attributes
    ----------
    features : DataFrame
        One row per customer with at least one order: ``customer_id`` then the features.
    excluded : DataFrame
        ``customer_id``, ``reason``, ``detail`` for the other customers of the log.
    account : dict
        What happened to the rows: read, duplicates, without customer id, unparseable
        dates, per cleaning state, cancellations matched, the as-of date, timings.
    quality : DataFrame
        ``customer_id``, ``quality_score`` (in [0, 1]), ``quality_reasons``, for the
        customers of :attr:`features`, in the same order.
    spec : FeatureSpec or None
        The resolved spec the features were computed with.
    checks : dict
        Counts of values the streaming reader flagged (see :mod:`segmint.scan`).
    """

    features: pd.DataFrame
    excluded: pd.DataFrame
    account: dict[str, Any] = field(default_factory=dict)
    quality: pd.DataFrame | None = None
    spec: FeatureSpec | None = None
    checks: dict[str, int] = field(default_factory=dict)

    def with_quality(self) -> pd.DataFrame:
        """The features with ``quality_score`` and ``quality_reasons`` appended."""
        if self.quality is None:
            return self.features.copy()
        return pd.concat(
            [
                self.features.reset_index(drop=True),
                self.quality[list(QUALITY_COLUMNS)].reset_index(drop=True),
            ],
            axis=1,
        )


class _Runner:
    """Executes the steps, timing them and reporting progress."""

    def __init__(self, con: duckdb.DuckDBPyConnection, progress: Progress | None) -> None:
        self.con = con
        self.progress = progress
        self.timings: dict[str, float] = {}

    def run(self, step: str, sql: str) -> duckdb.DuckDBPyConnection:
        started = time.perf_counter()
        if self.progress is None:
            result = self.con.execute(sql)
        else:
            self.progress(step, None)
            result = self._watched(step, sql)
        self.timings[step] = self.timings.get(step, 0.0) + time.perf_counter() - started
        return result

    def _watched(self, step: str, sql: str) -> duckdb.DuckDBPyConnection:
        assert self.progress is not None
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["result"] = self.con.execute(sql)
            except BaseException as exc:  # re-raised in the calling thread
                outcome["error"] = exc

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(0.25)
            done = self.con.query_progress()
            if done >= 0:
                self.progress(step, float(done))
        if "error" in outcome:
            raise outcome["error"]
        return cast(duckdb.DuckDBPyConnection, outcome["result"])


def _ts(day: dt.date) -> str:
    return f"TIMESTAMP '{day.isoformat()}'"


def _resolve_as_of(as_of: dt.date | str | None, last_ts: dt.datetime) -> dt.date:
    if as_of is None:
        return last_ts.date() + dt.timedelta(days=1)
    if isinstance(as_of, dt.datetime):
        return as_of.date()
    if isinstance(as_of, dt.date):
        return as_of
    try:
        return dt.date.fromisoformat(str(as_of))
    except ValueError as exc:
        raise UsageError(f"as-of date {as_of!r} is not an ISO date (YYYY-MM-DD)") from exc


def choose_families(spec: FeatureSpec, default: tuple[str, ...]) -> tuple[str, ...]:
    """The spec's families (checked), else ``default`` minus those lacking columns."""
    if spec.families is not None:
        for family in spec.families:
            for col in NEEDS.get(family, ()):
                if getattr(spec, col) is None:
                    raise UsageError(
                        f"feature family {family!r} needs a {col} column, and the spec names none"
                    )
        return tuple(f for f in FAMILIES if f in spec.families)
    return tuple(
        f for f in FAMILIES
        if f in default and all(getattr(spec, col) is not None for col in NEEDS.get(f, ()))
    )  # fmt: skip


def compute_features(
    con: duckdb.DuckDBPyConnection,
    spec: FeatureSpec,
    *,
    as_of: dt.date | str | None = None,
    today: dt.date | None = None,
    families: tuple[str, ...] = FAMILIES,
    source: str = "data",
    progress: Progress | None = None,
) -> TransactionFeatures:
    """Clean the log in view ``src`` and compute the chosen feature families.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Holds the view ``src`` (see :func:`frame_source` and :mod:`segmint.scan`).
    spec : FeatureSpec
        Columns (customer, time and a value at least) and options; data-dependent
        choices left open are made here and returned in the resolved spec.
    as_of : date or ISO string, optional
        Features as they were on this date: lines on or after it are left out.
        Default: the day after the last timestamp (future dates aside).
    today : date, optional
        The run's date; lines dated after it are future dates.  Default: today (UTC).
    families : tuple of str
        Families used when the spec names none.
    source : str
        Name used in messages.
    progress : callable, optional
        Called with each step's name and progress.

    Returns
    -------
    TransactionFeatures
    """
    runner = _Runner(con, progress)
    today = today or dt.datetime.now(dt.UTC).date()
    future_cut = _ts(today + dt.timedelta(days=1))
    chosen = choose_families(spec, families)

    # The log is read once, typed and classified, into the table ``log_rows``; ``cls`` is the
    # view of its distinct lines.
    checks_cols = tuple(
        str(row[0])
        for row in con.execute("DESCRIBE src").fetchall()
        if str(row[0]).startswith("chk_")
    )
    # DuckDB marks duplicate and voided lines in place; a connection without UPDATE
    # (Spark's) says so, and the views join them instead
    in_place = bool(getattr(con, "updates_in_place", True))
    prelim = CleaningSQL(spec, as_of="NULL", future_cut=future_cut, in_place=in_place)
    runner.run("reading lines", prelim.classified(checks_cols))
    for statement in prelim.duplicates(checks_cols):
        runner.run("finding duplicates", statement)
    overview = _overview(runner, spec, future_cut, checks_cols)
    if overview["last_ts"] is None:
        if overview["future_lines"]:
            raise DataError(
                f"{source}: every date in column {spec.time!r} is after today ({today})"
            )
        raise DataError(f"{source}: column {spec.time!r} has no parseable date/time value")
    as_of_date = _resolve_as_of(as_of, overview["last_ts"])
    if as_of_date <= overview["first_ts"].date():
        raise UsageError(
            f"{source}: as-of date {as_of_date} is on or before the first transaction "
            f"({overview['first_ts'].date()})"
        )
    resolved = _resolve_spec(spec, overview)
    clean = CleaningSQL(resolved, as_of=_ts(as_of_date), future_cut=future_cut, in_place=in_place)

    # The classified lines are materialised once; the views ``dated`` and ``final`` add
    # the states that need the as-of date, other lines (voided) or the threshold.
    runner.run("cleaning", clean.with_as_of())
    for statement in clean.voided():
        runner.run("matching cancellations", statement)
    runner.run("matching cancellations", clean.final())
    runner.run("matching cancellations", clean.bought())
    runner.run("matching cancellations", clean.return_matches())
    runner.run(
        "building orders",
        """
        CREATE OR REPLACE TABLE orders AS
        SELECT customer_id, coalesce(order_id, CAST(ts AS VARCHAR)) AS order_key,
               min(ts) AS ts, sum(value) AS value, min(channel) AS channel
        FROM final WHERE state = 'purchase' AND customer_id IS NOT NULL
        GROUP BY customer_id, order_key
        HAVING sum(value) > 0
        """,
    )
    resolved = _resolve_from_orders(runner, resolved, chosen)
    fam = Families(resolved, chosen, as_of_date)
    keys, sums = fam.group_columns()
    extra_keys = "".join(", " + k for k in keys)
    quantity = "sum(quantity) AS q" if resolved.quantity is not None else "NULL::DOUBLE AS q"
    runner.run(
        "aggregating lines",
        f"""
        CREATE OR REPLACE TEMP TABLE line_groups AS
        SELECT customer_id, state, {clean.is_return()} AS raw_return{extra_keys},
               count(*) AS n, sum(copies) AS c, sum(value) AS v, {quantity}
               {"".join(", " + x for x in sums)}
        FROM final WHERE customer_id IS NOT NULL GROUP BY ALL
        """,
    )
    stats = ",\n".join(line_stat_columns() + fam.line_columns())
    runner.run(
        "aggregating lines",
        f"""
        CREATE OR REPLACE TEMP TABLE line_stats AS
        WITH s AS (SELECT customer_id, {stats} FROM line_groups GROUP BY customer_id),
        r AS (SELECT customer_id, count(*) FILTER (WHERE NOT matched) AS unmatched_returns
              FROM return_matches GROUP BY customer_id)
        SELECT s.*, coalesce(r.unmatched_returns, 0) AS unmatched_returns
        FROM s LEFT JOIN r USING (customer_id)
        """,
    )
    order_cols = ",\n".join(fam.order_columns())
    runner.run(
        "aggregating orders",
        f"""
        CREATE OR REPLACE TEMP TABLE order_stats AS
        WITH o AS (
            SELECT *, year(ts) * 12 + month(ts) - 1 AS ym,
                   epoch(ts) - epoch(lag(ts) OVER (
                       PARTITION BY customer_id ORDER BY ts, order_key)) AS gap_s
            FROM orders
        )
        SELECT customer_id, {order_cols} FROM o GROUP BY customer_id
        """,
    )
    month_join = ""
    if fam.needs_top_month():
        runner.run(
            "aggregating orders",
            """
            CREATE OR REPLACE TEMP TABLE month_stats AS
            SELECT customer_id, max(v) AS top_month_value FROM (
                SELECT customer_id, month(ts) AS m, sum(value) AS v FROM orders GROUP BY ALL
            ) GROUP BY customer_id
            """,
        )
        month_join = "JOIN month_stats AS m USING (customer_id)"
    breadth = fam.breadth_sql()
    if breadth is not None:
        runner.run("aggregating lines", breadth)
        month_join += " LEFT JOIN breadth AS b USING (customer_id)"
    columns = fam.feature_columns()
    select = ",\n".join(f'{expr} AS "{name}"' for name, expr in columns)
    quality = ",\n".join(clean.quality_columns())
    account = _account(runner, overview, as_of_date, today)
    runner.run(
        "assembling features",
        f"""
        CREATE OR REPLACE TEMP TABLE customer_features AS
        SELECT customer_id, {select}, {quality}
        FROM order_stats AS o JOIN line_stats AS l USING (customer_id) {month_join}
        """,
    )
    excluded = runner.run(
        "assembling features",
        """
        SELECT customer_id,
               CASE WHEN unparseable_time_lines = n_lines THEN 'no_valid_dates'
                    WHEN future_date_lines > 0
                         AND future_date_lines + unparseable_time_lines = n_lines
                         THEN 'only_future_dates'
                    WHEN after_as_of_lines + future_date_lines + unparseable_time_lines
                         + no_value_lines = n_lines THEN 'no_transactions_before_as_of'
                    ELSE 'no_purchases' END AS reason
        FROM line_stats ANTI JOIN order_stats USING (customer_id)
        ORDER BY customer_id
        """,
    ).df()
    # The lines and orders are no longer needed: free their memory before the one row
    # per customer comes to Python.
    for statement in (
        "DROP VIEW final", "DROP VIEW dated", "DROP VIEW cls",
        "DROP TABLE dup_hashes", "DROP TABLE dup_marks", "DROP TABLE log_rows", "DROP TABLE voided",
        "DROP TABLE return_matches", "DROP TABLE bought",
        "DROP TABLE line_groups", "DROP TABLE orders",
    ):  # fmt: skip
        con.execute(statement)
    table = runner.run(
        "assembling features", "SELECT * FROM customer_features ORDER BY customer_id"
    ).df()
    account["customers_in_log"] = len(table) + len(excluded)
    account["timings_seconds"] = {k: round(v, 3) for k, v in runner.timings.items()}

    names = [name for name, _ in columns]
    quality_frame = pd.DataFrame(
        {
            "customer_id": table["customer_id"].astype("string"),
            "quality_score": table.pop("quality_score").astype("float64"),
            "quality_reasons": table.pop("quality_reasons").fillna("").astype("string"),
        }
    )
    for name in names:
        table[name] = table[name].astype("int64" if INTEGER_FEATURES.match(name) else "float64")
    table["customer_id"] = quality_frame["customer_id"]
    excluded["detail"] = excluded["reason"].map(EXCLUSION_DETAILS)
    excluded["customer_id"] = excluded["customer_id"].astype("string")
    account["quality"] = quality_summary(quality_frame)
    resolved = replace(resolved, families=chosen)
    account["feature_spec_hash"] = resolved.fingerprint()
    return TransactionFeatures(
        features=table[["customer_id", *names]],
        excluded=excluded.reset_index(drop=True),
        account=account,
        quality=quality_frame,
        spec=resolved,
        checks={c: int(overview.get(c, 0)) for c in checks_cols},
    )


def quality_summary(quality: pd.DataFrame) -> dict[str, Any]:
    """Mean and lowest score, customers with issues, and customers per reason."""
    if len(quality) == 0:
        return {
            "mean_score": None,
            "min_score": None,
            "customers_with_issues": 0,
            "customers_by_reason": {},
        }
    plural = {several: one for one, several in REASON_TEXT.values()}
    reasons: dict[str, int] = {}
    for text in quality["quality_reasons"]:
        for part in str(text).split("; ") if text else ():
            words = part.split(" ", 1)[1] if " " in part else part
            word = plural.get(words, words)
            reasons[word] = reasons.get(word, 0) + 1
    return {
        "mean_score": round(float(quality["quality_score"].mean()), 6),
        "min_score": round(float(quality["quality_score"].min()), 6),
        "customers_with_issues": int((quality["quality_score"] < 1).sum()),
        "customers_by_reason": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
    }


def _overview(
    runner: _Runner, spec: FeatureSpec, future_cut: str, checks: tuple[str, ...]
) -> dict[str, Any]:
    """Counts over the distinct lines, the time range, and facts the spec needs."""
    columns = [
        "sum(copies) AS rows_read",
        "sum(copies - 1) AS duplicates",
        "count(*) FILTER (WHERE customer_id IS NULL) AS no_customer",
        "count(*) FILTER (WHERE customer_id IS NOT NULL AND ts IS NULL) AS bad_time",
        "count(*) FILTER (WHERE customer_id IS NOT NULL AND ts IS NOT NULL AND value IS NULL)"
        " AS no_value",
        f"count(*) FILTER (WHERE ts >= {future_cut}) AS future_lines",
        f"max(ts) FILTER (WHERE ts < {future_cut}) AS last_ts",
        "min(ts) AS first_ts",
        "coalesce(bool_or(ts <> date_trunc('day', ts)), FALSE) AS has_time_of_day",
    ]
    if spec.discount is not None:
        columns.append("max(discount) AS discount_max")
    # flags of the streaming reader, on every row read (duplicates included)
    columns += [f"coalesce(sum(copies) FILTER (WHERE {c}), 0) AS {c}" for c in checks]
    return _fetch_one(runner, "checking values", f"SELECT {', '.join(columns)} FROM cls")


def _fetch_one(runner: _Runner, step: str, sql: str) -> dict[str, Any]:
    cursor = runner.run(step, sql)
    rows = cursor.fetchall()
    row = rows[0] if rows else None
    names = [d[0] for d in cursor.description or []]
    if row is None:
        raise DataError("internal: an aggregate returned no row")
    return dict(zip(names, row, strict=True))


def _resolve_spec(spec: FeatureSpec, overview: dict[str, Any]) -> FeatureSpec:
    """Make the choices that depend on the lines: time of day, discount unit."""
    updates: dict[str, Any] = {}
    if spec.hour_profile is None:
        updates["hour_profile"] = bool(overview["has_time_of_day"])
    if spec.discount is not None and spec.discount_unit == "auto":
        top = overview.get("discount_max") or 0.0
        updates["discount_unit"] = "rate" if top <= 1 else "percent" if top <= 100 else "amount"
    return replace(spec, **updates)


def _resolve_from_orders(
    runner: _Runner, spec: FeatureSpec, chosen: tuple[str, ...]
) -> FeatureSpec:
    """Make the choices that depend on the orders: peak months, channel levels."""
    updates: dict[str, Any] = {}
    if spec.peak_months is None and "seasonality" in chosen:
        months = runner.run(
            "aggregating orders",
            "SELECT month(ts) AS m FROM orders GROUP BY m ORDER BY sum(value) DESC, m LIMIT 2",
        ).fetchall()
        # a log without a single order (only returns, say) has no top months; its customers
        # are all excluded, and the months only need to be valid
        updates["peak_months"] = tuple(sorted(int(m) for (m,) in months)) or (11, 12)
    if spec.channel is not None and spec.channels is None and "channel" in chosen:
        levels = runner.run(
            "aggregating orders",
            """
            SELECT channel FROM orders WHERE channel IS NOT NULL
            GROUP BY channel ORDER BY count(*) DESC, channel LIMIT 5
            """,
        ).fetchall()
        updates["channels"] = tuple(str(level) for (level,) in levels)
    return replace(spec, **updates)


def _account(
    runner: _Runner, overview: dict[str, Any], as_of: dt.date, today: dt.date
) -> dict[str, Any]:
    """The row account: the overview's counts and the lines per state."""
    sums = ", ".join(f"sum({state}_lines)" for state in STATES)
    customer_row = runner.run(
        "counting", f"SELECT {sums}, sum(raw_return_lines) FROM line_stats"
    ).fetchall()[0]
    lines = {state: int(n or 0) for state, n in zip(STATES, customer_row, strict=False)}
    anonymous: dict[str, int] = dict.fromkeys(STATES, 0)
    for state, n in runner.run(
        "counting", "SELECT state, count(*) FROM final WHERE customer_id IS NULL GROUP BY state"
    ).fetchall():
        anonymous[state] = int(n)
    matched = runner.run(
        "counting",
        "SELECT count(*) FILTER (WHERE matched), count(*) FILTER (WHERE NOT matched) "
        "FROM return_matches",
    ).fetchall()[0]
    return {
        "rows_read": int(overview["rows_read"] or 0),
        "duplicate_rows_dropped": int(overview["duplicates"] or 0),
        "rows_without_customer_id": int(overview["no_customer"]),
        "rows_with_unparseable_time": int(overview["bad_time"]),
        "rows_without_value": int(overview["no_value"]),
        "rows_on_or_after_as_of": lines["after_as_of"] + lines["future_date"],
        "return_lines": int(customer_row[-1] or 0),
        "as_of": as_of.isoformat(),
        "today": today.isoformat(),
        "cleaning": {
            "lines": lines,
            "anonymous_lines": anonymous,
            "cancellations_matched": int(matched[0]),
            "cancellations_unmatched": int(matched[1]),
        },
    }


# ------------------------------------------------------------------------ in memory
def frame_source(
    con: duckdb.DuckDBPyConnection, frame: pd.DataFrame, spec: FeatureSpec, *, source: str = "data"
) -> None:
    """Create the view ``src`` over a typed DataFrame (the in-memory adapter).

    Ids, order ids and codes are normalised with :func:`normalise_ids`; the row hash is
    pandas' hash of every column of the row.

    Raises
    ------
    DataError
        A column of the spec is missing, the time column is not a date/time column, or
        a value column is not numeric.
    """
    frame = numbers_as_time(frame, spec)
    check_frame(frame, spec, source=source)
    canon = pd.DataFrame(index=frame.index)
    for role, name in (("customer", "customer_id"), ("order", "order_id"), ("product", "product"),
                       ("category", "category"), ("channel", "channel")):  # fmt: skip
        col = getattr(spec, role)
        canon[name] = (
            normalise_ids(frame[col])
            if col is not None
            else pd.Series(pd.NA, index=frame.index, dtype="string")
        )
    canon["ts"] = frame[spec.time]
    for role in ("quantity", "price", "amount", "discount"):
        col = getattr(spec, role)
        canon[role] = frame[col].astype("float64") if col is not None else np.nan
    canon["row_hash"] = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    canon = canon.reset_index(drop=True)
    value = "amount" if spec.amount is not None else "quantity * price"
    con.register("canon", canon)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW src AS
        SELECT CAST(customer_id AS VARCHAR) AS customer_id, CAST(ts AS TIMESTAMP) AS ts,
               CAST(order_id AS VARCHAR) AS order_id, CAST(quantity AS DOUBLE) AS quantity,
               CAST(price AS DOUBLE) AS price, CAST({value} AS DOUBLE) AS value,
               CAST(product AS VARCHAR) AS product, CAST(category AS VARCHAR) AS category,
               CAST(channel AS VARCHAR) AS channel, CAST(discount AS DOUBLE) AS discount,
               CAST(row_hash AS UBIGINT) AS row_hash
        FROM canon
        """
    )


def numbers_as_time(frame: pd.DataFrame, spec: FeatureSpec) -> pd.DataFrame:
    """``frame`` with the spec's time column read as dates when it holds numbers that are
    all plausible dates of one kind (``19970101``, epoch seconds, ...): naming the column
    as the time role is the evidence a column name would give (:mod:`segmint.cells`)."""
    col = spec.time
    if col is None or col not in frame.columns:
        return frame
    values = frame[col]
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return frame
    numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
    label = number_date_kind(numbers)
    if label is None:
        return frame
    out = frame.copy()
    out[col] = pd.Series(number_dates(numbers, label), index=frame.index)
    return out


def check_frame(frame: pd.DataFrame, spec: FeatureSpec, *, source: str = "data") -> None:
    """Check that ``frame`` has the spec's columns with usable types (DataError if not)."""
    if spec.customer is None or spec.time is None:
        raise DataError(f"{source}: a transaction log needs a customer id and a date/time column")
    if not spec.value_columns() or (
        spec.amount is None and (spec.quantity is None or spec.price is None)
    ):
        raise DataError(f"{source}: need an amount column, or quantity and price columns")
    for col in spec.used_columns():
        if col not in frame.columns:
            raise DataError(f"{source}: column {col!r} not found")
    if not pd.api.types.is_datetime64_any_dtype(frame[spec.time]):
        numeric = pd.api.types.is_numeric_dtype(frame[spec.time])
        raise DataError(
            f"{source}: column {spec.time!r} is not a date/time column"
            + (NUMBER_DATE_HINT if numeric else "")
        )
    for role in ("amount", "quantity", "price", "discount"):
        col = getattr(spec, role)
        if col is not None and not (
            pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col])
        ):
            raise DataError(f"{source}: column {col!r} ({role}) is not numeric")


def frame_features(
    frame: pd.DataFrame,
    spec: FeatureSpec,
    *,
    as_of: dt.date | str | None = None,
    today: dt.date | None = None,
    families: tuple[str, ...] = FAMILIES,
    source: str = "data",
    progress: Progress | None = None,
) -> TransactionFeatures:
    """:func:`compute_features` on a DataFrame in memory (its own DuckDB connection)."""
    # One thread: parallel sums add the same numbers in an order that changes from run to
    # run (last-digit differences); a frame in memory is small enough for one thread.
    con = duckdb.connect(config={"threads": 1})
    try:
        frame_source(con, frame, spec, source=source)
        return compute_features(
            con, spec, as_of=as_of, today=today, families=families, source=source, progress=progress
        )
    finally:
        con.close()


__all__ = [
    "EXCLUSION_DETAILS",
    "RFM_FEATURES",
    "TransactionFeatures",
    "check_frame",
    "compute_features",
    "frame_features",
    "frame_source",
    "literal",
]
