"""Fixed tables of the generator: archetypes, behaviour rates, calendar, product catalogue."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

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

STR = pa.large_string()
SCHEMA = pa.schema(
    [
        ("InvoiceNo", STR),
        ("StockCode", STR),
        ("Description", STR),
        ("Category", STR),
        ("Quantity", pa.int64()),
        ("InvoiceDate", pa.timestamp("ns")),
        ("UnitPrice", pa.float64()),
        ("Discount", pa.float64()),
        ("Channel", STR),
        ("CustomerID", STR),
        ("Country", STR),
    ]
)
TRUTH_SCHEMA = pa.schema([("CustomerID", STR), ("archetype", STR)])

# ---------------------------------------------------------------------------------------
# Behaviour tables.  Rows 0-5 follow ARCHETYPES; row 6 is anonymous guest orders; the
# product tables have a row 7 for "a Christmas product" (drawn in Nov-Dec).
# ---------------------------------------------------------------------------------------
LOYAL, _BARGAIN, NEW, LAPSING, ONE_OFF, _GIFTER, GUEST, _XMAS = range(8)

ANNUAL_ORDERS = np.array([24.0, 5.5, 0.0, 15.0, 0.0, 1.5])  # Poisson rate, orders/year
MIN_ORDERS = np.array([2, 2, 1, 3, 1, 1])
LINES_MEAN = np.array([4.0, 2.2, 2.8, 3.0, 1.4, 3.2, 2.0])  # product lines per order
MAX_LINES = 40
P_RETURN = np.array([0.02, 0.07, 0.05, 0.05, 0.04, 0.08, 0.0])  # per order
_P_DISCOUNT = np.array([0.02, 0.45, 0.08, 0.06, 0.08, 0.05, 0.05])  # per line, normal days
_P_DISCOUNT_SALE = np.array([0.15, 0.90, 0.45, 0.40, 0.45, 0.35, 0.40])  # per line, sale
_DISCOUNT_LEVELS = np.array([0.05, 0.10, 0.15, 0.20])
_SALE_DISCOUNT_LEVELS = np.array([0.20, 0.25, 0.30, 0.40, 0.50])
_P_XMAS_PRODUCT = np.array([0.20, 0.20, 0.25, 0.25, 0.25, 0.50, 0.25])  # Nov-Dec lines
# Day-density profile per archetype: 0 ordinary seasonality, 1 sale periods, 2 gifting.
DAY_PROFILE = np.array([0, 1, 0, 0, 0, 2])

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

CHANNELS = ("web", "app", "store")
CHANNEL_WEIGHTS = np.array(
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
P_PREFERRED_CHANNEL = 0.8
HOUR_WEIGHTS = np.array(
    [  # 0h .. 23h
        [0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.5, 2.0, 2.5, 2.8, 3.2, 3.0, 2.8, 2.6,
         2.6, 2.8, 3.2, 3.6, 3.8, 3.4, 2.4, 1.2],  # web
        [0.5, 0.3, 0.1, 0.1, 0.1, 0.2, 0.6, 1.4, 1.8, 1.6, 1.6, 1.8, 2.6, 2.4, 1.8, 1.8,
         2.0, 2.6, 3.2, 3.8, 4.2, 4.0, 3.0, 1.6],  # app
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 2.8, 3.2, 3.4, 3.0, 3.0,
         3.2, 2.6, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # store, 9h-17h
    ]
)  # fmt: skip

HOME_COUNTRY = 0
COUNTRIES = (
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
COUNTRY_P = np.array(
    [0.82, 0.035, 0.03, 0.02, 0.015, 0.015, 0.01, 0.01, 0.008, 0.007,
     0.006, 0.006, 0.006, 0.005, 0.007]
)  # fmt: skip

# Calendar: relative demand per month (Jan..Dec), per weekday (Mon..Sun).
_MONTH_DEMAND = np.array([0.85, 0.8, 0.9, 0.9, 0.95, 0.9, 0.9, 0.9, 1.0, 1.1, 1.45, 1.55])
_WEEKDAY_DEMAND = np.array([1.0, 1.0, 1.0, 1.05, 1.0, 0.75, 0.9])
_SALE_BOOST = 9.0  # bargain hunters' demand on sale days relative to other days
_GIFT_OFF_SEASON = 0.04  # gifters' demand outside 15 Nov - 22 Dec relative to inside

# Dirt rates (dirty=True).
GUEST_ROW_SHARE = 0.05
P_DUPLICATE = 0.005
P_ZERO_PRICE = 0.0005
P_POSTAGE_HOME, P_POSTAGE_ABROAD = 0.002, 0.15
POSTAGE_PRICES = np.array([15.0, 18.0, 28.0, 40.0])
P_MANUAL, P_BANK_CHARGES = 0.0005, 0.0002

FIRST_INVOICE = 500_001
WRITE_ROWS = 1 << 18  # rows turned into Arrow and written at a time
RECENT_DAYS = 90  # new customers start within the last 90 days of the period
LOYAL_RECENT_DAYS = 30  # every loyal customer orders within the last 30 days
DAY_NS = 86_400 * 10**9
MINUTE_NS = 60 * 10**9

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
DISCOUNT_VALUES = np.array([0.0, 0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50])
RES_BITS = 16  # lookup-table samplers draw with a resolution of 2**-16
RES = 1 << RES_BITS


def _cumulative_rows(weights: np.ndarray) -> np.ndarray:
    """Row-wise cumulative shares of a 2-D weight matrix; the last column is exactly 1."""
    cdf = np.cumsum(np.asarray(weights, dtype=np.float64), axis=1)
    cdf /= cdf[:, -1:]
    cdf[:, -1] = 1.0
    return cdf


def lookup_table(weights: np.ndarray) -> np.ndarray:
    """Flat sampling table: ``table[(g << RES_BITS) | u]`` is an item drawn with row g.

    Parameters
    ----------
    weights : numpy.ndarray
        ``(n_groups, n_items)`` non-negative weights; each row has a positive sum.

    Returns
    -------
    numpy.ndarray
        ``n_groups * 2**RES_BITS`` item indices (``int16``); item ``i`` of row ``g``
        fills a share of the row within ``2**-RES_BITS`` of its weight share, and an
        item of weight 0 never appears.
    """
    cdf = _cumulative_rows(np.atleast_2d(weights))
    middle = (np.arange(RES) + 0.5) / RES
    table: np.ndarray = np.stack([np.searchsorted(row, middle, side="right") for row in cdf])
    table = np.minimum(table, cdf.shape[1] - 1).astype(np.int16).ravel()
    table.setflags(write=False)
    return table


@dataclass(frozen=True)
class _Catalogue:
    """Products, three non-product codes at the end, and the per-line sampling tables.

    The sampling tables are indexed by a line code ``(profile * 2 + sale) * 2 + xmas``
    shifted left by ``RES_BITS``, OR-ed with a uniform 16-bit number.
    """

    stock_code: pa.Array
    description: pa.Array
    category: pa.Array
    list_price: np.ndarray  # of the real products only
    n_products: int
    product_table: np.ndarray  # line code -> product
    quantity_table: np.ndarray  # line code -> units
    discount_table: np.ndarray  # line code -> index into DISCOUNT_VALUES
    price_table: np.ndarray  # product * len(DISCOUNT_VALUES) + discount -> price paid
    cheap: np.ndarray  # products under 3.00, for the absurd order
    post: int
    manual: int
    bank_charges: int


@functools.cache
def product_catalogue() -> _Catalogue:
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
    price: np.ndarray = _MEDIAN_PRICE[category] * rng.lognormal(0.0, 0.55, size=n_products)
    price = np.round(np.maximum(np.round(price * 20) / 20 - 0.01, 0.19), 2)  # 2.95, 4.19 ...
    popularity = rng.lognormal(0.0, 1.0, size=n_products)
    taste = popularity * price ** _PRICE_TILT[:, None] * _CATEGORY_TASTE[:, category]
    taste /= taste.sum(axis=1, keepdims=True)

    product_rows, quantity_rows, discount_rows = [], [], []
    n_values = DISCOUNT_VALUES.size
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
                row[np.searchsorted(DISCOUNT_VALUES, levels)] += p_any / levels.size
                discount_rows.append(row)
    paid = np.round(price[:, None] * (1.0 - DISCOUNT_VALUES[None, :]), 2).ravel()
    paid.setflags(write=False)

    specials = [("POST", "POSTAGE"), ("M", "Manual"), ("BANK CHARGES", "Bank Charges")]
    codes += [code for code, _ in specials]
    descriptions += [desc for _, desc in specials]
    categories = [_CATEGORIES[c] for c in category.tolist()] + [_SERVICE_CATEGORY] * 3
    price.setflags(write=False)
    cheap = np.flatnonzero(price < 3.0)
    return _Catalogue(
        stock_code=pa.array(codes, type=STR),
        description=pa.array(descriptions, type=STR),
        category=pa.array(categories, type=STR),
        list_price=price,
        n_products=n_products,
        product_table=lookup_table(np.array(product_rows)),
        quantity_table=_QTY_VALUES.astype(np.int32)[lookup_table(np.array(quantity_rows))],
        discount_table=lookup_table(np.array(discount_rows)),
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
def demand_calendar(start_day: int, n_days: int) -> _Calendar:
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
