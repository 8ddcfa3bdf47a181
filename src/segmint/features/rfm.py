"""Transaction log -> one row per customer: recency, frequency, monetary and companions.

Definitions (all computed in DuckDB SQL over the whole log):

* A *line* is one row of the log with a customer id and a parseable timestamp, before the
  as-of date. Exact duplicate rows of the raw log are dropped first (counted).
* A line is a *return* when its value is negative or its order id starts with ``C``
  (the cancellation convention of common shop exports). Returns are netted into
  ``monetary`` and never count as orders.
* An *order* is the set of non-return lines sharing an order id (or, with no order-id
  column, the same customer and timestamp); its value is the sum of its lines.
* ``as_of``: given, or the day after the last timestamp in the log.
* ``recency_days``: calendar days from the date of the last order with positive value to
  ``as_of`` (a purchase on the last day of the log gives 1).
* ``frequency``: number of orders with positive value.
* ``monetary``: net spend, purchases minus returns, over every line.
* ``avg_order_value``: mean value of the orders with positive value.
* ``tenure_days``: calendar days from the first order with positive value to ``as_of``.

Customers with no order of positive value (returns or zero-price lines only) cannot be
placed on these scales; they are listed as excluded with a reason, as are customers whose
every line had an unparseable date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pandas as pd

from segmint.errors import DataError, UsageError
from segmint.features.roles import ColumnRoles, normalise_ids

RFM_FEATURES: tuple[str, ...] = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "tenure_days",
)


@dataclass(frozen=True)
class TransactionFeatures:
    """Result of :func:`rfm_features`.

    Attributes
    ----------
    features : DataFrame
        One row per customer: ``customer_id`` then :data:`RFM_FEATURES`.
    excluded : DataFrame
        ``customer_id``, ``reason``, ``detail`` for customers in the log that could not
        be given features.
    account : dict
        What happened to the rows: read, duplicates dropped, without customer id, with
        unparseable dates, after the as-of date, return lines, and the as-of date used.
    """

    features: pd.DataFrame
    excluded: pd.DataFrame
    account: dict[str, Any] = field(default_factory=dict)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def rfm_features(
    transactions: pd.DataFrame,
    *,
    customer_col: str,
    time_col: str,
    amount_col: str | None = None,
    quantity_col: str | None = None,
    price_col: str | None = None,
    order_col: str | None = None,
    as_of: dt.date | str | None = None,
    source: str = "data",
) -> TransactionFeatures:
    """Aggregate a transaction log into recency, frequency and monetary features.

    Parameters
    ----------
    transactions : DataFrame
        The log, one row per line, with a datetime column.
    customer_col, time_col : str
        Customer id and timestamp columns.
    amount_col : str, optional
        Line value; otherwise ``quantity_col * price_col``.
    quantity_col, price_col : str, optional
        Used when there is no amount column.
    order_col : str, optional
        Order (invoice) id; lines of one order are one purchase.
    as_of : date or ISO string, optional
        Compute the features as they were on this date (lines on or after it are left
        out). Default: the day after the last timestamp.
    source : str
        Name used in error messages.

    Returns
    -------
    TransactionFeatures

    Examples
    --------
    >>> log = pd.DataFrame({
    ...     "customer": ["a", "a", "b"],
    ...     "when": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-05"]),
    ...     "amount": [10.0, 30.0, 5.0],
    ... })
    >>> rfm_features(log, customer_col="customer", time_col="when", amount_col="amount"
    ...              ).features.to_dict("records")[0]["frequency"]
    2
    """
    if amount_col is None and (quantity_col is None or price_col is None):
        raise DataError(f"{source}: need an amount column, or quantity and price columns")
    for col in (customer_col, time_col, amount_col, quantity_col, price_col, order_col):
        if col is not None and col not in transactions.columns:
            raise DataError(f"{source}: column {col!r} not found")
    if not pd.api.types.is_datetime64_any_dtype(transactions[time_col]):
        raise DataError(f"{source}: column {time_col!r} is not a date/time column")

    keep = [c for c in (customer_col, time_col, amount_col, quantity_col, price_col, order_col) if c]
    log = transactions.copy()
    log[customer_col] = normalise_ids(log[customer_col])
    if order_col is not None:
        log[order_col] = log[order_col].astype("string")
    n_rows = len(log)

    con = duckdb.connect()
    try:
        con.register("raw_log", log)
        n_distinct = con.execute("SELECT count(*) FROM (SELECT DISTINCT * FROM raw_log)").fetchone()
        assert n_distinct is not None
        duplicates = n_rows - int(n_distinct[0])

        cust, ts = _quote(customer_col), _quote(time_col)
        value = (
            f"CAST({_quote(amount_col)} AS DOUBLE)"
            if amount_col
            else f"CAST({_quote(quantity_col or '')} AS DOUBLE) * CAST({_quote(price_col or '')} AS DOUBLE)"
        )
        order = f"CAST({_quote(order_col)} AS VARCHAR)" if order_col else "NULL::VARCHAR"
        con.execute(
            f"""
            CREATE TEMP TABLE lines AS
            SELECT {cust} AS customer_id, CAST({ts} AS TIMESTAMP) AS ts,
                   {value} AS value, {order} AS order_id
            FROM (SELECT DISTINCT {", ".join(_quote(c) for c in keep)}, * EXCLUDE ({", ".join(_quote(c) for c in keep)}) FROM raw_log)
            """
        )
        counts = con.execute(
            """
            SELECT count(*) FILTER (WHERE customer_id IS NULL),
                   count(*) FILTER (WHERE customer_id IS NOT NULL AND ts IS NULL),
                   count(*) FILTER (WHERE customer_id IS NOT NULL AND ts IS NOT NULL AND value IS NULL),
                   max(ts), min(ts)
            FROM lines
            """
        ).fetchone()
        assert counts is not None
        no_customer, bad_time, no_value, last_ts, first_ts = counts
        if last_ts is None:
            raise DataError(f"{source}: column {time_col!r} has no parseable date/time value")
        as_of_date = _resolve_as_of(as_of, last_ts)
        if as_of_date <= first_ts.date():
            raise UsageError(
                f"{source}: as-of date {as_of_date} is on or before the first transaction "
                f"({first_ts.date()})"
            )

        con.execute(f"SET VARIABLE as_of = DATE '{as_of_date.isoformat()}'")
        con.execute(
            """
            CREATE TEMP TABLE valid AS
            SELECT *, (value < 0 OR upper(coalesce(order_id, '')) LIKE 'C%') AS is_return
            FROM lines
            WHERE customer_id IS NOT NULL AND ts IS NOT NULL AND value IS NOT NULL
              AND ts < getvariable('as_of')
            """
        )
        after = con.execute(
            """
            SELECT count(*) FROM lines WHERE customer_id IS NOT NULL AND ts IS NOT NULL
              AND value IS NOT NULL AND ts >= getvariable('as_of')
            """
        ).fetchone()
        assert after is not None
        features = con.execute(
            """
            WITH orders AS (
                SELECT customer_id, coalesce(order_id, CAST(ts AS VARCHAR)) AS order_key,
                       min(ts) AS ts, sum(value) AS value
                FROM valid WHERE NOT is_return
                GROUP BY customer_id, order_key
            ),
            purchases AS (
                SELECT customer_id,
                       count(*) AS frequency,
                       max(ts) AS last_purchase,
                       min(ts) AS first_purchase,
                       avg(value) AS avg_order_value
                FROM orders WHERE value > 0
                GROUP BY customer_id
            ),
            net AS (
                SELECT customer_id, sum(value) AS monetary FROM valid GROUP BY customer_id
            )
            SELECT net.customer_id,
                   date_diff('day', CAST(p.last_purchase AS DATE), getvariable('as_of')) AS recency_days,
                   p.frequency,
                   net.monetary,
                   p.avg_order_value,
                   date_diff('day', CAST(p.first_purchase AS DATE), getvariable('as_of')) AS tenure_days
            FROM net JOIN purchases AS p USING (customer_id)
            ORDER BY net.customer_id
            """
        ).df()
        excluded = con.execute(
            """
            WITH everyone AS (SELECT DISTINCT customer_id FROM lines WHERE customer_id IS NOT NULL),
            with_time AS (SELECT DISTINCT customer_id FROM lines WHERE customer_id IS NOT NULL AND ts IS NOT NULL),
            in_window AS (SELECT DISTINCT customer_id FROM valid),
            buyers AS (
                SELECT customer_id FROM (
                    SELECT customer_id, coalesce(order_id, CAST(ts AS VARCHAR)) AS k, sum(value) AS v
                    FROM valid WHERE NOT is_return GROUP BY ALL
                ) WHERE v > 0 GROUP BY customer_id
            )
            SELECT e.customer_id,
                   CASE WHEN t.customer_id IS NULL THEN 'no_valid_dates'
                        WHEN w.customer_id IS NULL THEN 'no_transactions_before_as_of'
                        ELSE 'no_purchases' END AS reason
            FROM everyone e
            LEFT JOIN with_time t USING (customer_id)
            LEFT JOIN in_window w USING (customer_id)
            LEFT JOIN buyers b USING (customer_id)
            WHERE b.customer_id IS NULL
            ORDER BY e.customer_id
            """
        ).df()
        return_lines = con.execute("SELECT count(*) FILTER (WHERE is_return) FROM valid").fetchone()
        assert return_lines is not None
    finally:
        con.close()

    details = {
        "no_valid_dates": "every line of this customer has an unparseable or missing date",
        "no_transactions_before_as_of": "no line before the as-of date",
        "no_purchases": "only returns, cancellations or zero-value lines",
    }
    excluded["detail"] = excluded["reason"].map(details)
    features["frequency"] = features["frequency"].astype("int64")
    features["recency_days"] = features["recency_days"].astype("int64")
    features["tenure_days"] = features["tenure_days"].astype("int64")
    features["customer_id"] = features["customer_id"].astype("string")
    excluded["customer_id"] = excluded["customer_id"].astype("string")
    account = {
        "rows_read": n_rows,
        "duplicate_rows_dropped": duplicates,
        "rows_without_customer_id": int(no_customer),
        "rows_with_unparseable_time": int(bad_time),
        "rows_without_value": int(no_value),
        "rows_on_or_after_as_of": int(after[0]),
        "return_lines": int(return_lines[0]),
        "as_of": as_of_date.isoformat(),
        "customers_in_log": len(features) + len(excluded),
    }
    return TransactionFeatures(features=features.reset_index(drop=True), excluded=excluded, account=account)


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
        raise DataError(f"as-of date {as_of!r} is not an ISO date (YYYY-MM-DD)") from exc


def transaction_features(frame: pd.DataFrame, roles: ColumnRoles, *, source: str = "data",
                         as_of: dt.date | str | None = None) -> TransactionFeatures:
    """:func:`rfm_features` with the columns taken from detected :class:`ColumnRoles`."""
    if roles.time is None:
        raise DataError(f"{source}: no date/time column for a transaction log")
    return rfm_features(
        frame,
        customer_col=roles.customer,
        time_col=roles.time,
        amount_col=roles.amount,
        quantity_col=roles.quantity,
        price_col=roles.price,
        order_col=roles.order,
        as_of=as_of,
        source=source,
    )
