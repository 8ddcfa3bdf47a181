"""Synthetic transaction logs with planted customer archetypes.

The generator writes a log that looks like a real online-shop export (it is modelled on
UCI Online Retail): one row per order line, with cancellations and returns, anonymous
rows, duplicates and non-product lines when ``dirty=True``.  Every customer is drawn from
one of :data:`ARCHETYPES` and behaves like it -- how often, when, how much and at what
discount they buy -- so a segmentation can be checked against the planted truth.  The
archetype never shows in an identifier: it is drawn at random for each customer number.

Everything is generated in numpy arrays (no loop over rows or customers): 100,000
customers (about five million rows) take a few seconds, and the result depends only on
the arguments and the seed.  :func:`write_transactions` streams larger logs to a file.

The package's private modules: ``_tables`` (archetypes, behaviour rates, calendar, product
catalogue), ``_sampling`` (vectorised samplers), ``_simulate`` (one chunk of customers:
orders, returns, dirt) and ``_writer`` (the chunked Parquet/CSV writer).

Columns of the log
------------------
``InvoiceNo`` (str)
    Order number, increasing with time.  Returns and cancellations are ``"C"`` followed by
    their own number.
``StockCode``, ``Description``, ``Category`` (str)
    The product.  Non-product lines (``dirty=True`` only) are ``"POST"`` (postage),
    ``"M"`` (manual) and ``"BANK CHARGES"``, all in the category ``"Service"``.
``Quantity`` (int64)
    Units; negative on ``"C"`` invoices.
``InvoiceDate`` (datetime64[ns])
    Date and time (minute resolution) of the order.
``UnitPrice`` (float64)
    Price paid per unit after the discount, rounded to pence:
    ``round(list_price * (1 - Discount), 2)``, so ``Quantity * UnitPrice`` is the revenue.
``Discount`` (float64)
    Share taken off the list price, in ``[0, 0.5]``.
``Channel`` (str)
    ``"web"``, ``"app"`` or ``"store"``.
``CustomerID`` (str)
    ``"C"`` and a zero-padded number; missing on anonymous (guest) rows.
``Country`` (str)
    Country of the customer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, overload

import pandas as pd

from segmint.datasets._simulate import (
    check_count,
    checked_options,
    chunk_seeds,
    generate,
)
from segmint.datasets._tables import (
    ARCHETYPES,
    COLUMNS,
    DEFAULT_WEIGHTS,
    FIRST_INVOICE,
)
from segmint.datasets._writer import write_transactions

__all__ = ["ARCHETYPES", "COLUMNS", "DEFAULT_WEIGHTS", "make_transactions", "write_transactions"]


# ---------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------
@overload
def make_transactions(
    n_customers: int = ...,
    *,
    start: str = ...,
    end: str = ...,
    seed: int = ...,
    dirty: bool = ...,
    return_truth: Literal[False] = ...,
    weights: Mapping[str, float] | None = ...,
) -> pd.DataFrame: ...


@overload
def make_transactions(
    n_customers: int = ...,
    *,
    start: str = ...,
    end: str = ...,
    seed: int = ...,
    dirty: bool = ...,
    return_truth: Literal[True],
    weights: Mapping[str, float] | None = ...,
) -> tuple[pd.DataFrame, pd.DataFrame]: ...


def make_transactions(
    n_customers: int = 2000,
    *,
    start: str = "2023-01-01",
    end: str = "2024-12-31",
    seed: int = 0,
    dirty: bool = True,
    return_truth: bool = False,
    weights: Mapping[str, float] | None = None,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Generate a transaction log of customers with planted archetypes.

    Each customer is one of :data:`ARCHETYPES` and orders like it:

    - ``loyal_high_spender``: about two orders a month over the whole period, the last
      within 30 days of ``end``; many lines, pricier products, larger quantities; few
      returns and little discount.
    - ``bargain_hunter``: about five orders a year, mostly in the sales (January, July,
      20-30 November); small, cheap orders with high discounts.
    - ``new_customer``: 1-3 orders, the first within the last 90 days of the period.
    - ``lapsing_regular``: more than one order a month from ``start``, then nothing: the
      last order is 183-365 days before ``end`` (in periods shorter than two years, a
      third to a half of the period, at most 183-365 days).
    - ``one_off_buyer``: exactly one small order, on a random date before the last 90
      days (if the period is longer than 180 days).
    - ``occasional_gifter``: one or two orders a year, mostly 15 November - 22 December;
      gifts (jewellery, toys, Christmas), returned more often.

    Orders are more frequent in November and December and on weekdays, carry 1 to 40
    product lines, and some are partly returned 1-28 days later (a ``"C"`` invoice with a
    negative quantity of a product of the order).  Column meanings are in the module
    docstring.  Rows are sorted by invoice, invoices by time.

    Parameters
    ----------
    n_customers : int, default 2000
        Number of (identified) customers.  Expect about 50 rows per customer with the
        default mix and period.
    start, end : str, default "2023-01-01", "2024-12-31"
        First and last day of the period (inclusive); anything :class:`pandas.Timestamp`
        reads.
    seed : int, default 0
        Seed; the same arguments and seed give the same log.
    dirty : bool, default True
        Add the dirt of a real export: anonymous guest orders (about 5% of rows, no
        ``CustomerID``), about 0.5% exact duplicate lines, a few lines at price 0, postage
        lines (``"POST"``, mostly on orders from abroad), a few manual (``"M"``) and
        ``"BANK CHARGES"`` lines, and one line of 60,000-100,000 units on a customer's
        order, cancelled the same day by a ``"C"`` invoice of the opposite quantity.
        With ``False`` there is none of that.
    return_truth : bool, default False
        Also return the planted archetype of every customer.
    weights : mapping of str to float, optional
        Archetype mix, e.g. ``{"loyal_high_spender": 1, "one_off_buyer": 3}``; names
        left out get weight 0; normalised to sum to 1.  Default :data:`DEFAULT_WEIGHTS`.

    Returns
    -------
    pandas.DataFrame or tuple of pandas.DataFrame
        The log with the columns :data:`COLUMNS`; with ``return_truth`` also a frame with
        columns ``CustomerID`` and ``archetype``, one row per customer of the log.

    Raises
    ------
    segmint.errors.UsageError
        A negative or non-integer ``n_customers`` or ``seed``, an unreadable date,
        ``end`` before ``start``, or unusable ``weights``.

    Examples
    --------
    >>> log, truth = make_transactions(100, seed=1, return_truth=True)
    >>> list(log.columns) == list(COLUMNS)
    True
    >>> sorted(truth["CustomerID"]) == sorted(log["CustomerID"].dropna().unique())
    True
    """
    n = check_count(n_customers, "n_customers", minimum=0)
    options = checked_options(n, start, end, dirty, weights)
    (chunk_seed,) = chunk_seeds(seed, 1)
    chunk = generate(n, chunk_seed, options, id_offset=0, first_invoice=FIRST_INVOICE, absurd=True)
    frame = chunk.table().to_pandas()
    if not return_truth:
        return frame
    return frame, chunk.truth().to_pandas()
