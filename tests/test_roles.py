"""Column role detection."""

from __future__ import annotations

import pandas as pd
import pytest

from segmint.errors import DataError, UsageError
from segmint.features import detect_roles, normalise_ids


def test_customer_table_by_uniqueness() -> None:
    frame = pd.DataFrame({"CustomerID": ["0001", "0002"], "Age": [30, 40]})
    roles = detect_roles(frame)
    assert (roles.kind, roles.customer) == ("customers", "CustomerID")


@pytest.mark.parametrize(
    "name",
    ["customer_id", "CustomerID", "Customer ID", "client", "user_id", "cust_no", "customerId"],
)
def test_customer_names(name: str) -> None:
    frame = pd.DataFrame({"other": [1, 2], name: ["a", "b"]})
    assert detect_roles(frame).customer == name


def test_transaction_log_roles() -> None:
    frame = pd.DataFrame(
        {
            "Invoice": ["1", "1", "2"],
            "StockCode": ["A", "B", "A"],
            "Quantity": [1, 2, 3],
            "InvoiceDate": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-02"]),
            "Price": [1.0, 2.0, 3.0],
            "Customer ID": [1.0, 1.0, 2.0],
        }
    )
    roles = detect_roles(frame)
    assert roles.to_dict() == {
        "kind": "transactions",
        "customer": "Customer ID",
        "time": "InvoiceDate",
        "amount": None,
        "quantity": "Quantity",
        "price": "Price",
        "order": "Invoice",
    }


def test_forced_transactions_without_time() -> None:
    frame = pd.DataFrame({"customer_id": ["a", "a"], "amount": [1.0, 2.0]})
    with pytest.raises(DataError, match="date/time column"):
        detect_roles(frame, kind="transactions", source="x.csv")


def test_unknown_id_column() -> None:
    with pytest.raises(UsageError, match="--id column 'nope' not found"):
        detect_roles(pd.DataFrame({"a": [1]}), customer="nope")


def test_no_id_column_means_row_numbers() -> None:
    frame = pd.DataFrame({"score": [1.0, 1.0], "age": [3.0, 3.0]})
    assert detect_roles(frame).customer is None
    with pytest.raises(DataError, match="no customer id column found"):
        detect_roles(frame, source="x.csv", kind="transactions")


def test_unique_measure_is_not_an_id() -> None:
    # A numeric measure may be unique by chance; only a 1, 2, 3, ... counter is an id.
    frame = pd.DataFrame({"Fresh": [120, 5, 99, 7], "Milk": [1, 1, 2, 2]})
    assert detect_roles(frame).customer is None
    frame = pd.DataFrame({"n": [3, 1, 2, 4], "Milk": [1, 1, 2, 2]})
    assert detect_roles(frame).customer == "n"


def test_normalise_ids() -> None:
    assert normalise_ids(pd.Series([1.0, 2.0, None])).tolist() == ["1", "2", pd.NA]
    assert normalise_ids(pd.Series([" 007 ", "", "x"])).tolist() == ["007", pd.NA, "x"]
    assert normalise_ids(pd.Series([1.5, 2.0])).tolist() == ["1.5", "2.0"]


def _purchases(n: int = 120) -> pd.DataFrame:
    """A purchase log under names no detector knows (in any of its languages): 30 buyers,
    four lines each."""
    return pd.DataFrame(
        {
            "Kürzel": [f"K{i % 30:03d}" for i in range(n)],
            "Wann": pd.date_range("2024-01-01", periods=n, freq="D"),
            "Wieviel": [float(10 + i % 7) for i in range(n)],
        }
    )


def test_rows_that_look_like_purchases_are_said() -> None:
    from segmint.pipeline import customer_table

    log = _purchases()
    roles = detect_roles(log)
    assert roles.kind == "customers" and roles.customer is None  # nothing known by name
    (warning,) = customer_table(log, roles).warnings
    assert warning == (
        "each row was taken as one customer (no customer id column), but column 'Kürzel' "
        "repeats (30 distinct values in 120 rows) and 'Wann' holds dates: if each row is a "
        "purchase, fit the file as a transaction log (--id Kürzel --input transactions, and "
        "--spec naming the time and amount columns where they are not detected)"
    )
    by_id = customer_table(log, detect_roles(log, customer="Kürzel", kind="customers"))
    assert len(by_id.frame) == 30
    assert by_id.warnings[0].startswith(
        "90 of 120 rows repeat a customer id of column 'Kürzel' (e.g. K000, K001, K002) and "
        "were left out, the first row of each id kept"
    )


def test_customer_tables_get_no_shape_warning() -> None:
    from segmint.pipeline import customer_table

    table = pd.DataFrame(
        {
            "country": [f"C{i % 25}" for i in range(100)],  # repeats, but no dates
            "spend": [float(i) for i in range(100)],
        }
    )
    # no id column: only that is said, and how to name one
    (no_id,) = customer_table(table, detect_roles(table)).warnings
    assert no_id == (
        "no customer id column found: each row is one customer, numbered by its position "
        "(1 to 100 in row_number: data row numbers, not ids); if a column identifies the "
        "customers, name it with --id COLUMN"
    )
    few = _purchases().assign(Kürzel=[f"K{i % 10}" for i in range(120)])  # a category
    assert customer_table(few, detect_roles(few)).warnings == (no_id.replace("100", "120"),)
    with_id = table.assign(customer_id=[f"c{i}" for i in range(100)])
    assert customer_table(with_id, detect_roles(with_id)).warnings == ()


def test_a_yes_no_flag_named_after_customers_is_not_their_id() -> None:
    frame = pd.DataFrame(
        {"id": [f"u{i}" for i in range(6)], "member": ["yes", "no"] * 3, "visits": range(6)}
    )
    assert detect_roles(frame).customer == "id"
    # The same name holding ids is the customer column.
    frame["member"] = [f"m{i}" for i in range(6)]
    assert detect_roles(frame).customer == "member"
