"""Transaction log -> one row per customer: recency, frequency, monetary and companions.

Definitions (all computed in DuckDB SQL over the whole log, by
:mod:`segmint.features.engine`):

* A *line* is one row of the log with a customer id and a parseable timestamp, before the
  as-of date. Exact duplicate rows of the raw log are dropped first (counted), and the
  log is cleaned (:mod:`segmint.features.clean`): non-product lines (postage, fees),
  stock adjustments, zero or negative prices, lines cancelled in full the same day and
  absurd quantities are set aside and counted.
* A line is a *return* when its value is negative or its order id starts with ``C``
  (the cancellation convention of common shop exports). Returns are netted into
  ``monetary`` and never count as orders.
* An *order* is the set of non-return lines sharing an order id (or, with no order-id
  column, the same customer and timestamp); its value is the sum of its lines.
* ``as_of``: given, or the day after the last timestamp in the log.
* ``recency_days``: calendar days from the date of the last order with positive value to
  ``as_of`` (a purchase on the last day of the log gives 1).
* ``frequency``: number of orders with positive value.
* ``monetary``: net spend, purchases minus returns, over every kept line.
* ``avg_order_value``: mean value of the orders with positive value.
* ``tenure_days``: calendar days from the first order with positive value to ``as_of``.

Customers with no order of positive value (returns, zero-price or non-product lines
only) cannot be placed on these scales; they are listed as excluded with a reason, as are
customers whose every line had an unparseable date.  The other feature families are in
:mod:`segmint.features.families`.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from segmint.errors import DataError
from segmint.features.engine import TransactionFeatures, frame_features
from segmint.features.families import RFM_FEATURES
from segmint.features.roles import ColumnRoles
from segmint.features.spec import FIT_FAMILIES, FeatureSpec, detect_extra_columns

__all__ = [
    "RFM_FEATURES",
    "TransactionFeatures",
    "rfm_features",
    "spec_from_roles",
    "transaction_features",
]


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
    spec = FeatureSpec(
        customer=customer_col,
        time=time_col,
        amount=amount_col,
        quantity=None if amount_col is not None else quantity_col,
        price=None if amount_col is not None else price_col,
        order=order_col,
        families=("rfm",),
    )
    return frame_features(transactions, spec, as_of=as_of, source=source)


def spec_from_roles(
    frame: pd.DataFrame, roles: ColumnRoles, spec: FeatureSpec | None = None
) -> FeatureSpec:
    """Complete ``spec`` (or a default one) with the detected roles and extra columns.

    Columns the spec names are kept; the others come from ``roles`` (customer, time,
    value, order) and from names of ``frame``'s columns (product, category, channel,
    discount).
    """
    spec = spec or FeatureSpec()
    if spec.amount is not None or spec.quantity is not None or spec.price is not None:
        value = {}
    else:
        value = {"amount": roles.amount, "quantity": roles.quantity, "price": roles.price}
    spec = spec.with_columns(customer=roles.customer, time=roles.time, order=roles.order, **value)
    taken = set(spec.used_columns())
    return spec.with_columns(**detect_extra_columns(frame, taken))


def transaction_features(
    frame: pd.DataFrame,
    roles: ColumnRoles,
    *,
    source: str = "data",
    as_of: dt.date | str | None = None,
    spec: FeatureSpec | None = None,
    families: tuple[str, ...] = FIT_FAMILIES,
    today: dt.date | None = None,
) -> TransactionFeatures:
    """The customer features of a log, with columns from ``roles`` and ``spec``.

    Parameters
    ----------
    frame : DataFrame
        The log, typed.
    roles : ColumnRoles
        Detected (or given) roles; the spec's columns take precedence.
    source : str
        Name used in messages.
    as_of : date or ISO string, optional
        See :func:`rfm_features`.
    spec : FeatureSpec, optional
        Columns, families and cleaning rules; detected when not given.  A resolved spec
        (from a fitted model) recomputes the features exactly as at fit time.
    families : tuple of str
        Families used when the spec names none (default :data:`FIT_FAMILIES`).
    today : date, optional
        The run's date, for future dates (default: today).
    """
    if roles.time is None and (spec is None or spec.time is None):
        raise DataError(f"{source}: no date/time column for a transaction log")
    full = spec_from_roles(frame, roles, spec)
    return frame_features(frame, full, as_of=as_of, source=source, families=families, today=today)
