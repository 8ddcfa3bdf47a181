"""Transaction log -> RFM features: exact values on a hand-made log."""

from __future__ import annotations

import pandas as pd
import pytest

from segmint.errors import DataError
from segmint.features import detect_roles, rfm_features
from segmint.features.rfm import transaction_features


@pytest.fixture
def log() -> pd.DataFrame:
    rows = [
        # invoice, customer, when, quantity, price
        ("1", "a", "2024-01-01 10:00", 2, 5.0),
        ("1", "a", "2024-01-01 10:00", 2, 5.0),  # exact duplicate line: dropped
        ("1", "a", "2024-01-01 10:00", 1, 10.0),
        ("2", "a", "2024-01-15 09:30", 1, 30.0),
        ("C3", "a", "2024-01-20 12:00", -1, 10.0),  # return of part of order 1
        ("4", "b", "2024-01-10 16:00", 1, 100.0),
        ("C5", "c", "2024-01-12 08:00", -2, 5.0),  # only a cancellation
        ("6", None, "2024-01-30 18:00", 1, 1.0),  # anonymous line
    ]
    frame = pd.DataFrame(
        rows, columns=["InvoiceNo", "CustomerID", "InvoiceDate", "Quantity", "UnitPrice"]
    )
    frame["InvoiceDate"] = pd.to_datetime(frame["InvoiceDate"])
    return frame


def _features(log: pd.DataFrame, **kwargs: object):
    return rfm_features(
        log,
        customer_col="CustomerID",
        time_col="InvoiceDate",
        quantity_col="Quantity",
        price_col="UnitPrice",
        order_col="InvoiceNo",
        **kwargs,  # type: ignore[arg-type]
    )


def test_rfm_exact_values(log: pd.DataFrame) -> None:
    result = _features(log)
    rows = result.features.set_index("customer_id").to_dict("index")
    # as-of = day after the last timestamp (2024-01-30) = 2024-01-31
    assert rows["a"] == {
        "recency_days": 16,  # last order 2024-01-15
        "frequency": 2,  # orders 1 and 2; C3 is a return, not an order
        "monetary": 40.0,  # 20 + 30 - 10
        "avg_order_value": 25.0,  # (20 + 30) / 2
        "tenure_days": 30,  # first order 2024-01-01
    }
    assert rows["b"] == {
        "recency_days": 21,
        "frequency": 1,
        "monetary": 100.0,
        "avg_order_value": 100.0,
        "tenure_days": 21,
    }
    assert list(result.excluded["customer_id"]) == ["c"]
    assert list(result.excluded["reason"]) == ["no_purchases"]


def test_rfm_account(log: pd.DataFrame) -> None:
    account = _features(log).account
    assert account["rows_read"] == 8
    assert account["duplicate_rows_dropped"] == 1
    assert account["rows_without_customer_id"] == 1
    assert account["return_lines"] == 2
    assert account["as_of"] == "2024-01-31"
    assert account["customers_in_log"] == 3


def test_as_of_leaves_out_later_lines(log: pd.DataFrame) -> None:
    result = _features(log, as_of="2024-01-11")
    rows = result.features.set_index("customer_id").to_dict("index")
    assert rows["a"]["frequency"] == 1
    assert rows["a"]["recency_days"] == 10
    assert rows["a"]["monetary"] == 20.0
    assert rows["b"]["recency_days"] == 1
    excluded = dict(zip(result.excluded["customer_id"], result.excluded["reason"], strict=True))
    assert excluded == {"c": "no_transactions_before_as_of"}


def test_amount_column_and_no_order_ids() -> None:
    frame = pd.DataFrame(
        {
            "user_id": ["x", "x", "x", "y"],
            "created_at": pd.to_datetime(["2024-03-01", "2024-03-01", "2024-03-05", "2024-03-02"]),
            "amount": [10.0, 5.0, -3.0, 7.0],
        }
    )
    roles = detect_roles(frame)
    assert roles.kind == "transactions"
    assert (roles.customer, roles.time, roles.amount, roles.order) == (
        "user_id",
        "created_at",
        "amount",
        None,
    )
    rows = transaction_features(frame, roles).features.set_index("customer_id").to_dict("index")
    # Without order ids, lines at the same timestamp are one order; the negative line is a return.
    assert rows["x"]["frequency"] == 1
    assert rows["x"]["monetary"] == 12.0
    assert rows["x"]["avg_order_value"] == 15.0
    assert rows["x"]["recency_days"] == 5


def test_unparseable_dates_are_counted_and_whole_customers_excluded() -> None:
    frame = pd.DataFrame(
        {
            "customer": ["a", "a", "b"],
            "date": pd.to_datetime(["2024-01-01", None, None]),
            "amount": [5.0, 6.0, 7.0],
        }
    )
    result = rfm_features(frame, customer_col="customer", time_col="date", amount_col="amount")
    assert result.account["rows_with_unparseable_time"] == 2
    assert list(result.features["customer_id"]) == ["a"]
    assert result.excluded.to_dict("records")[0]["reason"] == "no_valid_dates"


def test_float_ids_are_normalised() -> None:
    frame = pd.DataFrame(
        {
            "CustomerID": [12346.0, 12346.0, None],
            "InvoiceDate": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-02"]),
            "amount": [1.0, 2.0, 3.0],
        }
    )
    result = rfm_features(
        frame, customer_col="CustomerID", time_col="InvoiceDate", amount_col="amount"
    )
    assert list(result.features["customer_id"]) == ["12346"]


def test_errors_name_the_column() -> None:
    frame = pd.DataFrame({"c": ["a"], "d": ["not a date"], "amount": [1.0]})
    with pytest.raises(DataError, match="'d' is not a date/time column"):
        rfm_features(frame, customer_col="c", time_col="d", amount_col="amount")
    with pytest.raises(DataError, match="amount column, or quantity and price"):
        rfm_features(frame, customer_col="c", time_col="d")
