"""The feature spec: which columns play which role and which feature families to compute.

A spec can be written by hand (TOML or YAML, see :func:`parse_spec`), built in Python, or
left out: every field that is not given is detected from the data.  The engine turns it
into a *resolved* spec -- every column named, every data-dependent choice made (the
channel levels, whether timestamps carry a time of day, the unit of the discount column)
-- which is what a fitted model stores, with its hash, so that ``assign`` recomputes the
features exactly the same way.

File layout (every section and key is optional)::

    [columns]               # the log's column names
    customer = "CustomerID"
    time = "InvoiceDate"
    order = "InvoiceNo"
    quantity = "Quantity"   # with price; or amount = "LineTotal"
    price = "UnitPrice"
    product = "StockCode"
    category = "Category"
    channel = "Channel"
    discount = "Discount"

    [features]
    families = ["rfm", "consistency", "trend"]   # see FAMILIES
    trend_days = 90
    windows = [30, 365]
    peak_months = [11, 12]                       # default: the shop's top two months
    hour_profile = "auto"                        # or true / false
    channels = ["web", "app", "store"]           # default: the 5 most used
    discount_unit = "auto"                       # rate, percent or amount

    [cleaning]
    non_product_codes = ["POST", "DOT", "M"]       # replaces the default list
    extra_non_product_codes = ["GIFTWRAP"]         # added to it
    cancellation_prefixes = ["C"]
    adjustment_prefixes = ["A"]
    absurd_quantity = 10000                        # 0 switches the check off
    void_same_day_cancellations = true
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from segmint.errors import UsageError
from segmint.features.vocabulary import name_key, spellings

FAMILIES: tuple[str, ...] = (
    "rfm",
    "consistency",
    "velocity",
    "trend",
    "seasonality",
    "timing",
    "breadth",
    "returns",
    "discount",
    "channel",
    "windows",
)
"""Every feature family, in output order (definitions in :mod:`segmint.features.families`)."""

FIT_FAMILIES: tuple[str, ...] = ("rfm", "consistency", "trend", "seasonality", "discount")
"""Families ``fit`` uses when the spec names none (those whose columns exist).

RFM plus the families that separate the generator's planted archetypes better without
drowning RFM: see the README section "Features from a transaction log"."""

NEEDS: dict[str, tuple[str, ...]] = {
    "breadth": ("product",),
    "discount": ("discount",),
    "channel": ("channel",),
}
"""Columns a family cannot do without (the others need only customer, time and value)."""

DEFAULT_NON_PRODUCT_CODES: tuple[str, ...] = (
    "POST", "DOT", "M", "C2", "D", "S", "B", "BANK CHARGES", "AMAZONFEE", "CRUK",
    "ADJUST", "ADJUST2", "PADS", "CARRIAGE", "POSTAGE", "FEE", "SHIPPING",
)  # fmt: skip
"""Product codes of lines that are not a product (postage, manual, fees, discounts, ...).

Compared case-insensitively with the product column.  Those of UCI Online Retail: POST
and DOT (postage), M (manual), C2 (carriage), D (discount), S (samples), B (bad debt),
BANK CHARGES, AMAZONFEE, CRUK (commission), PADS (a 0.001 placeholder)."""

COLUMN_ROLES: tuple[str, ...] = (
    "customer", "time", "order", "amount", "quantity", "price",
    "product", "category", "channel", "discount",
)  # fmt: skip

_DISCOUNT_UNITS = ("auto", "rate", "percent", "amount")
_FEATURE_KEYS = (
    "families", "trend_days", "windows", "peak_months", "hour_profile", "channels", "discount_unit",
)  # fmt: skip
_CLEANING_KEYS = (
    "non_product_codes", "extra_non_product_codes", "cancellation_prefixes",
    "adjustment_prefixes", "absurd_quantity", "void_same_day_cancellations",
)  # fmt: skip

_PRODUCT_NAMES = spellings("product")  # every language of the vocabulary table
_CATEGORY_NAMES = (
    "category", "productcategory", "categoryname", "department", "dept", "productline",
    "producttype", "itemcategory", "productgroup", "family",
)  # fmt: skip
_CHANNEL_NAMES = spellings("channel")
_DISCOUNT_NAMES = (
    "discount", "discountrate", "discountpct", "discountpercent", "discountamount",
    "promodiscount", "markdown",
)  # fmt: skip


@dataclass(frozen=True)
class FeatureSpec:
    """Columns, feature families and cleaning rules for a transaction log.

    Every field left as ``None`` is detected from the data (columns) or decided by the
    engine (``families``, ``hour_profile``, ``channels``, ``discount_unit``).

    Attributes
    ----------
    customer, time, order, amount, quantity, price, product, category, channel, discount
        Column names.  A line's value is ``amount``, or ``quantity * price``.
    families : tuple of str, optional
        Feature families to compute (names from :data:`FAMILIES`).
    trend_days : int
        Length of the two windows compared by the ``trend`` family (default 90).
    windows : tuple of int
        ``N`` of the ``windows`` family's last-N-days variants (default 90 and 365).
    peak_months : tuple of int, optional
        Months of the year (1-12) of the shop's peak season for ``seasonality``;
        default: the two months with the most spend in the log.
    hour_profile : bool, optional
        Add the time-of-day shares to ``timing``; default: when timestamps carry a time.
    channels : tuple of str, optional
        Channel levels that get a share column; default: the 5 with most orders.
    discount_unit : {"auto", "rate", "percent", "amount"}
        What the discount column holds: a share of the list price (0.2), a percentage
        (20) or money taken off the line; ``auto`` decides from the largest value.
    non_product_codes : tuple of str
        Product codes that are not products (case-insensitive).
    cancellation_prefixes : tuple of str
        An order id starting with one of these is a cancellation (default ``C``).
    adjustment_prefixes : tuple of str
        An order id starting with one of these is an adjustment, not a sale (``A``).
    absurd_quantity : float
        Lines with at least this many units (in absolute value) are set aside as absurd
        unless cancelled in full the same day (then both are void); 0 turns it off.
    void_same_day_cancellations : bool
        A line cancelled in full the same day is no purchase and its cancellation no
        return.
    """

    customer: str | None = None
    time: str | None = None
    order: str | None = None
    amount: str | None = None
    quantity: str | None = None
    price: str | None = None
    product: str | None = None
    category: str | None = None
    channel: str | None = None
    discount: str | None = None
    families: tuple[str, ...] | None = None
    trend_days: int = 90
    windows: tuple[int, ...] = (90, 365)
    peak_months: tuple[int, ...] | None = None
    hour_profile: bool | None = None
    channels: tuple[str, ...] | None = None
    discount_unit: str = "auto"
    non_product_codes: tuple[str, ...] = DEFAULT_NON_PRODUCT_CODES
    cancellation_prefixes: tuple[str, ...] = ("C",)
    adjustment_prefixes: tuple[str, ...] = ("A",)
    absurd_quantity: float = 10_000.0
    void_same_day_cancellations: bool = True
    _given: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in self.families or ():
            if name not in FAMILIES:
                raise UsageError(
                    f"feature spec: unknown family {name!r}; known: {', '.join(FAMILIES)}"
                )
        if self.trend_days < 1:
            raise UsageError(f"feature spec: trend_days must be at least 1, got {self.trend_days}")
        if any(n < 1 for n in self.windows):
            raise UsageError(
                f"feature spec: windows must be positive numbers of days, got {list(self.windows)}"
            )
        if self.peak_months is not None and (
            not self.peak_months or any(not 1 <= m <= 12 for m in self.peak_months)
        ):
            raise UsageError(
                f"feature spec: peak_months must be months 1-12, got {list(self.peak_months)}"
            )
        if self.discount_unit not in _DISCOUNT_UNITS:
            raise UsageError(
                f"feature spec: discount_unit must be one of {', '.join(_DISCOUNT_UNITS)}, "
                f"got {self.discount_unit!r}"
            )
        if self.absurd_quantity < 0:
            raise UsageError(
                f"feature spec: absurd_quantity must be >= 0, got {self.absurd_quantity}"
            )
        if self.amount is not None and (self.quantity is not None or self.price is not None):
            raise UsageError("feature spec: give amount, or quantity and price, not both")

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        """The spec as nested JSON-ready sections (``columns``, ``features``, ``cleaning``)."""
        return {
            "columns": {role: getattr(self, role) for role in COLUMN_ROLES},
            "features": {
                "families": None if self.families is None else list(self.families),
                "trend_days": self.trend_days,
                "windows": list(self.windows),
                "peak_months": None if self.peak_months is None else list(self.peak_months),
                "hour_profile": self.hour_profile,
                "channels": None if self.channels is None else list(self.channels),
                "discount_unit": self.discount_unit,
            },
            "cleaning": {
                "non_product_codes": list(self.non_product_codes),
                "cancellation_prefixes": list(self.cancellation_prefixes),
                "adjustment_prefixes": list(self.adjustment_prefixes),
                "absurd_quantity": self.absurd_quantity,
                "void_same_day_cancellations": self.void_same_day_cancellations,
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "feature spec") -> FeatureSpec:
        """Build a spec from nested sections as written by :meth:`to_dict` or a spec file.

        Raises
        ------
        UsageError
            An unknown section or key, or a value of the wrong kind.
        """
        if not isinstance(data, dict):
            raise UsageError(f"{source}: expected a table of sections, got {type(data).__name__}")
        unknown = sorted(set(data) - {"columns", "features", "cleaning"})
        if unknown:
            raise UsageError(
                f"{source}: unknown section {unknown[0]!r} (columns, features, cleaning)"
            )
        kwargs: dict[str, Any] = {}
        given: set[str] = set()
        columns = _section(data, "columns", COLUMN_ROLES, source)
        for role, value in columns.items():
            if value is not None and not isinstance(value, str):
                raise UsageError(f"{source}: columns.{role} must be a column name (text)")
            kwargs[role] = value
            given.add(role)
        features = _section(data, "features", _FEATURE_KEYS, source)
        if features.get("families") is not None:
            kwargs["families"] = tuple(_strings(features["families"], "features.families", source))
        if "trend_days" in features:
            kwargs["trend_days"] = _integer(features["trend_days"], "features.trend_days", source)
        if "windows" in features:
            values = features["windows"]
            if not isinstance(values, list):
                raise UsageError(f"{source}: features.windows must be a list of numbers of days")
            kwargs["windows"] = tuple(_integer(v, "features.windows", source) for v in values)
        if features.get("peak_months") is not None:
            values = features["peak_months"]
            if not isinstance(values, list):
                raise UsageError(f"{source}: features.peak_months must be a list of months (1-12)")
            kwargs["peak_months"] = tuple(
                _integer(v, "features.peak_months", source) for v in values
            )
        hour = features.get("hour_profile")
        if hour is not None and hour != "auto":
            if not isinstance(hour, bool):
                raise UsageError(f'{source}: features.hour_profile must be true, false or "auto"')
            kwargs["hour_profile"] = hour
        if features.get("channels") is not None:
            kwargs["channels"] = tuple(_strings(features["channels"], "features.channels", source))
        if "discount_unit" in features:
            kwargs["discount_unit"] = str(features["discount_unit"])
        cleaning = _section(data, "cleaning", _CLEANING_KEYS, source)
        codes = DEFAULT_NON_PRODUCT_CODES
        if "non_product_codes" in cleaning:
            codes = tuple(
                _strings(cleaning["non_product_codes"], "cleaning.non_product_codes", source)
            )
        extra = _strings(
            cleaning.get("extra_non_product_codes", []), "cleaning.extra_non_product_codes", source
        )
        kwargs["non_product_codes"] = tuple(dict.fromkeys([*codes, *extra]))
        for key in ("cancellation_prefixes", "adjustment_prefixes"):
            if key in cleaning:
                kwargs[key] = tuple(_strings(cleaning[key], f"cleaning.{key}", source))
        if "absurd_quantity" in cleaning:
            value = cleaning["absurd_quantity"]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise UsageError(f"{source}: cleaning.absurd_quantity must be a number")
            kwargs["absurd_quantity"] = float(value)
        if "void_same_day_cancellations" in cleaning:
            value = cleaning["void_same_day_cancellations"]
            if not isinstance(value, bool):
                raise UsageError(
                    f"{source}: cleaning.void_same_day_cancellations must be true or false"
                )
            kwargs["void_same_day_cancellations"] = value
        return cls(**kwargs, _given=frozenset(given))

    def fingerprint(self) -> str:
        """SHA-256 of the spec's JSON form, 16 hex digits: equal specs, equal hashes."""
        payload = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    # ------------------------------------------------------------------ helpers
    def value_columns(self) -> tuple[str, ...]:
        """The column(s) a line's value comes from."""
        if self.amount is not None:
            return (self.amount,)
        return tuple(c for c in (self.quantity, self.price) if c is not None)

    def used_columns(self) -> list[str]:
        """Every column the spec names, once, in role order."""
        names = [getattr(self, role) for role in COLUMN_ROLES]
        return list(dict.fromkeys(n for n in names if n is not None))

    def available_families(self, families: tuple[str, ...] | None = None) -> tuple[str, ...]:
        """``families`` (default: this spec's, else all) minus those whose columns are absent."""
        wanted = families if families is not None else (self.families or FAMILIES)
        if self.families is not None and families is None:
            return tuple(wanted)
        return tuple(
            f for f in FAMILIES
            if f in wanted and all(getattr(self, col) is not None for col in NEEDS.get(f, ()))
        )  # fmt: skip

    def with_columns(self, **columns: str | None) -> FeatureSpec:
        """A copy with some columns set (only those this spec does not name already)."""
        updates: dict[str, Any] = {
            k: v for k, v in columns.items() if getattr(self, k) is None and k not in self._given
        }
        return replace(self, **updates)


def _section(data: dict[str, Any], name: str, keys: tuple[str, ...], source: str) -> dict[str, Any]:
    section = data.get(name) or {}
    if not isinstance(section, dict):
        raise UsageError(f"{source}: [{name}] must be a table of keys")
    unknown = sorted(set(section) - set(keys))
    if unknown:
        raise UsageError(f"{source}: unknown key {name}.{unknown[0]} (known: {', '.join(keys)})")
    return dict(section)


def _strings(values: Any, where: str, source: str) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise UsageError(f"{source}: {where} must be a list of text values")
    return list(values)


def _integer(value: Any, where: str, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{source}: {where} must be a whole number, got {value!r}")
    return value


def parse_spec(text: str, *, fmt: str = "toml", source: str = "feature spec") -> FeatureSpec:
    """Read a spec written in TOML (``fmt="toml"``) or YAML (``fmt="yaml"``).

    Raises
    ------
    UsageError
        The text is not valid TOML / YAML, or does not describe a spec.

    Examples
    --------
    >>> spec = parse_spec('[columns]\\ncustomer = "client"\\n[features]\\nfamilies = ["rfm"]')
    >>> spec.customer, spec.families
    ('client', ('rfm',))
    """
    if fmt == "toml":
        try:
            data: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(f"{source}: not valid TOML ({exc})") from exc
    elif fmt == "yaml":
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            where = getattr(exc, "problem_mark", None)
            line = f" at line {where.line + 1}" if where is not None else ""
            raise UsageError(f"{source}: not valid YAML{line}") from exc
        data = {} if data is None else data
    else:
        raise UsageError(f"{source}: unknown spec format {fmt!r} (toml or yaml)")
    return FeatureSpec.from_dict(data, source=source)


def _find(
    frame: pd.DataFrame, names: tuple[str, ...], taken: set[str], *, numeric: bool
) -> str | None:
    for wanted in names:
        for col in frame.columns:
            if col in taken or name_key(col) != wanted:
                continue
            if numeric and not pd.api.types.is_numeric_dtype(frame[col]):
                continue
            return str(col)
    return None


def detect_extra_columns(frame: pd.DataFrame, taken: set[str]) -> dict[str, str | None]:
    """Find product, category, channel and discount columns by name.

    Parameters
    ----------
    frame : DataFrame
        The log (or a sample of it), typed.
    taken : set of str
        Columns already playing a role.

    Returns
    -------
    dict
        ``product``, ``category``, ``channel``, ``discount`` -> column name or None.
    """
    found: dict[str, str | None] = {}
    used = set(taken)
    for role, names, numeric in (
        ("product", _PRODUCT_NAMES, False),
        ("category", _CATEGORY_NAMES, False),
        ("channel", _CHANNEL_NAMES, False),
        ("discount", _DISCOUNT_NAMES, True),
    ):
        col = _find(frame, names, used, numeric=numeric)
        found[role] = col
        if col is not None:
            used.add(col)
    return found
