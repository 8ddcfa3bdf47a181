"""Which column is what: customer id, timestamp, amount, quantity, price, order id.

Detection works on column names first (the vocabulary of shop, CRM and billing exports)
and on content second (uniqueness, dtype). Every role can be given explicitly instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from segmint.errors import DataError, UsageError

InputKind = Literal["customers", "transactions"]

_CUSTOMER_WORDS = ("customer", "client", "user", "member", "account", "buyer", "shopper", "cust")
_ID_WORDS = ("id", "no", "nr", "num", "number", "code", "key", "ref")
_TIME_WORDS = ("date", "time", "timestamp", "datetime", "day", "created", "ordered", "purchased")
_AMOUNT_NAMES = (
    "amount", "total", "revenue", "sales", "spend", "spent", "value", "linetotal",
    "totalprice", "totalamount", "netamount", "grossamount", "ordervalue", "payment", "sale",
)  # fmt: skip
_QUANTITY_NAMES = ("quantity", "qty", "units", "unitssold", "items", "count", "pieces")
_PRICE_NAMES = ("price", "unitprice", "unitcost", "itemprice", "priceeach", "rate")
_ORDER_NAMES = (
    "invoice", "invoiceno", "invoiceid", "invoicenumber", "order", "orderid", "orderno",
    "ordernumber", "transaction", "transactionid", "receipt", "receiptid", "basket",
    "basketid", "ticket", "ticketid",
)  # fmt: skip


def _key(name: str) -> str:
    """Lower-case a column name and keep letters and digits only ("Customer ID" -> "customerid")."""
    return re.sub(r"[^0-9a-z]", "", str(name).lower())


@dataclass(frozen=True)
class ColumnRoles:
    """The columns that play a role in deriving customer features.

    Attributes
    ----------
    kind : {"customers", "transactions"}
        One row per customer, or a log of purchases to aggregate.
    customer : str or None
        The customer id column; None for a customer table without one, where the
        1-based row number is the id.
    time, amount, quantity, price, order : str or None
        Transaction-log columns; ``amount`` is used when present, otherwise
        ``quantity * price``. ``order`` groups lines into orders (invoices).
    """

    kind: InputKind
    customer: str | None
    time: str | None = None
    amount: str | None = None
    quantity: str | None = None
    price: str | None = None
    order: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """The roles as a JSON-ready mapping."""
        return {
            "kind": self.kind,
            "customer": self.customer,
            "time": self.time,
            "amount": self.amount,
            "quantity": self.quantity,
            "price": self.price,
            "order": self.order,
        }

    @classmethod
    def from_dict(cls, data: dict[str, str | None]) -> ColumnRoles:
        """Inverse of :meth:`to_dict`."""
        kind = data["kind"]
        if kind not in ("customers", "transactions"):
            raise ValueError(f"unknown input kind {kind!r}")
        return cls(
            kind="customers" if kind == "customers" else "transactions",
            customer=None if data.get("customer") is None else str(data["customer"]),
            time=data.get("time"),
            amount=data.get("amount"),
            quantity=data.get("quantity"),
            price=data.get("price"),
            order=data.get("order"),
        )


def _customer_score(name: str) -> int:
    key = _key(name)
    if not key:
        return 0
    for word in _CUSTOMER_WORDS:
        if key == word:
            return 3
        if key.startswith(word) and key[len(word) :] in _ID_WORDS:
            return 4
        if word in key and any(key.endswith(w) for w in _ID_WORDS):
            return 2
    if key in ("id", "uid", "uuid", "guid"):
        return 1
    return 0


def _find_customer_column(frame: pd.DataFrame) -> str | None:
    scored = [(col, _customer_score(col)) for col in frame.columns]
    best = max((score for _, score in scored), default=0)
    if best > 0:
        tied = [col for col, score in scored if score == best]
        # Among equally good names prefer the column with most distinct values.
        return str(
            max(tied, key=lambda c: (frame[c].nunique(dropna=True), -list(frame.columns).index(c)))
        )
    # No telling name: the first text column whose values are unique and present, or an
    # integer column counting 1, 2, 3, ... (a numeric measure may be unique by chance).
    for col in frame.columns:
        series = frame[col]
        if series.isna().any() or not series.is_unique or len(series) < 2:
            continue
        if pd.api.types.is_string_dtype(series) and not pd.api.types.is_numeric_dtype(series):
            return str(col)
        if pd.api.types.is_integer_dtype(series):
            steps = np.diff(np.sort(series.to_numpy()))
            if len(steps) and bool(np.all(steps == 1)):
                return str(col)
    return None


def _pick(
    frame: pd.DataFrame, names: tuple[str, ...], *, numeric: bool, exclude: set[str]
) -> str | None:
    for wanted in names:
        for col in frame.columns:
            if col in exclude:
                continue
            if _key(col) == wanted and (not numeric or pd.api.types.is_numeric_dtype(frame[col])):
                return str(col)
    for wanted in names:
        if len(wanted) < 4:
            continue
        for col in frame.columns:
            if col in exclude:
                continue
            key = _key(col)
            if wanted in key and (not numeric or pd.api.types.is_numeric_dtype(frame[col])):
                return str(col)
    return None


def _find_time_column(frame: pd.DataFrame, exclude: set[str]) -> str | None:
    datetimes = [
        str(c) for c in frame.columns
        if c not in exclude and pd.api.types.is_datetime64_any_dtype(frame[c])
    ]  # fmt: skip
    if not datetimes:
        return None

    def rank(col: str) -> tuple[int, int]:
        key = _key(col)
        order_like = any(w in key for w in ("invoice", "order", "transaction", "purchase", "sale"))
        timey = any(w in key for w in _TIME_WORDS)
        return (2 * order_like + timey, -datetimes.index(col))

    return max(datetimes, key=rank)


def _unparsed_time_column(frame: pd.DataFrame, exclude: set[str]) -> str | None:
    """A text column named like a date (``order_date``) whose values did not parse."""
    for col in frame.columns:
        if col in exclude or pd.api.types.is_datetime64_any_dtype(frame[col]):
            continue
        if pd.api.types.is_numeric_dtype(frame[col]):
            continue
        key = _key(col)
        if any(word in key for word in ("date", "time", "timestamp")):
            return str(col)
    return None


def detect_roles(
    frame: pd.DataFrame,
    *,
    source: str = "data",
    customer: str | None = None,
    kind: Literal["auto", "customers", "transactions"] = "auto",
) -> ColumnRoles:
    """Detect the column roles of a loaded table.

    Parameters
    ----------
    frame : DataFrame
        The typed table (dates already parsed).
    source : str
        Name used in error messages (usually the file name).
    customer : str, optional
        The customer id column; detected when not given.
    kind : {"auto", "customers", "transactions"}
        ``"auto"`` chooses ``"transactions"`` when customer ids repeat and the table has
        a timestamp and an amount (or quantity and price); otherwise ``"customers"``.
        A customer table without any id column gets ``customer=None``: the 1-based row
        number is then the customer id.

    Returns
    -------
    ColumnRoles

    Raises
    ------
    UsageError
        A named column does not exist.
    DataError
        A transaction log without a customer id, timestamp or amount column.
    """
    if customer is not None:
        if customer not in frame.columns:
            raise UsageError(
                f"{source}: --id column {customer!r} not found "
                f"(columns: {', '.join(map(str, frame.columns))})"
            )
        customer_col: str | None = customer
    else:
        customer_col = _find_customer_column(frame)
    if customer_col is None:
        if kind == "transactions":
            raise DataError(
                f"{source}: no customer id column found (looked for names like customer_id, "
                f"CustomerID, client, user_id; columns: {', '.join(map(str, frame.columns))}); "
                "name it with --id"
            )
        return ColumnRoles(kind="customers", customer=None)

    taken = {customer_col}
    time_col = _find_time_column(frame, taken)
    unparsed_time = None if time_col else _unparsed_time_column(frame, taken)
    if time_col:
        taken.add(time_col)
    amount_col = _pick(frame, _AMOUNT_NAMES, numeric=True, exclude=taken)
    quantity_col = _pick(frame, _QUANTITY_NAMES, numeric=True, exclude=taken | {amount_col or ""})
    price_col = _pick(
        frame, _PRICE_NAMES, numeric=True, exclude=taken | {amount_col or "", quantity_col or ""}
    )
    order_col = _pick(frame, _ORDER_NAMES, numeric=False, exclude=taken)
    has_value = amount_col is not None or (quantity_col is not None and price_col is not None)
    repeats = not frame[customer_col].dropna().is_unique

    if kind == "auto" and repeats and has_value and unparsed_time is not None:
        kind = "transactions"  # a log whose dates did not parse: say so below, do not guess
    if kind == "auto":
        kind = "transactions" if (repeats and time_col is not None and has_value) else "customers"
    roles = ColumnRoles(kind=kind, customer=customer_col)
    if kind == "customers":
        return roles
    if time_col is None and unparsed_time is not None:
        sample = frame[unparsed_time].dropna().astype("string").head(1).tolist()
        example = f" (e.g. {sample[0]!r})" if sample else ""
        raise DataError(
            f"{source}: column {unparsed_time!r} looks like the transaction date but its values "
            f"could not be read as dates{example}"
        )
    if time_col is None:
        raise DataError(
            f"{source}: a transaction log needs a date/time column and none was found "
            f"(columns: {', '.join(map(str, frame.columns))})"
        )
    if not has_value:
        raise DataError(
            f"{source}: a transaction log needs an amount column, or quantity and price "
            f"columns, and none was found (columns: {', '.join(map(str, frame.columns))})"
        )
    if amount_col is not None:
        quantity_col = price_col = None
    return replace(
        roles,
        time=time_col,
        amount=amount_col,
        quantity=quantity_col,
        price=price_col,
        order=order_col,
    )


def normalise_ids(series: pd.Series) -> pd.Series:
    """Customer ids as text, the same whichever format they were read from.

    Integral floats (``12346.0``, as spreadsheets and CSVs with blanks give them) become
    ``"12346"``; text keeps its form (``"0001"`` stays ``"0001"``) minus outer spaces.
    Missing ids stay missing.
    """
    if pd.api.types.is_float_dtype(series):
        values = series.to_numpy(dtype=float)
        finite = np.isfinite(values)
        if np.all(np.equal(np.mod(values[finite], 1), 0)):
            out = pd.Series(pd.NA, index=series.index, dtype="string")
            out[finite] = values[finite].astype(np.int64).astype(str)
            return out
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return series.astype("string")
    text = series.astype("string").str.strip()
    return text.mask(text == "", pd.NA)
