"""Tests of the synthetic transaction-log generator ``segmint.datasets``."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmint.datasets import (
    ARCHETYPES,
    COLUMNS,
    DEFAULT_WEIGHTS,
    make_transactions,
    write_transactions,
)
from segmint.errors import UsageError

START, END = pd.Timestamp("2023-01-01"), pd.Timestamp("2024-12-31")
STRING_COLUMNS = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Category",
    "Channel",
    "CustomerID",
    "Country",
]
NON_PRODUCT = {"POST", "M", "BANK CHARGES"}
CSV_DTYPES = {"InvoiceNo": "str", "StockCode": "str", "CustomerID": "str"}


@pytest.fixture(scope="module")
def dirty() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_transactions(3000, seed=11, return_truth=True)


@pytest.fixture(scope="module")
def clean() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_transactions(1500, seed=12, dirty=False, return_truth=True)


def is_c(log: pd.DataFrame) -> pd.Series:
    return log["InvoiceNo"].str.startswith("C")


def orders_of(log: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """One row per customer order (non-"C" invoice): customer, archetype, date, value."""
    sales = log[~is_c(log) & log["CustomerID"].notna()]
    sales = sales.assign(value=sales["Quantity"] * sales["UnitPrice"])
    orders = sales.groupby("InvoiceNo", as_index=False).agg(
        CustomerID=("CustomerID", "first"),
        date=("InvoiceDate", "first"),
        value=("value", "sum"),
    )
    return orders.merge(truth, on="CustomerID", validate="many_to_one")


def customers_of(log: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """One row per customer: archetype, number of orders, first and last order date."""
    return (
        orders_of(log, truth)
        .groupby("CustomerID")
        .agg(
            archetype=("archetype", "first"),
            orders=("InvoiceNo", "nunique"),
            first=("date", "min"),
            last=("date", "max"),
        )
    )


def check_invariants(log: pd.DataFrame, truth: pd.DataFrame, start: str, end: str) -> None:
    """What must hold for every log, whatever the arguments."""
    assert list(log.columns) == list(COLUMNS)
    for column in STRING_COLUMNS:
        assert log[column].dtype == "str", column
    assert log["Quantity"].dtype == np.int64
    assert log["InvoiceDate"].dtype == "datetime64[ns]"
    assert log["UnitPrice"].dtype == np.float64
    assert log["Discount"].dtype == np.float64
    assert list(truth.columns) == ["CustomerID", "archetype"]
    assert truth["CustomerID"].is_unique
    assert set(truth["CustomerID"]) == set(log["CustomerID"].dropna())
    assert set(truth["archetype"]) <= set(ARCHETYPES)
    if log.empty:
        return
    # "C" invoices are exactly the negative quantities; no zero quantities.
    assert (is_c(log) == (log["Quantity"] < 0)).all()
    assert (log["Quantity"] != 0).all()
    assert log["InvoiceNo"].str.fullmatch(r"C?\d+").all()
    assert log["CustomerID"].dropna().str.fullmatch(r"C\d{6,}").all()
    assert log["Discount"].between(0, 0.5).all()
    assert (log["UnitPrice"] >= 0).all()
    assert np.allclose(log["UnitPrice"], log["UnitPrice"].round(2), rtol=0, atol=1e-9)
    assert set(log["Channel"]) <= {"web", "app", "store"}
    assert (
        log["InvoiceDate"]
        .between(pd.Timestamp(start), pd.Timestamp(end) + pd.Timedelta(days=1))
        .all()
    )
    # An invoice is one event: one customer, time, channel and country, rows together.
    per_invoice = log.groupby("InvoiceNo")[["InvoiceDate", "Channel", "Country"]].nunique()
    assert (per_invoice == 1).all().all()
    assert (log.groupby("InvoiceNo")["CustomerID"].nunique(dropna=False) == 1).all()
    runs = (log["InvoiceNo"] != log["InvoiceNo"].shift()).sum()
    assert runs == log["InvoiceNo"].nunique()
    # Invoice numbers are unique across "C" and non-"C" and increase with time.
    numbers = log["InvoiceNo"].str.lstrip("C").astype(np.int64)
    assert numbers.groupby(numbers).size().index.size == log["InvoiceNo"].nunique()
    assert numbers.is_monotonic_increasing
    assert log["InvoiceDate"].is_monotonic_increasing
    # A one-off buyer has exactly one order.
    customers = customers_of(log, truth)
    assert (customers.loc[customers["archetype"] == "one_off_buyer", "orders"] == 1).all()


# --------------------------------------------------------------------------------------
# Shape, types, determinism
# --------------------------------------------------------------------------------------
def test_same_seed_same_log_and_different_seed_different_log() -> None:
    first, truth1 = make_transactions(400, seed=5, return_truth=True)
    second, truth2 = make_transactions(400, seed=5, return_truth=True)
    pd.testing.assert_frame_equal(first, second)
    pd.testing.assert_frame_equal(truth1, truth2)
    other, truth3 = make_transactions(400, seed=6, return_truth=True)
    assert not first.equals(other)
    assert not truth1.equals(truth3)


def test_columns_dtypes_and_invariants(dirty: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    log, truth = dirty
    check_invariants(log, truth, "2023-01-01", "2024-12-31")
    assert isinstance(log.index, pd.RangeIndex)
    assert log["Category"].nunique() == 9  # eight product categories and "Service"
    assert set(log["Category"]) >= {"Christmas", "Home Decor", "Service"}
    assert (log["InvoiceDate"].dt.second == 0).all()
    assert log["InvoiceDate"].dt.hour.nunique() > 10  # times of day, not midnight


def test_truth_has_every_customer_of_the_log(dirty: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    log, truth = dirty
    assert len(truth) == 3000
    assert sorted(truth["CustomerID"]) == sorted(log["CustomerID"].dropna().unique())
    assert set(truth["archetype"]) == set(ARCHETYPES)
    shares = truth["archetype"].value_counts(normalize=True)
    for name, weight in DEFAULT_WEIGHTS.items():
        assert abs(shares[name] - weight) < 0.04


def test_without_truth_returns_the_same_log() -> None:
    log = make_transactions(200, seed=3)
    assert isinstance(log, pd.DataFrame)
    pd.testing.assert_frame_equal(log, make_transactions(200, seed=3, return_truth=True)[0])


def test_dirt_does_not_change_who_the_customers_are() -> None:
    _, clean_truth = make_transactions(300, seed=8, dirty=False, return_truth=True)
    _, dirty_truth = make_transactions(300, seed=8, dirty=True, return_truth=True)
    pd.testing.assert_frame_equal(clean_truth, dirty_truth)


def test_zero_customers_gives_an_empty_log_with_the_columns() -> None:
    log, truth = make_transactions(0, return_truth=True)
    assert log.empty and truth.empty
    check_invariants(log, truth, "2023-01-01", "2024-12-31")


# --------------------------------------------------------------------------------------
# Planted behaviour
# --------------------------------------------------------------------------------------
def test_order_counts_by_archetype(dirty: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    customers = customers_of(*dirty)
    median = customers.groupby("archetype")["orders"].median()
    assert median["loyal_high_spender"] > median["lapsing_regular"] > median["one_off_buyer"]
    assert median["loyal_high_spender"] >= 30  # about two a month for two years
    assert median["one_off_buyer"] == 1
    new = customers.loc[customers["archetype"] == "new_customer", "orders"]
    assert new.between(1, 3).all()


def test_timing_by_archetype(dirty: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    customers = customers_of(*dirty)
    recency = (END - customers["last"].dt.normalize()).dt.days
    age = (END - customers["first"].dt.normalize()).dt.days
    kind = customers["archetype"]
    assert (age[kind == "new_customer"] < 90).all()
    assert (age[kind != "new_customer"] >= 90).mean() > 0.95
    assert recency[kind == "lapsing_regular"].between(180, 366).all()
    assert (recency[kind == "loyal_high_spender"] < 30).all()
    assert (recency[kind == "one_off_buyer"] >= 90).all()  # not mistaken for new ones
    # Lapsing regulars were frequent in the first half of the period.
    orders = orders_of(*dirty)
    lapsing = orders[orders["archetype"] == "lapsing_regular"]
    first_half = lapsing["date"] < pd.Timestamp("2024-01-01")
    assert first_half.groupby(lapsing["CustomerID"]).sum().median() >= 10


def test_seasons_by_archetype(dirty: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    orders = orders_of(*dirty)
    month, day = orders["date"].dt.month, orders["date"].dt.day
    in_sale = (month == 1) | (month == 7) | ((month == 11) & (day >= 20))
    sale_share = in_sale.groupby(orders["archetype"]).mean()
    assert sale_share["bargain_hunter"] > 0.5
    assert sale_share.drop("bargain_hunter").max() < 0.35
    gifting = (month >= 11).groupby(orders["archetype"]).mean()
    assert gifting["occasional_gifter"] > 0.6
    # Everyone buys more in November and December than an even spread would give.
    assert (month >= 11).mean() > 2 / 12 * 1.2


def test_money_by_archetype(dirty: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    log, truth = dirty
    orders = orders_of(log, truth)
    value = orders.groupby("archetype")["value"].median()
    assert value["loyal_high_spender"] == value.max()
    assert value["loyal_high_spender"] > 3 * value["bargain_hunter"]
    assert value["one_off_buyer"] < value["new_customer"]
    products = log[~is_c(log) & ~log["StockCode"].isin(NON_PRODUCT)]
    products = products.merge(truth, on="CustomerID")
    discount = products.groupby("archetype")["Discount"].mean()
    assert discount["bargain_hunter"] > 2 * discount.drop("bargain_hunter").max()
    assert discount["loyal_high_spender"] == discount.min()


def test_returns_reference_a_product_the_customer_bought(
    dirty: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    log, truth = dirty
    returns = log[is_c(log)].reset_index(names="row")
    bought = log[~is_c(log)]
    assert len(returns) > 100
    assert returns["CustomerID"].notna().all()
    pairs = returns.merge(bought, on=["CustomerID", "StockCode"], suffixes=("", "_bought"))
    pairs = pairs[pairs["InvoiceDate_bought"] <= pairs["InvoiceDate"]]
    latest = pairs.groupby("row")["InvoiceDate_bought"].max()
    assert latest.index.nunique() == len(returns)  # every return has an earlier purchase
    delay = (returns.set_index("row")["InvoiceDate"] - latest).dt.days
    assert (delay <= 28).all()
    # Loyal customers return least.
    rate = (returns.merge(truth, on="CustomerID").groupby("archetype").size()) / orders_of(
        log, truth
    ).groupby("archetype").size()
    assert rate["loyal_high_spender"] == rate.min()


# --------------------------------------------------------------------------------------
# Dirt
# --------------------------------------------------------------------------------------
def test_clean_log_has_no_dirt(clean: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    log, truth = clean
    check_invariants(log, truth, "2023-01-01", "2024-12-31")
    assert log["CustomerID"].notna().all()
    assert not log.duplicated().any()
    assert (log["UnitPrice"] > 0).all()
    assert not log["StockCode"].isin(NON_PRODUCT).any()
    assert "Service" not in set(log["Category"])
    assert log["Quantity"].abs().max() < 1000


def test_dirty_log_has_each_kind_of_dirt(dirty: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    log, _ = dirty
    assert 0.03 < log["CustomerID"].isna().mean() < 0.08
    assert 0.002 < log.duplicated().mean() < 0.01
    assert (log["UnitPrice"] == 0).sum() >= 1
    assert set(log["StockCode"]) >= NON_PRODUCT
    service = log[log["StockCode"].isin(NON_PRODUCT)]
    assert (service["Category"] == "Service").all()
    assert (log.loc[log["StockCode"] == "POST", "Country"] != "United Kingdom").mean() > 0.5


def test_absurd_quantity_is_cancelled_the_same_day(
    dirty: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    log, _ = dirty
    big = log[log["Quantity"].abs() >= 10_000]
    assert len(big) == 2
    buy, cancel = big.iloc[0], big.iloc[1]
    assert buy["Quantity"] >= 50_000 and not buy["InvoiceNo"].startswith("C")
    assert cancel["InvoiceNo"].startswith("C")
    assert cancel["Quantity"] == -buy["Quantity"]
    for column in ["StockCode", "Description", "UnitPrice", "CustomerID", "Country"]:
        assert cancel[column] == buy[column], column
    assert pd.notna(buy["CustomerID"])
    assert cancel["InvoiceDate"].normalize() == buy["InvoiceDate"].normalize()
    assert cancel["InvoiceDate"] >= buy["InvoiceDate"]


@pytest.mark.parametrize("n", [1, 5])
def test_even_a_tiny_dirty_log_has_every_kind_of_dirt(n: int) -> None:
    log = make_transactions(n, seed=2)
    assert log["CustomerID"].isna().any()
    assert log.duplicated().any()
    assert (log["UnitPrice"] == 0).any()
    assert {"M", "BANK CHARGES"} <= set(log["StockCode"])
    assert (log["Quantity"] >= 50_000).sum() == 1


# --------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------
def test_weights_set_the_mix() -> None:
    _, truth = make_transactions(300, seed=1, return_truth=True, weights={"one_off_buyer": 1})
    assert set(truth["archetype"]) == {"one_off_buyer"}
    _, truth = make_transactions(
        2000,
        seed=1,
        return_truth=True,
        weights={"loyal_high_spender": 3, "new_customer": 1},
    )
    share = truth["archetype"].value_counts(normalize=True)
    assert set(share.index) == {"loyal_high_spender", "new_customer"}
    assert abs(share["loyal_high_spender"] - 0.75) < 0.04


def test_no_loyal_customers_still_plants_the_absurd_line() -> None:
    log = make_transactions(200, seed=4, weights={"one_off_buyer": 1})
    assert (log["Quantity"] >= 50_000).sum() == 1
    assert (log["Quantity"] <= -50_000).sum() == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_customers": -1},
        {"n_customers": 2.5},
        {"seed": -3},
        {"start": "not a date"},
        {"start": "2024-02-01", "end": "2024-01-31"},
        {"weights": {"big_spender": 1.0}},
        {"weights": {"one_off_buyer": -1.0}},
        {"weights": {"one_off_buyer": 0.0}},
        {"weights": {"one_off_buyer": float("nan")}},
    ],
)
def test_bad_arguments_raise_usage_error(kwargs: dict) -> None:
    with pytest.raises(UsageError):
        make_transactions(**kwargs)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(0, 60),
    seed=st.integers(0, 2**32),
    days=st.integers(1, 1200),
    dirty=st.booleans(),
    weights=st.sampled_from(
        [None, {"one_off_buyer": 1.0}, {"lapsing_regular": 1.0, "new_customer": 1.0}]
    ),
)
def test_any_arguments_give_a_consistent_log(
    n: int, seed: int, days: int, dirty: bool, weights: dict[str, float] | None
) -> None:
    start = pd.Timestamp("2022-03-15")
    end = start + pd.Timedelta(days=days - 1)
    log, truth = make_transactions(
        n,
        start=str(start.date()),
        end=str(end.date()),
        seed=seed,
        dirty=dirty,
        weights=weights,
        return_truth=True,
    )
    check_invariants(log, truth, str(start.date()), str(end.date()))
    assert len(truth) == n
    if not dirty:
        assert not log.duplicated().any()
        assert log["CustomerID"].notna().all()
    customers = customers_of(log, truth)
    new = customers[customers["archetype"] == "new_customer"]
    assert ((end - new["first"].dt.normalize()).dt.days < 90).all()


# --------------------------------------------------------------------------------------
# Writing to files
# --------------------------------------------------------------------------------------
def expected_ids(n: int) -> set[str]:
    return {f"C{i:06d}" for i in range(1, n + 1)}


def test_write_parquet_in_chunks(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    rows = write_transactions(path, 500, chunk_customers=120, seed=5)
    assert pq.ParquetFile(path).metadata.num_rows == rows
    log = pd.read_parquet(path)
    assert len(log) == rows
    assert list(log.columns) == list(COLUMNS)
    assert log["InvoiceDate"].dtype == "datetime64[ns]"
    assert log["Quantity"].dtype == np.int64
    # Chunks (5 of them) have disjoint customers and invoices; all customers are there.
    assert set(log["CustomerID"].dropna()) == expected_ids(500)
    assert (log.groupby("InvoiceNo")["CustomerID"].nunique(dropna=False) == 1).all()
    numbers = log["InvoiceNo"].str.lstrip("C").astype(np.int64).drop_duplicates()
    assert numbers.is_unique
    assert numbers.min() == 500_001 and numbers.max() == 500_000 + len(numbers)
    # One absurd line in the whole file, not one per chunk.
    assert (log["Quantity"] >= 50_000).sum() == 1
    # Deterministic: the same arguments write the same file.
    again = tmp_path / "again.parquet"
    assert write_transactions(again, 500, chunk_customers=120, seed=5) == rows
    pd.testing.assert_frame_equal(pd.read_parquet(again), log)


def test_write_with_one_chunk_is_make_transactions(tmp_path: Path) -> None:
    path = tmp_path / "log.parquet"
    kwargs = {"seed": 9, "start": "2024-01-01", "end": "2024-12-31", "dirty": True}
    rows = write_transactions(path, 300, chunk_customers=1000, **kwargs)
    expected = make_transactions(300, **kwargs)
    assert rows == len(expected)
    pd.testing.assert_frame_equal(pd.read_parquet(path), expected)


def test_chunks_are_independent_samples(tmp_path: Path) -> None:
    one, many = tmp_path / "one.parquet", tmp_path / "many.parquet"
    write_transactions(one, 400, chunk_customers=400, seed=1)
    write_transactions(many, 400, chunk_customers=100, seed=1)
    first, second = pd.read_parquet(one), pd.read_parquet(many)
    assert set(first["CustomerID"].dropna()) == set(second["CustomerID"].dropna())
    # The first chunk of 100 customers is not a copy of the next one.
    by_customer = second.dropna(subset=["CustomerID"]).groupby("CustomerID").size()
    assert not np.array_equal(by_customer.iloc[:100].to_numpy(), by_customer.iloc[100:200])


def test_write_csv_round_trips(tmp_path: Path) -> None:
    csv, parquet = tmp_path / "log.csv", tmp_path / "log.parquet"
    rows = write_transactions(csv, 250, chunk_customers=60, seed=4, dirty=True)
    assert rows == write_transactions(parquet, 250, chunk_customers=60, seed=4, dirty=True)
    text = csv.read_text()
    assert text.count("\n") == rows + 1  # one header, no header per chunk
    assert "2023-" in text and ".000000000" not in text  # plain date-times
    log = pd.read_csv(csv, dtype=CSV_DTYPES, parse_dates=["InvoiceDate"])
    assert len(log) == rows
    assert set(log["CustomerID"].dropna()) == expected_ids(250)
    log["InvoiceDate"] = log["InvoiceDate"].astype("datetime64[ns]")
    pd.testing.assert_frame_equal(log, pd.read_parquet(parquet), check_dtype=False)


def test_write_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    assert write_transactions(path, 0) == 0
    assert pq.ParquetFile(path).metadata.num_rows == 0
    assert list(pd.read_parquet(path).columns) == list(COLUMNS)


def test_write_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="extension"):
        write_transactions(tmp_path / "log.xlsx", 10)
    with pytest.raises(UsageError):
        write_transactions(tmp_path / "log.csv", 10, return_truth=True)
    with pytest.raises(UsageError):
        write_transactions(tmp_path / "log.csv", 10, chunk_customers=0)
    with pytest.raises(TypeError):
        write_transactions(tmp_path / "log.csv", 10, colour="red")
    assert not any(tmp_path.iterdir())


# --------------------------------------------------------------------------------------
# Speed
# --------------------------------------------------------------------------------------
def test_speed_sanity() -> None:
    began = time.perf_counter()
    log = make_transactions(100_000, seed=3)
    seconds = time.perf_counter() - began
    print(
        f"\nmake_transactions(100_000): {len(log):,} rows "
        f"({len(log) / 100_000:.1f} per customer) in {seconds:.2f} s"
    )
    assert len(log) > 2_000_000
    assert seconds < 60  # a sanity bound only; expect a few seconds
