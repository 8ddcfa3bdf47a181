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

import functools
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from segmint.errors import UsageError

__all__ = ["ARCHETYPES", "COLUMNS", "DEFAULT_WEIGHTS", "make_transactions", "write_transactions"]

ARCHETYPES: tuple[str, ...] = (
    "loyal_high_spender",
    "bargain_hunter",
    "new_customer",
    "lapsing_regular",
    "one_off_buyer",
    "occasional_gifter",
)
"""Names of the planted customer archetypes."""

DEFAULT_WEIGHTS: Mapping[str, float] = {
    "loyal_high_spender": 0.15,
    "bargain_hunter": 0.20,
    "new_customer": 0.15,
    "lapsing_regular": 0.20,
    "one_off_buyer": 0.20,
    "occasional_gifter": 0.10,
}
"""Archetype mix used when ``weights`` is not given."""

COLUMNS: tuple[str, ...] = (
    "InvoiceNo",
    "StockCode",
    "Description",
    "Category",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "Discount",
    "Channel",
    "CustomerID",
    "Country",
)
"""Column names of the generated log, in order."""

_STR = pa.large_string()
_SCHEMA = pa.schema(
    [
        ("InvoiceNo", _STR),
        ("StockCode", _STR),
        ("Description", _STR),
        ("Category", _STR),
        ("Quantity", pa.int64()),
        ("InvoiceDate", pa.timestamp("ns")),
        ("UnitPrice", pa.float64()),
        ("Discount", pa.float64()),
        ("Channel", _STR),
        ("CustomerID", _STR),
        ("Country", _STR),
    ]
)
_TRUTH_SCHEMA = pa.schema([("CustomerID", _STR), ("archetype", _STR)])

# ---------------------------------------------------------------------------------------
# Behaviour tables.  Rows 0-5 follow ARCHETYPES; row 6 is anonymous guest orders; the
# product tables have a row 7 for "a Christmas product" (drawn in Nov-Dec).
# ---------------------------------------------------------------------------------------
_LOYAL, _BARGAIN, _NEW, _LAPSING, _ONE_OFF, _GIFTER, _GUEST, _XMAS = range(8)

_ANNUAL_ORDERS = np.array([24.0, 5.5, 0.0, 15.0, 0.0, 1.5])  # Poisson rate, orders/year
_MIN_ORDERS = np.array([2, 2, 1, 3, 1, 1])
_LINES_MEAN = np.array([4.0, 2.2, 2.8, 3.0, 1.4, 3.2, 2.0])  # product lines per order
_MAX_LINES = 40
_P_RETURN = np.array([0.02, 0.07, 0.05, 0.05, 0.04, 0.08, 0.0])  # per order
_P_DISCOUNT = np.array([0.02, 0.45, 0.08, 0.06, 0.08, 0.05, 0.05])  # per line, normal days
_P_DISCOUNT_SALE = np.array([0.15, 0.90, 0.45, 0.40, 0.45, 0.35, 0.40])  # per line, sale
_DISCOUNT_LEVELS = np.array([0.05, 0.10, 0.15, 0.20])
_SALE_DISCOUNT_LEVELS = np.array([0.20, 0.25, 0.30, 0.40, 0.50])
_P_XMAS_PRODUCT = np.array([0.20, 0.20, 0.25, 0.25, 0.25, 0.50, 0.25])  # Nov-Dec lines
# Day-density profile per archetype: 0 ordinary seasonality, 1 sale periods, 2 gifting.
_DAY_PROFILE = np.array([0, 1, 0, 0, 0, 2])

_QTY_VALUES = np.array([1, 2, 3, 4, 6, 8, 12, 24], dtype=np.int64)
_QTY_WEIGHTS = np.array(
    [
        [0.22, 0.20, 0.10, 0.10, 0.16, 0.05, 0.12, 0.05],  # loyal
        [0.45, 0.25, 0.10, 0.08, 0.07, 0.02, 0.03, 0.00],  # bargain
        [0.50, 0.25, 0.10, 0.05, 0.05, 0.02, 0.03, 0.00],  # new
        [0.35, 0.25, 0.10, 0.10, 0.10, 0.03, 0.05, 0.02],  # lapsing
        [0.72, 0.20, 0.05, 0.03, 0.00, 0.00, 0.00, 0.00],  # one-off
        [0.45, 0.30, 0.10, 0.07, 0.06, 0.01, 0.01, 0.00],  # gifter
        [0.60, 0.20, 0.08, 0.05, 0.04, 0.01, 0.02, 0.00],  # guest
    ]
)

_CHANNELS = ("web", "app", "store")
_CHANNEL_WEIGHTS = np.array(
    [
        [0.45, 0.45, 0.10],
        [0.50, 0.35, 0.15],
        [0.50, 0.30, 0.20],
        [0.45, 0.25, 0.30],
        [0.55, 0.15, 0.30],
        [0.50, 0.20, 0.30],
        [0.55, 0.00, 0.45],  # guests: no app without an account
    ]
)
_P_PREFERRED_CHANNEL = 0.8
_HOUR_WEIGHTS = np.array(
    [  # 0h .. 23h
        [0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.5, 2.0, 2.5, 2.8, 3.2, 3.0, 2.8, 2.6,
         2.6, 2.8, 3.2, 3.6, 3.8, 3.4, 2.4, 1.2],  # web
        [0.5, 0.3, 0.1, 0.1, 0.1, 0.2, 0.6, 1.4, 1.8, 1.6, 1.6, 1.8, 2.6, 2.4, 1.8, 1.8,
         2.0, 2.6, 3.2, 3.8, 4.2, 4.0, 3.0, 1.6],  # app
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 2.8, 3.2, 3.4, 3.0, 3.0,
         3.2, 2.6, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # store, 9h-17h
    ]
)  # fmt: skip

_HOME_COUNTRY = 0
_COUNTRIES = (
    "United Kingdom",
    "Germany",
    "France",
    "EIRE",
    "Spain",
    "Netherlands",
    "Belgium",
    "Switzerland",
    "Portugal",
    "Australia",
    "Norway",
    "Italy",
    "Sweden",
    "Denmark",
    "USA",
)
_COUNTRY_P = np.array(
    [0.82, 0.035, 0.03, 0.02, 0.015, 0.015, 0.01, 0.01, 0.008, 0.007,
     0.006, 0.006, 0.006, 0.005, 0.007]
)  # fmt: skip

# Calendar: relative demand per month (Jan..Dec), per weekday (Mon..Sun).
_MONTH_DEMAND = np.array([0.85, 0.8, 0.9, 0.9, 0.95, 0.9, 0.9, 0.9, 1.0, 1.1, 1.45, 1.55])
_WEEKDAY_DEMAND = np.array([1.0, 1.0, 1.0, 1.05, 1.0, 0.75, 0.9])
_SALE_BOOST = 9.0  # bargain hunters' demand on sale days relative to other days
_GIFT_OFF_SEASON = 0.04  # gifters' demand outside 15 Nov - 22 Dec relative to inside

# Dirt rates (dirty=True).
_GUEST_ROW_SHARE = 0.05
_P_DUPLICATE = 0.005
_P_ZERO_PRICE = 0.0005
_P_POSTAGE_HOME, _P_POSTAGE_ABROAD = 0.002, 0.15
_POSTAGE_PRICES = np.array([15.0, 18.0, 28.0, 40.0])
_P_MANUAL, _P_BANK_CHARGES = 0.0005, 0.0002

_FIRST_INVOICE = 500_001
_WRITE_ROWS = 1 << 18  # rows turned into Arrow and written at a time
_RECENT_DAYS = 90  # new customers start within the last 90 days of the period
_LOYAL_RECENT_DAYS = 30  # every loyal customer orders within the last 30 days
_DAY_NS = 86_400 * 10**9
_MINUTE_NS = 60 * 10**9

# ---------------------------------------------------------------------------------------
# Product catalogue: fixed (independent of the seed), so every log and every chunk of a
# written log share it.
# ---------------------------------------------------------------------------------------
_CATEGORIES = (
    "Home Decor",
    "Kitchen & Dining",
    "Stationery",
    "Toys & Games",
    "Garden & Outdoor",
    "Jewellery & Accessories",
    "Christmas",
    "Bags & Storage",
)
_SERVICE_CATEGORY = "Service"
_CATEGORY_NOUNS = tuple(
    nouns.split("|")
    for nouns in (
        "T-LIGHT HOLDER|PHOTO FRAME|WALL CLOCK|CUSHION COVER|DOORSTOP|"
        "CANDLE|MIRROR|VASE|HANGING HEART|LANTERN",
        "TEA CUP AND SAUCER|CAKE STAND|MUG|TEAPOT|JAM JAR|CAKE TIN|APRON|NAPKINS|PLATE|TEA TOWEL",
        "NOTEBOOK|GREETING CARD|WRAPPING PAPER|PENCIL SET|STICKER SHEET|"
        "GIFT TAG|PHOTO ALBUM|CALENDAR|ENVELOPES|ERASER",
        "JIGSAW PUZZLE|SKIPPING ROPE|SPINNING TOP|DOLL|PLAYING CARDS|"
        "MARBLES|KEEPSAKE BOX|TEDDY BEAR|PAINT SET|BUILDING BLOCKS",
        "PLANT POT|WATERING CAN|BIRD FEEDER|GARDEN SIGN|PARASOL|"
        "HAMMOCK|SEED TIN|TRUG|WIND CHIME|PICNIC BLANKET",
        "NECKLACE|EARRINGS|BRACELET|HAIR SLIDE|RING|BROOCH|PURSE|CHARM|SCARF|TRINKET POT",
        "BAUBLE|CHRISTMAS STOCKING|ADVENT CALENDAR|TREE DECORATION|GARLAND|"
        "CRACKERS|NATIVITY SET|SNOW GLOBE|STAR LIGHTS|WREATH",
        "JUMBO BAG|LUNCH BAG|STORAGE TIN|SHOPPER BAG|LUNCH BOX|"
        "WASHBAG|TRINKET BOX|LAUNDRY BAG|STORAGE JAR|DRAWER KNOB",
    )
)
_ADJECTIVES = (
    "WHITE",
    "RED",
    "PINK",
    "BLUE",
    "GREEN",
    "IVORY",
    "VINTAGE",
    "RETRO",
    "REGENCY",
    "PAISLEY",
    "SPOTTY",
    "FLORAL",
    "SCANDINAVIAN",
    "ANTIQUE",
    "WOODEN",
    "GLASS",
    "ENAMEL",
    "STRIPED",
    "POLKADOT",
    "SILVER",
)
_PRODUCTS_PER_CATEGORY = 30
_MEDIAN_PRICE = np.array([4.95, 3.75, 1.65, 2.95, 5.95, 6.50, 2.50, 3.25])
# How much each product profile leans to expensive products (exponent of the price) ...
_PRICE_TILT = np.array([0.9, -0.9, 0.0, 0.2, -0.4, 0.6, 0.0, 0.0])
# ... and to each category.
_CATEGORY_TASTE = np.array(
    [
        [1.5, 1.4, 0.6, 0.7, 1.3, 1.0, 0.8, 1.0],  # loyal
        [0.9, 1.0, 1.5, 1.2, 0.7, 0.8, 1.0, 1.2],  # bargain
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],  # new
        [1.2, 1.2, 1.0, 1.0, 1.0, 1.0, 0.8, 1.0],  # lapsing
        [1.0, 1.0, 1.3, 1.3, 1.0, 1.2, 1.0, 1.0],  # one-off
        [0.8, 0.7, 0.8, 1.8, 0.6, 2.0, 1.5, 0.9],  # gifter
        [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],  # guest
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0],  # a Christmas product
    ]
)
_CATALOGUE_SEED = 20_101_201
_N_PROFILES = 7  # the archetypes and guests; _XMAS is a product mix only
_DISCOUNT_VALUES = np.array([0.0, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50])
_RES_BITS = 16  # lookup-table samplers draw with a resolution of 2**-16
_RES = 1 << _RES_BITS


@dataclass(frozen=True)
class _Catalogue:
    """Products, three non-product codes at the end, and the per-line sampling tables.

    The sampling tables are indexed by a line code ``(profile * 2 + sale) * 2 + xmas``
    shifted left by ``_RES_BITS``, OR-ed with a uniform 16-bit number.
    """

    stock_code: pa.Array
    description: pa.Array
    category: pa.Array
    list_price: np.ndarray  # of the real products only
    n_products: int
    product_table: np.ndarray  # line code -> product
    quantity_table: np.ndarray  # line code -> units
    discount_table: np.ndarray  # line code -> index into _DISCOUNT_VALUES
    price_table: np.ndarray  # product * len(_DISCOUNT_VALUES) + discount -> price paid
    cheap: np.ndarray  # products under 3.00, for the absurd order
    post: int
    manual: int
    bank_charges: int


@functools.cache
def _catalogue() -> _Catalogue:
    """Build the fixed product catalogue and its sampling tables (cached)."""
    rng = np.random.default_rng(_CATALOGUE_SEED)
    n_cat, per_cat = len(_CATEGORIES), _PRODUCTS_PER_CATEGORY
    n_products = n_cat * per_cat
    numbers = rng.choice(np.arange(20_000, 90_000), size=n_products, replace=False)
    suffixes = rng.choice(np.array(["", "", "", "A", "B", "C", "L"]), size=n_products)
    codes = [f"{num}{suf}" for num, suf in zip(numbers.tolist(), suffixes.tolist(), strict=True)]
    descriptions: list[str] = []
    for nouns in _CATEGORY_NOUNS:
        pairs = rng.choice(len(_ADJECTIVES) * len(nouns), size=per_cat, replace=False)
        descriptions += [
            f"{_ADJECTIVES[p // len(nouns)]} {nouns[p % len(nouns)]}" for p in pairs.tolist()
        ]
    category = np.repeat(np.arange(n_cat), per_cat)
    price = _MEDIAN_PRICE[category] * rng.lognormal(0.0, 0.55, size=n_products)
    price = np.round(np.maximum(np.round(price * 20) / 20 - 0.01, 0.19), 2)  # 2.95, 4.19 ...
    popularity = rng.lognormal(0.0, 1.0, size=n_products)
    taste = popularity * price ** _PRICE_TILT[:, None] * _CATEGORY_TASTE[:, category]
    taste /= taste.sum(axis=1, keepdims=True)

    product_rows, quantity_rows, discount_rows = [], [], []
    n_values = _DISCOUNT_VALUES.size
    for profile in range(_N_PROFILES):
        for sale in (0, 1):
            for xmas in (0, 1):
                share = _P_XMAS_PRODUCT[profile] * xmas
                product_rows.append((1 - share) * taste[profile] + share * taste[_XMAS])
                quantity_rows.append(_QTY_WEIGHTS[profile])
                levels = _SALE_DISCOUNT_LEVELS if sale else _DISCOUNT_LEVELS
                p_any = (_P_DISCOUNT_SALE if sale else _P_DISCOUNT)[profile]
                row = np.zeros(n_values)
                row[0] = 1.0 - p_any
                row[np.searchsorted(_DISCOUNT_VALUES, levels)] += p_any / levels.size
                discount_rows.append(row)
    paid = np.round(price[:, None] * (1.0 - _DISCOUNT_VALUES[None, :]), 2).ravel()
    paid.setflags(write=False)

    specials = [("POST", "POSTAGE"), ("M", "Manual"), ("BANK CHARGES", "Bank Charges")]
    codes += [code for code, _ in specials]
    descriptions += [desc for _, desc in specials]
    categories = [_CATEGORIES[c] for c in category.tolist()] + [_SERVICE_CATEGORY] * 3
    price.setflags(write=False)
    cheap = np.flatnonzero(price < 3.0)
    return _Catalogue(
        stock_code=pa.array(codes, type=_STR),
        description=pa.array(descriptions, type=_STR),
        category=pa.array(categories, type=_STR),
        list_price=price,
        n_products=n_products,
        product_table=_lookup_table(np.array(product_rows)),
        quantity_table=_QTY_VALUES.astype(np.int32)[_lookup_table(np.array(quantity_rows))],
        discount_table=_lookup_table(np.array(discount_rows)),
        price_table=paid,
        cheap=cheap,
        post=n_products,
        manual=n_products + 1,
        bank_charges=n_products + 2,
    )


@dataclass(frozen=True)
class _Calendar:
    """Per-day facts of the period: demand profiles, sale days, Christmas season."""

    day_cdf: np.ndarray  # (3 profiles, n_days + 1), cumulative, starts at 0, ends at 1
    is_sale: np.ndarray  # (n_days,) 0/1
    is_xmas_season: np.ndarray  # (n_days,) 0/1, November and December


@functools.lru_cache(maxsize=16)
def _calendar(start_day: int, n_days: int) -> _Calendar:
    """Demand per day for ``n_days`` days from ``start_day`` (days since 1970-01-01)."""
    days = np.arange(start_day, start_day + n_days).astype("datetime64[D]")
    month_start = days.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12  # 0 = January
    day_of_month = (days - month_start.astype("datetime64[D]")).astype(np.int64) + 1
    weekday = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
    base = _MONTH_DEMAND[month] * _WEEKDAY_DEMAND[weekday]
    base = np.where((month == 11) & (day_of_month >= 24), base * 0.3, base)  # shop closes
    is_sale = (month == 0) | (month == 6) | ((month == 10) & (day_of_month >= 20))
    gifting = ((month == 10) & (day_of_month >= 15)) | ((month == 11) & (day_of_month <= 22))
    profiles = np.stack(
        [
            base,
            base * np.where(is_sale, 1.0 + _SALE_BOOST, 1.0),
            base * np.where(gifting, 1.0, _GIFT_OFF_SEASON),
        ]
    )
    cdf = np.zeros((3, n_days + 1))
    cdf[:, 1:] = _cumulative_rows(profiles)
    sale = is_sale.astype(np.int64)
    xmas = (month >= 10).astype(np.int64)
    for array in (cdf, sale, xmas):
        array.setflags(write=False)
    return _Calendar(day_cdf=cdf, is_sale=sale, is_xmas_season=xmas)


# ---------------------------------------------------------------------------------------
# Vectorised sampling helpers
# ---------------------------------------------------------------------------------------
def _cumulative_rows(weights: np.ndarray) -> np.ndarray:
    """Row-wise cumulative shares of a 2-D weight matrix; the last column is exactly 1."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64), axis=1)
    cdf /= cdf[:, -1:]
    cdf[:, -1] = 1.0
    return cdf


def _lookup_table(weights: np.ndarray) -> np.ndarray:
    """Flat sampling table: ``table[(g << _RES_BITS) | u]`` is an item drawn with row g.

    Parameters
    ----------
    weights : numpy.ndarray
        ``(n_groups, n_items)`` non-negative weights; each row has a positive sum.

    Returns
    -------
    numpy.ndarray
        ``n_groups * 2**_RES_BITS`` item indices (``int16``); item ``i`` of row ``g``
        fills a share of the row within ``2**-_RES_BITS`` of its weight share, and an
        item of weight 0 never appears.
    """
    cdf = _cumulative_rows(np.atleast_2d(weights))
    middle = (np.arange(_RES) + 0.5) / _RES
    table = np.stack([np.searchsorted(row, middle, side="right") for row in cdf])
    table = np.minimum(table, cdf.shape[1] - 1).astype(np.int16).ravel()
    table.setflags(write=False)
    return table


def _uniform16(rng: np.random.Generator, size: int) -> np.ndarray:
    """Uniform integers in ``[0, 2**16)``, the random input of the lookup tables."""
    return rng.integers(0, _RES, size=size, dtype=np.uint16)


def _draw(rng: np.random.Generator, table: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Draw one item per element from row ``group`` of a :func:`_lookup_table`."""
    group = np.asarray(group, dtype=np.int64)
    return table[(group << _RES_BITS) | _uniform16(rng, group.size)]


def _sample_days(
    rng: np.random.Generator,
    day_cdf: np.ndarray,
    profile: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> np.ndarray:
    """Draw a day in ``[lo, hi)`` per element, with the demand of its day profile.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    day_cdf : numpy.ndarray
        ``(n_profiles, n_days + 1)`` cumulative demand, starting at 0 and ending at 1.
    profile : numpy.ndarray
        Demand profile per element.
    lo, hi : numpy.ndarray
        Window per element, ``0 <= lo < hi <= n_days``.

    Returns
    -------
    numpy.ndarray
        Day offset from the start of the period, per element (``int64``).
    """
    width = day_cdf.shape[1]
    stacked = (day_cdf + np.arange(day_cdf.shape[0])[:, None]).ravel()  # row p in [p, p+1]
    base = np.asarray(profile, dtype=np.int64) * width
    c_lo, c_hi = stacked[base + lo], stacked[base + hi]
    target = c_lo + rng.random(lo.size) * (c_hi - c_lo)
    day = np.searchsorted(stacked, target, side="right") - 1 - base
    return np.clip(day, lo, hi - 1)


def _minute_of_day(rng: np.random.Generator, channel: np.ndarray) -> np.ndarray:
    """Minute of the day of an order placed through ``channel``."""
    hour = _draw(rng, _HOUR_TABLE, channel).astype(np.int64)
    return hour * 60 + rng.integers(0, 60, size=channel.size)


def _pick(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """``min(k, n)`` distinct indices out of ``range(n)``, sorted."""
    return np.sort(rng.choice(n, size=min(k, n), replace=False))


def _prefixed(values: pa.Array, prefix: str) -> pa.Array:
    """Strings ``prefix + value``."""
    return pc.utf8_replace_slice(values, start=0, stop=0, replacement=prefix)


_HOUR_TABLE = _lookup_table(_HOUR_WEIGHTS)
_CHANNEL_TABLE = _lookup_table(_CHANNEL_WEIGHTS)
_CHANNEL_ARRAY = pa.array(_CHANNELS, type=_STR)
_COUNTRY_ARRAY = pa.array(_COUNTRIES, type=_STR)
_ARCHETYPE_ARRAY = pa.array(ARCHETYPES, type=_STR)


# ---------------------------------------------------------------------------------------
# One chunk of customers
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Options:
    start_day: int
    n_days: int
    dirty: bool
    probs: np.ndarray
    id_width: int


@dataclass(frozen=True)
class _Chunk:
    """A generated chunk: compact numpy columns, turned into Arrow rows on demand.

    Invoices are in time order; rows are grouped by invoice in that order.
    """

    row_invoice: np.ndarray  # per row: index of its invoice (int32)
    product: np.ndarray  # per row: catalogue index (int16)
    quantity: np.ndarray  # per row (int32)
    price: np.ndarray  # per row: price paid (float64)
    discount: np.ndarray  # per row: index into _DISCOUNT_VALUES (int16)
    invoice_no: pa.Array  # per invoice
    invoice_ts: np.ndarray  # per invoice, ns since the epoch
    invoice_customer: np.ndarray  # per invoice, index into customer_id; -1 for guests
    invoice_channel: np.ndarray  # per invoice
    invoice_country: np.ndarray  # per invoice
    customer_id: pa.Array  # per customer
    archetype: np.ndarray  # per customer

    @property
    def n_rows(self) -> int:
        return int(self.row_invoice.size)

    @property
    def n_invoices(self) -> int:
        return int(self.invoice_ts.size)

    def table(self, start: int = 0, stop: int | None = None) -> pa.Table:
        """Rows ``start:stop`` as an Arrow table of schema ``_SCHEMA``."""
        cat = _catalogue()
        invoice = self.row_invoice[start:stop]
        customer = self.invoice_customer[invoice]
        product = pa.array(self.product[start:stop])
        return pa.Table.from_arrays(
            [
                self.invoice_no.take(pa.array(invoice)),
                cat.stock_code.take(product),
                cat.description.take(product),
                cat.category.take(product),
                pa.array(self.quantity[start:stop].astype(np.int64)),
                pa.array(self.invoice_ts[invoice], type=pa.timestamp("ns")),
                pa.array(self.price[start:stop]),
                pa.array(_DISCOUNT_VALUES[self.discount[start:stop]]),
                _CHANNEL_ARRAY.take(pa.array(self.invoice_channel[invoice])),
                self.customer_id.take(pa.array(customer, mask=customer < 0)),
                _COUNTRY_ARRAY.take(pa.array(self.invoice_country[invoice])),
            ],
            schema=_SCHEMA,
        )

    def truth(self) -> pa.Table:
        """The planted archetype per customer, as an Arrow table."""
        return pa.Table.from_arrays(
            [self.customer_id, _ARCHETYPE_ARRAY.take(pa.array(self.archetype))],
            schema=_TRUTH_SCHEMA,
        )


def _place(n_rows: int, dtype: Any, rows: list[np.ndarray], values: list[np.ndarray]) -> np.ndarray:
    """An array of ``n_rows`` with ``values[i]`` written at ``rows[i]`` for each i."""
    out = np.empty(n_rows, dtype=dtype)
    for where, part in zip(rows, values, strict=True):
        out[where] = part
    return out


def _group_of(index: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Group of each element ``index`` for contiguous groups beginning at ``starts``."""
    return np.searchsorted(starts, index, side="right") - 1


def _repeats_in_groups(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Indices of elements equal to an earlier element of their group.

    Parameters
    ----------
    values : numpy.ndarray
        Values, in contiguous groups.
    starts : numpy.ndarray
        Strictly increasing first index of each group, ``starts[0] == 0``.

    Returns
    -------
    numpy.ndarray
        Sorted indices of the repeats (the first occurrence in a group is not one).

    Notes
    -----
    Compares each element with the one ``s`` places before it, for ``s = 1, 2, ...``
    while some group is longer than ``s``; without sorting, so the cost grows with the
    sum of squared group sizes, which is small for order lines.
    """
    n = values.size
    has_previous = np.ones(n, dtype=bool)
    has_previous[starts[starts < n]] = False
    index = np.flatnonzero(has_previous)  # elements with >= shift predecessors in group
    found = []
    shift = 1
    while index.size:
        found.append(index[values[index] == values[index - shift]])
        index = index[index + 1 < n] + 1
        index = index[has_previous[index]]
        shift += 1
    return np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)


def _generate(
    n: int,
    seed: np.random.SeedSequence,
    options: _Options,
    *,
    id_offset: int,
    first_invoice: int,
    absurd: bool,
) -> _Chunk:
    """Generate the log of ``n`` customers numbered from ``id_offset + 1``.

    Parameters
    ----------
    n : int
        Number of customers.
    seed : numpy.random.SeedSequence
        Seed of this chunk.
    options : _Options
        Period, dirt switch, archetype mix and width of the customer number.
    id_offset : int
        Customers are numbered ``id_offset + 1 .. id_offset + n``.
    first_invoice : int
        Number of the first invoice of the chunk; invoices are numbered consecutively.
    absurd : bool
        Plant the absurd-quantity line and its cancellation (with ``options.dirty``).

    Returns
    -------
    _Chunk
        The chunk's rows and truth.
    """
    rng = np.random.default_rng(seed)
    cat = _catalogue()
    cal = _calendar(options.start_day, options.n_days)
    n_days, dirty = options.n_days, options.dirty and n > 0
    start_ns = options.start_day * _DAY_NS

    # --- customers ----------------------------------------------------------------------
    arch = rng.choice(len(ARCHETYPES), size=n, p=options.probs)
    country = rng.choice(len(_COUNTRIES), size=n, p=_COUNTRY_P)
    preferred = _draw(rng, _CHANNEL_TABLE, arch)
    lo = np.zeros(n, dtype=np.int64)
    hi = np.full(n, n_days, dtype=np.int64)
    lo[arch == _NEW] = max(0, n_days - _RECENT_DAYS)
    if n_days > 2 * _RECENT_DAYS:
        hi[arch == _ONE_OFF] = n_days - _RECENT_DAYS  # not to be mistaken for a new one
    lapse = rng.integers(min(183, n_days // 3), min(365, n_days // 2) + 1, size=n)
    hi = np.where(arch == _LAPSING, np.maximum(1, n_days - lapse), hi)
    rate = _ANNUAL_ORDERS[arch] / 365.25 * rng.lognormal(0.0, 0.35, size=n)
    n_orders = np.maximum(rng.poisson(rate * (hi - lo)), _MIN_ORDERS[arch])
    few = rng.choice(3, size=n, p=[0.5, 0.3, 0.2]) + 1
    n_orders = np.where(arch == _NEW, few, n_orders)
    del rate, few

    # --- customers' orders ---------------------------------------------------------------
    n_ev = int(n_orders.sum())
    ev_cust = np.repeat(np.arange(n), n_orders)
    is_first = np.zeros(n_ev, dtype=bool)
    is_first[np.cumsum(n_orders) - n_orders] = True
    ev_arch = arch[ev_cust]
    ev_lo, ev_hi = lo[ev_cust], hi[ev_cust]
    pin_recent = is_first & (ev_arch == _LOYAL)  # loyal customers are recent
    ev_lo[pin_recent] = np.maximum(ev_lo[pin_recent], n_days - _LOYAL_RECENT_DAYS)
    pin_lapse = is_first & (ev_arch == _LAPSING)  # the last order before the lapse
    ev_lo[pin_lapse] = ev_hi[pin_lapse] - 1
    ev_day = _sample_days(rng, cal.day_cdf, _DAY_PROFILE[ev_arch], ev_lo, ev_hi)
    del ev_lo, ev_hi, is_first, pin_recent, pin_lapse, lo, hi
    ev_chan = np.where(
        rng.random(n_ev) < _P_PREFERRED_CHANNEL,
        preferred[ev_cust],
        rng.integers(0, len(_CHANNELS), size=n_ev),
    )

    # --- anonymous guest orders (dirt) ---------------------------------------------------
    n_guest = 0
    if dirty:
        lines = _LINES_MEAN[ev_arch].sum() / _LINES_MEAN[_GUEST]
        n_guest = max(1, int(rng.poisson(_GUEST_ROW_SHARE / (1 - _GUEST_ROW_SHARE) * lines)))
    g_day = _sample_days(
        rng,
        cal.day_cdf,
        np.zeros(n_guest, dtype=np.int64),
        np.zeros(n_guest, dtype=np.int64),
        np.full(n_guest, n_days, dtype=np.int64),
    )

    # --- all purchases: customers' then guests' ------------------------------------------
    p_prof = np.concatenate([ev_arch, np.full(n_guest, _GUEST)]).astype(np.int8)
    p_cust = np.concatenate([ev_cust, np.full(n_guest, -1)]).astype(np.int32)
    p_day = np.concatenate([ev_day, g_day]).astype(np.int32)
    g_chan = _draw(rng, _CHANNEL_TABLE, np.full(n_guest, _GUEST))
    p_chan = np.concatenate([ev_chan, g_chan]).astype(np.int8)
    p_country = np.concatenate(
        [country[ev_cust], rng.choice(len(_COUNTRIES), size=n_guest, p=_COUNTRY_P)]
    ).astype(np.int8)
    del ev_arch, ev_cust, ev_day, ev_chan, g_day, g_chan
    n_p = p_prof.size
    p_ts = start_ns + p_day * np.int64(_DAY_NS) + _minute_of_day(rng, p_chan) * _MINUTE_NS
    n_lines = 1 + np.minimum(rng.poisson(_LINES_MEAN[p_prof] - 1.0), _MAX_LINES - 1)

    # --- product lines (grouped by order, orders in the order above) ---------------------
    p_code = (p_prof.astype(np.int32) * 2 + cal.is_sale[p_day]) * 2 + cal.is_xmas_season[p_day]
    l_code = np.repeat((p_code << _RES_BITS).astype(np.int32), n_lines)
    del p_code
    l_prod = cat.product_table[l_code | _uniform16(rng, l_code.size)]
    l_start = np.cumsum(n_lines) - n_lines
    repeated = _repeats_in_groups(l_prod, l_start)  # a product once per order: drop repeats
    if repeated.size:
        keep = np.ones(l_prod.size, dtype=bool)
        keep[repeated] = False
        l_code, l_prod = l_code[keep], l_prod[keep]
        del keep
        n_lines -= np.bincount(_group_of(repeated, l_start), minlength=n_p)
        l_start = np.cumsum(n_lines) - n_lines
    n_l = l_prod.size
    l_qty = cat.quantity_table[l_code | _uniform16(rng, n_l)]
    l_disc = cat.discount_table[l_code | _uniform16(rng, n_l)]
    del l_code
    l_price = cat.price_table[l_prod.astype(np.int32) * _DISCOUNT_VALUES.size + l_disc]
    if dirty:  # a few lines at price zero
        zero = _pick(rng, n_l, max(1, int(rng.binomial(n_l, _P_ZERO_PRICE))))
        l_price[zero] = 0.0
        l_disc[zero] = 0

    # --- returns: part of one line of a customer's order, 1-28 days later ---------------
    ret = np.flatnonzero((p_cust >= 0) & (rng.random(n_p) < _P_RETURN[p_prof]))
    r_line = l_start[ret] + (rng.random(ret.size) * n_lines[ret]).astype(np.int64)
    r_day = p_day[ret] + 1 + np.minimum(rng.exponential(4.0, size=ret.size), 27).astype(int)
    r_qty = -(1 + (rng.random(ret.size) * l_qty[r_line]).astype(np.int32))
    inside = r_day < n_days
    ret, r_line, r_day, r_qty = ret[inside], r_line[inside], r_day[inside], r_qty[inside]
    r_ts = start_ns + r_day * _DAY_NS + _minute_of_day(rng, p_chan[ret]) * _MINUTE_NS
    r_prod, r_price, r_disc = l_prod[r_line], l_price[r_line], l_disc[r_line]
    n_r = ret.size
    del p_day, r_day, r_line, inside

    # --- non-product lines and the absurd line (dirt) ------------------------------------
    extra_ev: list[np.ndarray] = []
    extra_prod: list[np.ndarray] = []
    extra_qty: list[np.ndarray] = []
    extra_price: list[np.ndarray] = []
    # The absurd line (at most one) and its cancellation.
    c_ev = c_ts = c_prod = c_qty = np.zeros(0, dtype=np.int64)
    c_price = np.zeros(0)
    if dirty:
        abroad = p_country != _HOME_COUNTRY
        post = np.flatnonzero(
            rng.random(n_p) < np.where(abroad, _P_POSTAGE_ABROAD, _P_POSTAGE_HOME)
        )
        manual = _pick(rng, n_p, max(1, int(rng.binomial(n_p, _P_MANUAL))))
        bank = _pick(rng, n_p, max(1, int(rng.binomial(n_p, _P_BANK_CHARGES))))
        extra_ev += [post, manual, bank]
        extra_prod += [
            np.full(post.size, cat.post),
            np.full(manual.size, cat.manual),
            np.full(bank.size, cat.bank_charges),
        ]
        extra_qty += [
            1 + rng.binomial(2, 0.15, size=post.size),
            np.ones(manual.size, dtype=np.int64),
            np.ones(bank.size, dtype=np.int64),
        ]
        extra_price += [
            _POSTAGE_PRICES[rng.integers(0, _POSTAGE_PRICES.size, size=post.size)],
            np.round(rng.lognormal(np.log(4.0), 1.0, size=manual.size) + 0.01, 2),
            np.full(bank.size, 15.0),
        ]
        del abroad, post, manual, bank
        if absurd:
            # One line of an absurd quantity of a cheap product on a customer's order
            # (a loyal customer's if there is one), cancelled in full the same day.
            loyal_orders = np.flatnonzero(p_prof == _LOYAL)
            pool = loyal_orders if loyal_orders.size else np.flatnonzero(p_cust >= 0)
            c_ev = pool[rng.integers(0, pool.size, size=1)]
            c_prod = cat.cheap[rng.integers(0, cat.cheap.size, size=1)]
            c_qty = rng.integers(60_000, 100_000, size=1)
            c_price = cat.list_price[c_prod]
            extra_ev.append(c_ev)
            extra_prod.append(c_prod)
            extra_qty.append(c_qty)
            extra_price.append(c_price)
            left = 1439 - (p_ts[c_ev] - start_ns) // _MINUTE_NS % 1440  # minutes left today
            c_ts = p_ts[c_ev] + np.minimum(left, 1 + rng.integers(0, 180, size=1)) * _MINUTE_NS
            del loyal_orders, pool
    n_c = c_ev.size
    extra_rank: list[np.ndarray] = []  # place among the order's non-product lines
    n_extra = np.zeros(n_p, dtype=np.int64)
    for events in extra_ev:  # each kind at most once per order
        extra_rank.append(n_extra[events].copy())
        n_extra[events] += 1

    # --- exact duplicates of product and return lines (dirt) ----------------------------
    dup_l = dup_r = np.zeros(0, dtype=np.int64)
    if dirty:
        k = max(1, int(rng.binomial(n_l + n_r, _P_DUPLICATE)))
        chosen = _pick(rng, n_l + n_r, k)
        dup_l, dup_r = chosen[chosen < n_l], chosen[chosen >= n_l] - n_l
    dups_per_order = np.bincount(_group_of(dup_l, l_start), minlength=n_p)

    # --- invoices: purchases, returns, cancellation; numbered in time order -------------
    inv_ts = np.concatenate([p_ts, r_ts, c_ts])
    inv_rows = np.concatenate(
        [
            n_lines + n_extra + dups_per_order,
            1 + np.bincount(dup_r, minlength=n_r),
            np.ones(n_c, dtype=np.int64),
        ]
    )
    del p_ts, n_extra
    n_inv = inv_ts.size
    by_time = np.argsort(inv_ts, kind="stable")
    rows_sorted = inv_rows[by_time]
    del inv_rows
    first_row = np.empty(n_inv, dtype=np.int64)
    first_row[by_time] = np.cumsum(rows_sorted) - rows_sorted
    n_rows = int(rows_sorted.sum())

    # --- where each line goes --------------------------------------------------------------
    # A product line goes to its order's first row + its place in the order + the number
    # of duplicated lines before it in the order (a duplicate follows its original).
    dups_before = np.zeros(n_l + 1, dtype=np.int32)
    dups_before[dup_l + 1] = 1
    np.cumsum(dups_before, out=dups_before)
    row_type = np.int32 if n_rows < 2**31 else np.int64
    order_shift = (first_row[:n_p] - l_start - dups_before[l_start]).astype(row_type)
    l_rows = np.repeat(order_shift, n_lines)
    l_rows += np.arange(n_l, dtype=row_type)
    l_rows += dups_before[:-1]
    del dups_before, order_shift
    row_parts = [
        l_rows,
        l_rows[dup_l] + 1,
        *(
            first_row[events] + n_lines[events] + dups_per_order[events] + rank
            for events, rank in zip(extra_ev, extra_rank, strict=True)
        ),
        first_row[n_p : n_p + n_r],
        first_row[n_p : n_p + n_r][dup_r] + 1,
        first_row[n_p + n_r :],
    ]
    del l_rows, first_row, extra_ev, extra_rank

    # Per column: dtype, product lines, non-product lines, returns, cancellation.  Each
    # column's sources are dropped as soon as it is placed, to keep the peak low.
    no_discount = [np.zeros(part.size, dtype=np.int8) for part in extra_prod]
    sources: list[tuple[Any, np.ndarray, list[np.ndarray], np.ndarray, np.ndarray]] = [
        (np.int16, l_prod, extra_prod, r_prod, c_prod),
        (np.int32, l_qty, extra_qty, r_qty, -c_qty),
        (np.float64, l_price, extra_price, r_price, c_price),
        (np.int8, l_disc, no_discount, r_disc, np.zeros(n_c, dtype=np.int8)),
    ]
    del l_prod, l_qty, l_price, l_disc
    placed = []
    while sources:
        dtype, lines, extras, returns, cancel = sources.pop(0)
        parts = [lines, lines[dup_l], *extras, returns, returns[dup_r], cancel]
        del lines
        placed.append(_place(n_rows, dtype, row_parts, parts))
        del parts
    product, quantity, price, discount = placed
    del row_parts, placed

    # --- per invoice, in time order ------------------------------------------------------
    numbers = pc.cast(pa.array(first_invoice + np.arange(n_inv)), _STR)
    is_c = pa.array(by_time >= n_p)
    customer_no = pc.cast(pa.array(id_offset + 1 + np.arange(n)), _STR)
    return _Chunk(
        row_invoice=np.repeat(np.arange(n_inv, dtype=np.int32), rows_sorted),
        product=product,
        quantity=quantity,
        price=price,
        discount=discount,
        invoice_no=pc.if_else(is_c, _prefixed(numbers, "C"), numbers),
        invoice_ts=inv_ts[by_time],
        invoice_customer=np.concatenate([p_cust, p_cust[ret], p_cust[c_ev]])[by_time],
        invoice_channel=np.concatenate([p_chan, p_chan[ret], p_chan[c_ev]])[by_time],
        invoice_country=np.concatenate([p_country, p_country[ret], p_country[c_ev]])[by_time],
        customer_id=_prefixed(pc.utf8_lpad(customer_no, width=options.id_width, padding="0"), "C"),
        archetype=arch,
    )


# ---------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------
def _check_count(value: Any, name: str, *, minimum: int) -> int:
    """``value`` as an int of at least ``minimum``, else :class:`UsageError`."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise UsageError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise UsageError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _day(value: Any, name: str) -> int:
    """A date as whole days since 1970-01-01 (any time of day is dropped)."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{name} is not a date: {value!r}") from exc
    if stamp is pd.NaT:
        raise UsageError(f"{name} is not a date: {value!r}")
    return int(np.datetime64(stamp.date(), "D").astype(np.int64))


def _archetype_probs(weights: Mapping[str, float] | None) -> np.ndarray:
    """Normalised archetype shares from ``weights`` (names missing from it get 0)."""
    if weights is None:
        weights = DEFAULT_WEIGHTS
    unknown = sorted(set(weights) - set(ARCHETYPES))
    if unknown:
        raise UsageError(f"unknown archetype {unknown[0]!r} in weights; known: {ARCHETYPES}")
    probs = np.array([float(weights.get(name, 0.0)) for name in ARCHETYPES])
    if not np.all(np.isfinite(probs)) or np.any(probs < 0) or probs.sum() <= 0:
        raise UsageError(f"weights must be finite, >= 0 and not all 0, got {dict(weights)}")
    return probs / probs.sum()


def _options(
    n_customers: int,
    start: Any,
    end: Any,
    dirty: bool,
    weights: Mapping[str, float] | None,
) -> _Options:
    start_day, end_day = _day(start, "start"), _day(end, "end")
    if end_day < start_day:
        raise UsageError(f"end ({end}) is before start ({start})")
    return _Options(
        start_day=start_day,
        n_days=end_day - start_day + 1,
        dirty=bool(dirty),
        probs=_archetype_probs(weights),
        id_width=max(6, len(str(n_customers))),
    )


def _chunk_seeds(seed: Any, n_chunks: int) -> list[np.random.SeedSequence]:
    """Independent seeds of the chunks; chunk ``i`` gets the same seed whatever their number."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise UsageError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.SeedSequence(int(seed)).spawn(n_chunks)


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
    n = _check_count(n_customers, "n_customers", minimum=0)
    options = _options(n, start, end, dirty, weights)
    (chunk_seed,) = _chunk_seeds(seed, 1)
    chunk = _generate(
        n, chunk_seed, options, id_offset=0, first_invoice=_FIRST_INVOICE, absurd=True
    )
    frame = chunk.table().to_pandas()
    if not return_truth:
        return frame
    return frame, chunk.truth().to_pandas()


def write_transactions(
    path: str | os.PathLike[str],
    n_customers: int,
    *,
    chunk_customers: int = 200_000,
    **kwargs: Any,
) -> int:
    """Generate a transaction log chunk by chunk straight into a Parquet or CSV file.

    Only one chunk of customers is in memory at a time, and its strings only a slice
    of rows at a time, so logs far larger than memory can be written.  Memory grows with
    ``chunk_customers``: about 50 rows per customer with the default mix and period, and
    some 60 bytes per row of the chunk at the peak (about 0.6 GB above the imports for
    the default 200,000 customers; use smaller chunks to use less).

    Chunk ``i`` gets its own seed (child ``i`` of ``numpy.random.SeedSequence(seed)``),
    the customers ``i * chunk_customers + 1 ...`` and invoice numbers following the
    previous chunk's.  Rows are in time order within a chunk, not across chunks.  The
    absurd-quantity line is planted in the first chunk only.  With a single chunk the
    file holds exactly ``make_transactions(n_customers, **kwargs)``.

    Parameters
    ----------
    path : str or os.PathLike
        Output file, replaced if it exists; ``.parquet`` / ``.pq`` writes Parquet (one or
        more row groups per chunk), ``.csv`` writes CSV with a header (dates as
        ``YYYY-MM-DD HH:MM:SS``, missing ``CustomerID`` empty).
    n_customers : int
        Number of customers.
    chunk_customers : int, default 200_000
        Customers per chunk.
    **kwargs
        ``start``, ``end``, ``seed``, ``dirty`` and ``weights`` as for
        :func:`make_transactions`.

    Returns
    -------
    int
        Number of rows written.

    Raises
    ------
    segmint.errors.UsageError
        An unknown file extension, bad counts, or bad generator arguments.
    TypeError
        An argument :func:`make_transactions` does not take.
    """
    allowed = {"start", "end", "seed", "dirty", "weights"}
    if kwargs.get("return_truth"):
        raise UsageError("write_transactions writes the log only; return_truth is not allowed")
    kwargs.pop("return_truth", None)
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise TypeError(f"write_transactions() got an unexpected keyword argument {unknown[0]!r}")
    n = _check_count(n_customers, "n_customers", minimum=0)
    chunk = _check_count(chunk_customers, "chunk_customers", minimum=1)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".parquet", ".pq", ".csv"}:
        raise UsageError(f"cannot write {path}: the extension must be .parquet, .pq or .csv")
    defaults = {"start": "2023-01-01", "end": "2024-12-31", "dirty": True, "weights": None}
    args = {**defaults, **{k: v for k, v in kwargs.items() if k != "seed"}}
    options = _options(n, args["start"], args["end"], args["dirty"], args["weights"])
    n_chunks = max(1, math.ceil(n / chunk))
    seeds = _chunk_seeds(kwargs.get("seed", 0), n_chunks)

    if suffix == ".csv":
        csv_schema = _SCHEMA.set(
            _SCHEMA.get_field_index("InvoiceDate"), pa.field("InvoiceDate", pa.timestamp("s"))
        )
        writer: Any = pa_csv.CSVWriter(path, csv_schema)
    else:
        csv_schema = None
        writer = pq.ParquetWriter(path, _SCHEMA)
    rows = 0
    invoice = _FIRST_INVOICE
    try:
        for i, chunk_seed in enumerate(seeds):
            size = min(chunk, n - i * chunk) if n else 0
            part = _generate(
                size,
                chunk_seed,
                options,
                id_offset=i * chunk,
                first_invoice=invoice,
                absurd=i == 0,
            )
            invoice += part.n_invoices
            # Strings take most of the memory: build them a slice of rows at a time.
            for lo in range(0, max(part.n_rows, 1), _WRITE_ROWS):
                table = part.table(lo, lo + _WRITE_ROWS)
                if csv_schema is not None:
                    table = table.cast(csv_schema)
                writer.write_table(table)
                rows += table.num_rows
                del table
            del part
    except BaseException:
        writer.close()
        path.unlink(missing_ok=True)
        raise
    writer.close()
    return rows
