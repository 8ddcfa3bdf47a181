"""Cleaning a transaction log: every kind of bad line, counted, and the quality score."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from segmint.features import FeatureSpec, frame_features

TODAY = dt.date(2025, 1, 1)
AS_OF = "2024-02-01"
NAN = np.nan


def dirty_log() -> pd.DataFrame:
    rows = [
        # customer d: one of every kind
        ("1", "d", "2024-01-10 10:00", "P1", 2, 5.0),  # purchase
        ("1", "d", "2024-01-10 10:00", "P1", 2, 5.0),  # exact duplicate
        ("1", "d", "2024-01-10 10:00", "POST", 1, 15.0),  # postage: not a product
        ("2", "d", "2024-01-11 09:00", "P2", 80_000, 1.0),  # absurd order ...
        ("C3", "d", "2024-01-11 11:00", "P2", -80_000, 1.0),  # ... cancelled the same day
        ("4", "d", "2024-01-12 09:00", "P3", 20_000, 0.5),  # absurd, not cancelled
        ("5", "d", None, "P1", 1, 5.0),  # unparseable date
        ("6", "d", "2030-01-01 00:00", "P1", 1, 5.0),  # future date
        ("7", "d", "2024-01-13 00:00", "P4", 1, 0.0),  # zero price
        ("8", "d", "2024-01-14 00:00", "P4", 1, -3.0),  # negative price
        ("9", "d", "2024-01-15 00:00", "P5", -5, 0.0),  # stock taken out at price 0
        ("A10", "d", "2024-01-15 00:00", "P6", 1, 100.0),  # adjustment invoice
        ("C11", "d", "2024-01-20 00:00", "P9", -1, 1.0),  # return of a product never bought
        ("C12", "d", "2024-01-21 00:00", "P1", -1, 5.0),  # return of P1
        ("13", "d", "2024-02-01 00:00", "P1", 1, 5.0),  # on the as-of date: left out
        ("14", "d", "2024-01-16 00:00", "P1", NAN, 5.0),  # no quantity
        # customers that cannot be placed
        ("20", "f", "2031-05-05 00:00", "P1", 1, 5.0),  # only a future date
        ("21", "u", None, "P1", 1, 5.0),  # only an unparseable date
        ("22", "n", "2024-01-05 00:00", "DOT", 1, 9.0),  # only postage
        ("23", "v", "2024-01-05 09:00", "P1", 3, 5.0),  # bought ...
        ("C24", "v", "2024-01-05 09:30", "P1", -3, 5.0),  # ... and cancelled the same day
        ("25", "l", "2024-03-01 00:00", "P1", 1, 5.0),  # only after the as-of date
        # r cancels at 13:08 and re-orders at 13:20: the cancellation undoes nothing that
        # day (it returns the earlier order), as in Online Retail's C550456
        ("19", "r", "2024-01-02 10:00", "P1", 3, 5.0),
        ("C21", "r", "2024-01-05 13:08", "P1", -3, 5.0),
        ("22r", "r", "2024-01-05 13:20", "P1", 3, 5.0),
        # anonymous
        ("30", None, "2024-01-05 00:00", "P1", 1, 5.0),
    ]
    frame = pd.DataFrame(rows, columns=["order", "customer", "when", "product", "qty", "price"])
    frame["when"] = pd.to_datetime(frame["when"])
    return frame


SPEC = FeatureSpec(
    customer="customer",
    time="when",
    order="order",
    quantity="qty",
    price="price",
    product="product",
)


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    return frame_features(dirty_log(), SPEC, as_of=AS_OF, today=TODAY, families=("rfm", "returns"))


def test_every_state_is_counted(result) -> None:  # type: ignore[no-untyped-def]
    lines = result.account["cleaning"]["lines"]
    assert lines == {
        "purchase": 1 + 2,  # d's P1 and r's two (v's is voided)
        "return": 2 + 1,  # d's C11 and C12, r's C21
        "non_product": 2,  # d's POST, n's DOT
        "stock_adjustment": 2,
        "zero_price": 1,
        "negative_price": 1,
        "voided": 2 + 2,  # d's absurd pair, v's pair
        "absurd_quantity": 1,
        "after_as_of": 2,  # d's line 13, l's line
        "future_date": 2,
        "unparseable_time": 2,
        "no_value": 1,
    }
    assert result.account["cleaning"]["anonymous_lines"]["purchase"] == 1
    assert result.account["duplicate_rows_dropped"] == 1
    assert result.account["rows_with_unparseable_time"] == 2
    assert result.account["rows_without_customer_id"] == 1
    assert result.account["cleaning"]["cancellations_matched"] == 2  # C12 and C21
    assert result.account["cleaning"]["cancellations_unmatched"] == 1  # C11
    assert result.account["rows_read"] == len(dirty_log())


def test_features_use_purchases_and_returns_only(result) -> None:  # type: ignore[no-untyped-def]
    rows = result.features.set_index("customer_id").to_dict("index")
    assert rows["d"]["frequency"] == 1
    assert rows["d"]["monetary"] == pytest.approx(10 - 1 - 5)
    assert rows["d"]["return_value_share"] == pytest.approx(6 / 10)
    assert rows["r"]["frequency"] == 2
    assert rows["r"]["monetary"] == pytest.approx(15.0)


def test_customers_without_an_order_are_excluded_with_the_reason(result) -> None:  # type: ignore[no-untyped-def]
    reasons = dict(zip(result.excluded["customer_id"], result.excluded["reason"], strict=True))
    assert reasons == {
        "f": "only_future_dates",
        "u": "no_valid_dates",
        "n": "no_purchases",
        "v": "no_purchases",
        "l": "no_transactions_before_as_of",
    }
    assert result.account["customers_in_log"] == 7


def test_quality_score_and_reasons(result) -> None:  # type: ignore[no-untyped-def]
    quality = result.quality.set_index("customer_id")
    # d: 15 rows before the as-of date (one duplicate copy included); problems: the copy,
    # an unparseable and a future date, no value, a zero and a negative price, two stock
    # adjustments, two voided lines, one absurd quantity, one unmatched return = 12
    assert quality.loc["d", "quality_score"] == pytest.approx(1 - 12 / 15)
    assert quality.loc["d", "quality_reasons"] == (
        "1 duplicate line; 1 unmatched return; 1 unparseable date; 1 future date; "
        "1 line without value; 1 zero price; 1 negative price; 2 stock adjustments; "
        "2 lines cancelled the same day; 1 absurd quantity"
    )
    assert quality.loc["r", "quality_score"] == 1.0
    assert quality.loc["r", "quality_reasons"] == ""
    summary = result.account["quality"]
    assert summary["customers_with_issues"] == 1
    assert summary["customers_by_reason"]["duplicate line"] == 1


def test_switching_off_same_day_voiding_and_the_absurd_check() -> None:
    from dataclasses import replace

    plain = frame_features(
        dirty_log(), replace(SPEC, void_same_day_cancellations=False, absurd_quantity=0),
        as_of=AS_OF, today=TODAY, families=("rfm",),
    )  # fmt: skip
    lines = plain.account["cleaning"]["lines"]
    assert lines["voided"] == 0 and lines["absurd_quantity"] == 0
    assert lines["purchase"] == 1 + 2 + 1 + 2  # d's P1, P2 and P3, v's, r's two
    assert "v" in set(plain.features["customer_id"])


def test_non_product_codes_are_configurable() -> None:
    from segmint.features import parse_spec

    spec = parse_spec(
        '[columns]\ncustomer = "customer"\ntime = "when"\norder = "order"\nquantity = "qty"\n'
        'price = "price"\nproduct = "product"\n[cleaning]\nnon_product_codes = ["P9"]\n'
        'extra_non_product_codes = ["post"]'
    )
    assert spec.non_product_codes == ("P9", "post")
    result = frame_features(dirty_log(), spec, as_of=AS_OF, today=TODAY, families=("rfm",))
    lines = result.account["cleaning"]["lines"]
    assert lines["non_product"] == 2  # POST (any case) and d's return of P9; DOT is now a product
    assert "n" in set(result.features["customer_id"])


def test_amount_logs_void_on_value_and_flag_zero_amounts() -> None:
    frame = pd.DataFrame(
        {
            "user": ["a", "a", "a", "a"],
            "ts": pd.to_datetime(
                ["2024-01-01 10:00", "2024-01-01 12:00", "2024-01-02 00:00", "2024-01-03 00:00"]
            ),
            "amount": [30.0, -30.0, 0.0, 12.0],
        }
    )
    spec = FeatureSpec(customer="user", time="ts", amount="amount")
    result = frame_features(frame, spec, today=TODAY, families=("rfm",))
    lines = result.account["cleaning"]["lines"]
    assert (lines["voided"], lines["zero_price"], lines["purchase"]) == (2, 1, 1)
    row = result.features.iloc[0]
    assert (row["frequency"], row["monetary"]) == (1, 12.0)
