"""Every feature family: exact values on a hand-made log (segmint.features.families)."""

from __future__ import annotations

import datetime as dt
import statistics

import pandas as pd
import pytest

from segmint.features import FAMILIES, FeatureSpec, frame_features
from segmint.features.families import RFM_FEATURES

TODAY = dt.date(2025, 1, 1)
AS_OF = "2024-04-01"
COLUMNS = [
    "order",
    "customer",
    "when",
    "product",
    "category",
    "channel",
    "qty",
    "price",
    "discount",
]


def log() -> pd.DataFrame:
    rows = [
        # customer a: three orders and a partial return
        ("O1", "a", "2024-01-06 10:00", "P1", "X", "web", 2, 5.0, 0.0),  # Saturday morning
        ("O1", "a", "2024-01-06 10:00", "P2", "Y", "web", 1, 20.0, 0.2),
        ("O2", "a", "2024-02-15 14:30", "P1", "X", "app", 4, 5.0, 0.0),  # Thursday afternoon
        ("O3", "a", "2024-03-20 19:00", "P3", "X", "web", 1, 50.0, 0.1),  # Wednesday evening
        ("C4", "a", "2024-03-25 11:00", "P1", "X", "web", -1, 5.0, 0.0),  # return of one P1
        # customer b: one order on a Sunday morning
        ("O5", "b", "2023-12-10 08:00", "P2", "Y", "store", 3, 20.0, 0.0),
        # after the as-of date: left out
        ("O6", "b", "2024-05-01 08:00", "P2", "Y", "store", 1, 20.0, 0.0),
    ]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["when"] = pd.to_datetime(frame["when"])
    return frame


def spec(**options: object) -> FeatureSpec:
    base: dict[str, object] = {
        "customer": "customer", "time": "when", "order": "order", "quantity": "qty",
        "price": "price", "product": "product", "category": "category", "channel": "channel",
        "discount": "discount", "trend_days": 60, "windows": (30, 365), "peak_months": (1, 12),
        "channels": ("web", "app", "store"),
    }  # fmt: skip
    base.update(options)
    return FeatureSpec(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def rows() -> dict[str, dict[str, float]]:
    result = frame_features(log(), spec(), as_of=AS_OF, today=TODAY, families=FAMILIES)
    return result.features.set_index("customer_id").to_dict("index")


def test_rfm(rows: dict[str, dict[str, float]]) -> None:
    a, b = rows["a"], rows["b"]
    assert a["recency_days"] == 12  # 2024-03-20 -> 2024-04-01
    assert a["frequency"] == 3
    assert a["monetary"] == pytest.approx(30 + 20 + 50 - 5)
    assert a["avg_order_value"] == pytest.approx(100 / 3)
    assert a["tenure_days"] == 86  # 2024-01-06 -> 2024-04-01 (leap year)
    assert (b["recency_days"], b["frequency"], b["monetary"], b["tenure_days"]) == (
        113,
        1,
        60.0,
        113,
    )


def test_consistency(rows: dict[str, dict[str, float]]) -> None:
    a, b = rows["a"], rows["b"]
    assert a["order_value_std"] == pytest.approx(statistics.pstdev([30, 20, 50]))
    assert a["order_value_cv"] == pytest.approx(statistics.pstdev([30, 20, 50]) / (100 / 3))
    gaps = [40 + 4.5 / 24, 34 + 4.5 / 24]  # Jan 6 10:00 -> Feb 15 14:30 -> Mar 20 19:00
    assert a["days_between_orders"] == pytest.approx(statistics.mean(gaps))
    assert a["days_between_orders_cv"] == pytest.approx(
        statistics.pstdev(gaps) / statistics.mean(gaps)
    )
    assert (b["order_value_std"], b["order_value_cv"]) == (0.0, 0.0)
    assert pd.isna(b["days_between_orders"]) and pd.isna(b["days_between_orders_cv"])


def test_velocity(rows: dict[str, dict[str, float]]) -> None:
    a, b = rows["a"], rows["b"]
    assert a["spend_per_month"] == pytest.approx(95 * 30.4375 / 86)
    assert a["spend_per_active_month"] == pytest.approx(95 / 3)  # January, February, March
    assert a["active_month_share"] == pytest.approx(3 / 3)  # January .. March (day before A)
    assert b["spend_per_month"] == pytest.approx(60 * 30.4375 / 113)
    assert b["active_month_share"] == pytest.approx(1 / 4)  # December .. March


def test_trend(rows: dict[str, dict[str, float]]) -> None:
    a, b = rows["a"], rows["b"]
    # last 60 days: [2024-02-01, 2024-04-01) holds O2 and O3; the 60 before hold O1
    assert (a["spend_last_60d"], a["spend_prev_60d"]) == (70.0, 30.0)
    assert (a["orders_last_60d"], a["orders_prev_60d"]) == (2, 1)
    assert a["spend_trend"] == pytest.approx((70 - 30) / 100)
    assert a["orders_trend"] == pytest.approx(1 / 3)
    # monthly spend 30, 20, 50 over months 0, 1, 2: least-squares slope 10 per month
    assert a["monthly_spend_slope"] == pytest.approx(10.0)
    # b: 60 in December (month 0), nothing in January .. March
    months, spend = [0, 1, 2, 3], [60, 0, 0, 0]
    assert b["monthly_spend_slope"] == pytest.approx(
        statistics.linear_regression(months, spend).slope
    )
    assert (b["spend_last_60d"], b["spend_prev_60d"], b["spend_trend"]) == (0.0, 60.0, -1.0)


def test_seasonality_and_timing(rows: dict[str, dict[str, float]]) -> None:
    a, b = rows["a"], rows["b"]
    assert a["top_month_share"] == pytest.approx(0.5)  # March: 50 of 100
    assert a["peak_season_share"] == pytest.approx(0.3)  # peak months January and December
    assert b["peak_season_share"] == pytest.approx(1.0)
    assert a["weekend_share"] == pytest.approx(0.3)  # O1 on a Saturday
    assert b["weekend_share"] == pytest.approx(1.0)  # a Sunday
    assert [a[f"{p}_share"] for p in ("night", "morning", "afternoon", "evening")] == pytest.approx(
        [0.0, 0.3, 0.2, 0.5]
    )
    assert b["morning_share"] == pytest.approx(1.0)


def test_breadth_returns_discount_channel(rows: dict[str, dict[str, float]]) -> None:
    a, b = rows["a"], rows["b"]
    assert (a["distinct_products"], a["distinct_categories"]) == (3, 2)
    assert (b["distinct_products"], b["distinct_categories"]) == (1, 1)
    assert a["return_value_share"] == pytest.approx(5 / 100)
    assert a["return_quantity_share"] == pytest.approx(1 / 8)
    assert a["discounted_share"] == pytest.approx((20 + 50) / 100)
    assert a["mean_discount"] == pytest.approx((20 * 0.2 + 50 * 0.1) / 100)
    assert (b["discounted_share"], b["mean_discount"], b["return_value_share"]) == (0.0, 0.0, 0.0)
    assert a["channel_share_web"] == pytest.approx(2 / 3)
    assert a["channel_share_app"] == pytest.approx(1 / 3)
    assert (a["channel_share_store"], b["channel_share_store"]) == (0.0, 1.0)


def test_windows(rows: dict[str, dict[str, float]]) -> None:
    a, b = rows["a"], rows["b"]
    # last 30 days: [2024-03-02, 2024-04-01): O3 and the return
    assert (a["frequency_last_30d"], a["monetary_last_30d"]) == (1, 45.0)
    assert (a["frequency_last_365d"], a["monetary_last_365d"]) == (3, 95.0)
    assert (b["frequency_last_30d"], b["monetary_last_30d"]) == (0, 0.0)


def test_column_order_and_types() -> None:
    result = frame_features(log(), spec(), as_of=AS_OF, today=TODAY, families=FAMILIES)
    columns = list(result.features.columns)
    assert columns[:6] == ["customer_id", *RFM_FEATURES]
    assert str(result.features["frequency"].dtype) == "int64"
    assert str(result.features["distinct_products"].dtype) == "int64"
    assert str(result.features["monetary"].dtype) == "float64"
    assert result.spec is not None and result.spec.families == FAMILIES


def test_data_dependent_choices_are_resolved() -> None:
    result = frame_features(
        log(), spec(channels=None, peak_months=None, discount_unit="auto"), as_of=AS_OF,
        today=TODAY, families=FAMILIES,
    )  # fmt: skip
    resolved = result.spec
    assert resolved is not None
    assert resolved.channels == ("web", "app", "store")  # by lines: 4, then 1 and 1 by name
    assert resolved.peak_months == (3, 12)  # spend before A: December 60, March 50, January 30
    assert resolved.discount_unit == "rate"  # the largest discount is 0.2
    assert resolved.hour_profile is True
    # a resolved spec recomputes the same features
    again = frame_features(log(), resolved, as_of=AS_OF, today=TODAY)
    pd.testing.assert_frame_equal(again.features, result.features)


def test_discount_units() -> None:
    frame = log()
    frame["discount"] = frame["discount"] * 100  # percentages
    percent = frame_features(frame, spec(), as_of=AS_OF, today=TODAY, families=("rfm", "discount"))
    assert percent.spec is not None and percent.spec.discount_unit == "percent"
    row = percent.features.set_index("customer_id").loc["a"]
    assert row["mean_discount"] == pytest.approx(0.09)
    frame["discount"] = [0.0, 5.0, 0.0, 5.0, 0.0, 0.0, 0.0]  # money off the line
    amount = frame_features(
        frame, spec(discount_unit="amount"), as_of=AS_OF, today=TODAY, families=("rfm", "discount")
    )
    row = amount.features.set_index("customer_id").loc["a"]
    assert row["mean_discount"] == pytest.approx((20 * 5 / 25 + 50 * 5 / 55) / 100)


def test_dates_without_time_have_no_hour_profile() -> None:
    frame = log()
    frame["when"] = frame["when"].dt.normalize()
    result = frame_features(frame, spec(), as_of=AS_OF, today=TODAY, families=("rfm", "timing"))
    assert "morning_share" not in result.features.columns
    assert "weekend_share" in result.features.columns


def test_families_needing_a_missing_column_are_skipped_or_refused() -> None:
    frame = log().drop(columns=["channel", "discount", "category"])
    bare = spec(channel=None, discount=None, category=None)
    result = frame_features(frame, bare, as_of=AS_OF, today=TODAY, families=FAMILIES)
    assert not any(
        c.startswith(("channel_share", "mean_discount")) for c in result.features.columns
    )
    assert "distinct_categories" not in result.features.columns
    from segmint.errors import UsageError

    with pytest.raises(UsageError, match="'channel' needs a channel column"):
        frame_features(
            frame,
            spec(channel=None, discount=None, category=None, families=("channel",)),
            as_of=AS_OF,
        )


def test_as_of_default_is_the_day_after_the_last_line() -> None:
    result = frame_features(log(), spec(), today=TODAY, families=("rfm",))
    assert result.account["as_of"] == "2024-05-02"
    assert result.features.set_index("customer_id").loc["b", "frequency"] == 2
