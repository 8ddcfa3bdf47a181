"""Features and cleaning on the public datasets and on the generator, checked against
counts computed independently with pandas from the raw files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmint import workplan
from segmint.datasets import make_transactions
from segmint.features import FAMILIES, FeatureSpec, frame_features
from segmint.features.spec import DEFAULT_NON_PRODUCT_CODES
from segmint.featurize import LogFeatures, log_features

TODAY = dt.date(2026, 1, 1)
NON_PRODUCT = {c.upper() for c in DEFAULT_NON_PRODUCT_CODES}


# --------------------------------------------------------------------------- Online Retail


@pytest.fixture(scope="module")
def retail_path(shared_data: Path) -> Path:
    return shared_data / "online-retail" / "online_retail.csv"


@pytest.fixture(scope="module")
def retail(retail_path: Path) -> LogFeatures:
    return log_features(retail_path, today=TODAY)


@pytest.fixture(scope="module")
def retail_raw(retail_path: Path) -> pd.DataFrame:
    raw = pd.read_csv(retail_path, dtype=str, keep_default_na=False)
    kept = raw.drop_duplicates()
    kept = kept[kept["CustomerID"].str.strip() != ""].copy()
    kept["qty"] = pd.to_numeric(kept["Quantity"])
    kept["price"] = pd.to_numeric(kept["UnitPrice"])
    kept["cancel"] = kept["InvoiceNo"].str.upper().str.startswith("C")
    kept["non_product"] = kept["StockCode"].str.strip().str.upper().isin(NON_PRODUCT)
    return kept


@pytest.mark.realdata
def test_online_retail_columns_and_no_personal_data(retail: LogFeatures) -> None:
    spec = retail.spec
    assert (spec.customer, spec.time, spec.order, spec.product) == (
        "CustomerID",
        "InvoiceDate",
        "InvoiceNo",
        "StockCode",
    )
    assert (spec.quantity, spec.price, spec.amount) == ("Quantity", "UnitPrice", None)
    assert retail.pii == []
    assert retail.load["streamed"] is True and retail.load["typed_on_sample"] is True
    assert retail.result.account["rows_read"] == 541_909
    assert retail.result.account["duplicate_rows_dropped"] == 5_268


@pytest.mark.realdata
def test_online_retail_non_product_lines_and_zero_prices(
    retail: LogFeatures, retail_raw: pd.DataFrame
) -> None:
    lines = retail.result.account["cleaning"]["lines"]
    assert lines["non_product"] == int(retail_raw["non_product"].sum())  # POST, DOT, M, C2, ...
    assert set(retail_raw.loc[retail_raw["non_product"], "StockCode"].str.upper()) >= {
        "POST", "DOT", "M", "BANK CHARGES", "C2", "D",
    }  # fmt: skip
    products = retail_raw[~retail_raw["non_product"]]
    adjustment = (products["qty"] < 0) & (products["price"] == 0) & ~products["cancel"]
    assert lines["stock_adjustment"] == int(adjustment.sum()) == 0  # those have no customer
    assert lines["zero_price"] == int(((products["price"] == 0) & ~adjustment).sum())
    anonymous = retail.result.account["cleaning"]["anonymous_lines"]
    assert anonymous["stock_adjustment"] == 1_336  # damaged, lost, "check" ...: no customer id
    # every line with a customer id is in exactly one state
    assert sum(lines.values()) == len(retail_raw)


@pytest.mark.realdata
def test_online_retail_absurd_orders_cancelled_the_same_day_are_void(
    retail: LogFeatures, retail_raw: pd.DataFrame
) -> None:
    features = retail.result.features.set_index("customer_id")
    excluded = retail.result.excluded.set_index("customer_id")
    # 12346 ordered 74,215 jars and cancelled them 16 minutes later: nothing else
    assert excluded.loc["12346", "reason"] == "no_purchases"
    # 16446 ordered 80,995 paper birdies on 2011-12-09 and cancelled at once; their spend
    # is the rest: what they bought on 2011-05-18
    rest = retail_raw[(retail_raw["CustomerID"] == "16446") & (retail_raw["qty"].abs() != 80_995)]
    assert features.loc["16446", "monetary"] == pytest.approx(
        float((rest["qty"] * rest["price"]).sum())
    )
    assert features.loc["16446", "frequency"] == rest["InvoiceNo"].nunique()
    lines = retail.result.account["cleaning"]["lines"]
    assert lines["voided"] >= 4 and lines["absurd_quantity"] == 0
    quality = retail.result.quality.set_index("customer_id")
    assert "cancelled the same day" in quality.loc["16446", "quality_reasons"]


@pytest.mark.realdata
def test_online_retail_cancellations_are_matched_to_orders(
    retail: LogFeatures, retail_raw: pd.DataFrame
) -> None:
    cleaning = retail.result.account["cleaning"]
    kept_returns = cleaning["lines"]["return"]
    assert cleaning["cancellations_matched"] + cleaning["cancellations_unmatched"] == kept_returns
    assert cleaning["cancellations_matched"] > 0.8 * kept_returns  # most find their order
    cancels = retail_raw[retail_raw["cancel"] & ~retail_raw["non_product"]]
    assert kept_returns == len(cancels) - cleaning["lines"]["voided"] // 2 - int(
        (cancels["price"] == 0).sum()
    )
    # every customer accounted for
    assert len(retail.result.features) + len(retail.result.excluded) == 4_372


@pytest.mark.realdata
def test_online_retail_same_features_from_a_work_database_file(
    retail_path: Path, retail: LogFeatures, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log too large for memory is worked on from a database file (duplicates and voided
    lines then marked in a stored, compressed table): the same numbers as in memory."""
    assert retail.load["work"]["work_database"] == "memory"
    monkeypatch.setattr(workplan, "LINE_BYTES", 1 << 40)  # every log "too large"
    on_disk = log_features(retail_path, today=TODAY)
    assert on_disk.load["work"]["work_database"] == "file"
    assert on_disk.load["work"]["memory_limit"] == "1GB"
    pd.testing.assert_frame_equal(retail.result.features, on_disk.result.features)
    pd.testing.assert_frame_equal(retail.result.quality, on_disk.result.quality)
    pd.testing.assert_frame_equal(retail.result.excluded, on_disk.result.excluded)
    a, b = dict(retail.result.account), dict(on_disk.result.account)
    a.pop("timings_seconds"), b.pop("timings_seconds")
    assert a == b


# --------------------------------------------------------------------------- Online Retail II


@pytest.mark.realdata
def test_online_retail_ii_workbook_equals_its_sheets_as_csv(
    shared_data: Path, tmp_path: Path
) -> None:
    folder = shared_data / "online-retail-ii-subset"
    workbook = log_features(folder / "online_retail_II.country-subset.xlsx", today=TODAY)
    sheets = [
        pd.read_csv(
            folder / f"online_retail_II.country-subset.Year_{y}.csv",
            dtype=str,
            keep_default_na=False,
        )
        for y in ("2009-2010", "2010-2011")
    ]
    both = tmp_path / "both.csv"
    pd.concat(sheets).to_csv(both, index=False)
    csv = log_features(both, today=TODAY)  # streamed; the overlap comes twice
    assert workbook.load["cross_sheet_duplicates_removed"] == 441
    assert (
        csv.result.account["duplicate_rows_dropped"]
        == workbook.result.account["duplicate_rows_dropped"] + 441
    )
    pd.testing.assert_frame_equal(
        workbook.result.features, csv.result.features, check_exact=False, rtol=1e-9
    )
    pd.testing.assert_frame_equal(workbook.result.excluded, csv.result.excluded)
    assert workbook.spec == csv.spec
    assert workbook.spec.customer == "Customer ID" and workbook.spec.price == "Price"


# --------------------------------------------------------------------------- generator


GENERATOR_SPEC = FeatureSpec(
    customer="CustomerID", time="InvoiceDate", order="InvoiceNo", quantity="Quantity",
    price="UnitPrice",
    product="StockCode", category="Category", channel="Channel", discount="Discount",
)  # fmt: skip


def test_generator_dirt_is_counted_exactly() -> None:
    log = make_transactions(1200, seed=21)
    result = frame_features(log, GENERATOR_SPEC, today=TODAY, families=FAMILIES)
    account = result.account
    assert account["duplicate_rows_dropped"] == int(log.duplicated().sum())
    unique = log.drop_duplicates()
    customers = unique[unique["CustomerID"].notna()]
    assert account["rows_without_customer_id"] == int(unique["CustomerID"].isna().sum())
    lines = account["cleaning"]["lines"]
    non_product = customers["StockCode"].isin(["POST", "M", "BANK CHARGES"])
    assert lines["non_product"] == int(non_product.sum())
    assert lines["zero_price"] == int(((customers["UnitPrice"] == 0) & ~non_product).sum())
    assert lines["voided"] == 2  # the 60,000-100,000-unit line and its same-day cancellation
    assert lines["absurd_quantity"] == 0
    returns = customers["InvoiceNo"].str.startswith("C") & (customers["UnitPrice"] > 0)
    assert lines["return"] == int(returns.sum()) - 1
    assert account["cleaning"]["cancellations_unmatched"] == 0  # every return follows its order
    assert len(result.features) + len(result.excluded) == log["CustomerID"].nunique()


def test_generator_archetypes_are_found_better_than_with_rfm_alone() -> None:
    """k-means (k = 6, the planted archetypes) on log-scaled, standardised features: the
    default families find the archetypes clearly better than RFM alone.  (The benchmark
    measures the same through segmint's whole pipeline.)"""
    import numpy as np
    from sklearn.cluster import KMeans

    from segmint.features import FIT_FAMILIES

    log, truth = make_transactions(2500, seed=8, return_truth=True)
    archetype = truth.set_index("CustomerID")["archetype"]
    scores = {}
    for families in (("rfm",), FIT_FAMILIES):
        spec = FeatureSpec(**{**GENERATOR_SPEC.__dict__, "families": families})
        result = frame_features(log, spec, today=TODAY)
        x = result.features.drop(columns="customer_id").astype(float)
        x = x.fillna(x.median())
        x = np.sign(x) * np.log1p(np.abs(x))
        x = (x - x.mean()) / x.std().replace(0, 1)
        labels = KMeans(6, n_init=10, random_state=0).fit_predict(x)
        scores[families] = adjusted_rand_score(archetype[result.features["customer_id"]], labels)
    assert scores[FIT_FAMILIES] >= 0.8
    assert scores[FIT_FAMILIES] > scores[("rfm",)] + 0.05
