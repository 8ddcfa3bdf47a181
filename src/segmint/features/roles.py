"""Which column is what: customer id, timestamp, amount, quantity, price, order id.

Detection works on column names first (the vocabulary of shop, CRM and billing exports,
in English, German, French, Spanish, Portuguese, Italian and Dutch: the table of
:mod:`segmint.features.vocabulary`) and on content second (uniqueness, dtype). Every role
can be given explicitly instead.

The customer id is found as a person finds it: a column named as an id of customers
(``customer_id``, ``household_key``, ``KundenID``, ``id_cliente``, ``loyalty_card_no``) or the
bare word (``client``, ``Kunde``), then a plain id (``id``, ``person_id``), and an id of
something else (``store_id``, ``basket_id``) only when it is unique on every row.  An id
that repeats beside a date column makes the table a transaction log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from segmint.cells import number_date_kind
from segmint.errors import DataError, UsageError
from segmint.features.vocabulary import id_kind, match_column, matches, spellings

InputKind = Literal["customers", "transactions"]

# Who a log is about, ranked: customer-ish ids first, then plain "id"s, then ids of other
# things (a table of stores is segmented by store_id only when nothing else identifies rows).
_ID_RANK = {"customer": 4, "customer-word": 3, "generic": 2, "entity": 1}
_DATE_WORDS = ("date", "time", "timestamp", "datum", "fecha", "data", "zeitpunkt", "horodatage")
_ORDER_LIKE = ("invoice", "order", "transaction", "purchase", "sale", *spellings("order"))


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


def _complete_and_unique(series: pd.Series) -> bool:
    return len(series) >= 2 and not series.isna().any() and series.is_unique


_FLAG_VALUES = {"yes", "no", "y", "n", "true", "false", "t", "f", "0", "1", "ja", "nein",
                "si", "sí", "oui", "non", "sim", "não", "nao", "x", ""}  # fmt: skip


def _is_flag(series: pd.Series) -> bool:
    """Whether a column holds a yes/no flag (booleans, 0/1, yes/no in a few languages)."""
    if pd.api.types.is_bool_dtype(series):
        return True
    values = series.dropna().astype(str).str.strip().str.lower().unique()
    return len(values) <= 2 and set(values) <= _FLAG_VALUES


def _find_customer_column(frame: pd.DataFrame) -> str | None:
    has_dates = any(pd.api.types.is_datetime64_any_dtype(frame[c]) for c in frame.columns)
    ranked: list[tuple[int, str]] = []
    for col in frame.columns:
        kind = id_kind(col)
        if kind is None:
            continue
        series = frame[col]
        if kind == "entity" and not _complete_and_unique(series):
            continue  # store_id, basket_id: not who buys
        if kind == "customer-word" and _is_flag(series):
            continue  # "member": yes / no, a flag named after customers, not their id
        plain = kind == "generic" and str(col).lower() not in ("id", "uid", "uuid", "guid")
        if plain and not (_complete_and_unique(series) or has_dates):
            continue  # person_id that repeats without dates: a category, not the rows' id
        ranked.append((_ID_RANK[kind], str(col)))
    if ranked:
        best = max(rank for rank, _ in ranked)
        tied = [col for rank, col in ranked if rank == best]
        # Among equally good names prefer the column with most distinct values.
        columns = list(frame.columns)
        return max(tied, key=lambda c: (frame[c].nunique(dropna=True), -columns.index(c)))
    # No telling name: the first text column whose values are unique and present, or an
    # integer column counting 1, 2, 3, ... (a numeric measure may be unique by chance).
    for col in frame.columns:
        series = frame[col]
        if not _complete_and_unique(series):
            continue
        if pd.api.types.is_string_dtype(series) and not pd.api.types.is_numeric_dtype(series):
            return str(col)
        if pd.api.types.is_integer_dtype(series):
            steps = np.diff(np.sort(series.to_numpy()))
            if len(steps) and bool(np.all(steps == 1)):
                return str(col)
    return None


def _pick(frame: pd.DataFrame, role: str, *, numeric: bool, exclude: set[str]) -> str | None:
    allowed = {
        str(c) for c in frame.columns
        if c not in exclude and (not numeric or pd.api.types.is_numeric_dtype(frame[c]))
    }  # fmt: skip
    return match_column([str(c) for c in frame.columns], role, allowed=allowed)


def _find_time_column(frame: pd.DataFrame, exclude: set[str]) -> str | None:
    datetimes = [
        str(c) for c in frame.columns
        if c not in exclude and pd.api.types.is_datetime64_any_dtype(frame[c])
    ]  # fmt: skip
    if not datetimes:
        return None

    def rank(col: str) -> tuple[int, int]:
        order_like = any(matches(col, w) for w in _ORDER_LIKE)
        timey = any(matches(col, w) for w in spellings("time"))
        return (2 * order_like + timey, -datetimes.index(col))

    return max(datetimes, key=rank)


def _unparsed_time_column(frame: pd.DataFrame, exclude: set[str]) -> str | None:
    """A text column named like a date (``order_date``) whose values did not parse."""
    for col in frame.columns:
        if col in exclude or pd.api.types.is_datetime64_any_dtype(frame[col]):
            continue
        if pd.api.types.is_numeric_dtype(frame[col]):
            continue
        if any(matches(col, word) for word in _DATE_WORDS):
            return str(col)
    return None


_NO_HEADER_NAME = re.compile(r"column_\d+")


def headerless(frame: pd.DataFrame) -> bool:
    """Whether the columns carry no names: a file read without a header row names them
    ``column_1..n`` (:mod:`segmint.io`), so only their content can say what they hold."""
    return len(frame.columns) >= 2 and all(_NO_HEADER_NAME.fullmatch(str(c)) for c in frame.columns)


def _dates_by_content(series: pd.Series) -> bool:
    """Dates, or whole numbers that are all valid ``YYYYMMDD`` calendar days (eight digits
    that read as a day: the one number form specific enough to need no name)."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return True
    if not pd.api.types.is_integer_dtype(series) or series.isna().all():
        return False
    numbers = series.to_numpy(dtype=np.float64, na_value=np.nan)
    return number_date_kind(numbers) == "YYYYMMDD"


def _fractional(series: pd.Series) -> bool:
    if not pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return False
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    values = values[np.isfinite(values)]
    return bool(values.size) and bool((values != np.round(values)).any())


def _roles_by_content(frame: pd.DataFrame, customer: str | None) -> ColumnRoles | None:
    """A header-less table read as a log from what its columns hold, or None when the
    content does not decide it.

    It decides only the plain shape of a purchase log: one date column, one column of
    amounts (numbers with decimals that grow with a column of whole numbers where one
    stands beside them: a line's total, not a unit price) and, as the customer (unless
    given), the leftmost column that repeats, has the most distinct values of the repeating
    columns, and whose other repeating columns are whole numbers (counts, quantities).
    Anything else (two columns of decimals, several text columns that repeat, decimals that
    do not follow the count) is left to ``--id`` and ``--spec``: a guess there would be a
    confident wrong answer.
    """
    columns = list(frame.columns)
    dates = [c for c in columns if c != customer and _dates_by_content(frame[c])]
    amounts = [c for c in columns if c not in (customer, *dates) and _fractional(frame[c])]
    if len(dates) != 1 or len(amounts) != 1:
        return None
    if customer is None:
        repeating = [
            c for c in columns
            if c not in (*dates, *amounts)
            and not pd.api.types.is_bool_dtype(frame[c])
            and frame[c].nunique(dropna=True) >= 2
            and not frame[c].dropna().is_unique
        ]  # fmt: skip
        if not repeating:
            return None
        first, others = repeating[0], repeating[1:]
        distinct = frame[first].nunique(dropna=True)
        if any(
            not pd.api.types.is_integer_dtype(frame[c]) or frame[c].nunique() >= distinct
            for c in others
        ):
            return None
        customer = str(first)
    if frame[customer].dropna().is_unique:
        return None
    counts = [
        c for c in columns
        if c not in (customer, *dates, *amounts) and pd.api.types.is_integer_dtype(frame[c])
    ]  # fmt: skip
    value = frame[amounts[0]]
    if counts and max(_rank_correlation(frame[c], value) for c in counts) < 0.3:
        return None  # decimals beside a count that does not grow them: maybe a unit price
    return ColumnRoles(kind="transactions", customer=customer, time=str(dates[0]),
                       amount=str(amounts[0]))  # fmt: skip


def _rank_correlation(a: pd.Series, b: pd.Series) -> float:
    both = pd.DataFrame({"a": a, "b": b}).dropna()
    if len(both) < 3 or both["a"].nunique() < 2 or both["b"].nunique() < 2:
        return 0.0
    return float(both["a"].rank().corr(both["b"].rank()))


def content_note(frame: pd.DataFrame, roles: ColumnRoles) -> str | None:
    """The warning that a header-less log was read by content, naming every guess."""
    if roles.kind != "transactions" or not headerless(frame):
        return None
    number = "" if pd.api.types.is_datetime64_any_dtype(frame[roles.time]) else " (YYYYMMDD)"
    value = (
        f"amount {roles.amount} (each line's total, not a unit price)"
        if roles.amount
        else f"quantity {roles.quantity} and price {roles.price}"
    )
    return (
        f"the file has no header row, so it was read as a transaction log from what its "
        f"columns hold: customer id {roles.customer}, date {roles.time}{number}, {value}; "
        'if that is wrong, name them in a --spec file ([columns] customer = "column_1", '
        "time = ..., amount = ...) or add a header line"
    )


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
    if kind != "customers" and headerless(frame):
        by_content = _roles_by_content(frame, customer_col)
        if by_content is not None:
            return by_content
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
    amount_col = _pick(frame, "amount", numeric=True, exclude=taken)
    quantity_col = _pick(frame, "quantity", numeric=True, exclude=taken | {amount_col or ""})
    price_col = _pick(
        frame, "price", numeric=True, exclude=taken | {amount_col or "", quantity_col or ""}
    )
    order_col = _pick(frame, "order", numeric=False, exclude=taken)
    has_value = amount_col is not None or (quantity_col is not None and price_col is not None)
    repeats = not frame[customer_col].dropna().is_unique

    if kind == "auto" and repeats and has_value and unparsed_time is not None:
        kind = "transactions"  # a log whose dates did not parse: say so below, do not guess
    named_customer = id_kind(customer_col) in ("customer", "customer-word")
    if kind == "auto" and repeats and time_col is not None and not has_value and named_customer:
        # A customer id repeating beside dates is a log: say what is missing rather than
        # keep one row per customer and drop the rest.
        raise DataError(
            f"{source}: customer ids in {customer_col!r} repeat beside the dates of "
            f"{time_col!r}, so this looks like a transaction log, but no amount column (or "
            f"quantity and price columns) was found (columns: "
            f"{', '.join(map(str, frame.columns))}); name it with --spec, or fit one row "
            "per customer with --input customers"
        )
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
