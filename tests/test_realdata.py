"""End to end on the public datasets in ``../shared/data`` (see its README.md for the traps).

Each dataset is fitted once with :func:`segmint.runner.fit_file` into a temporary folder;
expectations are computed independently from the raw files with pandas where possible.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from segmint.cli import app
from segmint.profile import ARCHETYPES
from segmint.runner import FitRun, fit_file

pytestmark = pytest.mark.realdata

SEGMENT_COLUMNS = ["customer_id", "segment", "segment_name", "confidence"]


def read_out(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype={"customer_id": str}, keep_default_na=False)


def check_outputs(run: FitRun) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The invariants every run must meet; returns (segments, excluded) as read back."""
    segments = read_out(run.out_dir, "segments.csv")
    excluded = read_out(run.out_dir, "excluded.csv")
    summary = run.summary
    log = summary["input_kind"] == "transactions"
    quality = ["quality_score", "quality_reasons"] if log else []
    # A Gaussian mixture adds its posterior of every segment (p_segment_<id>).
    posteriors = [c for c in segments.columns if c.startswith("p_segment_")]
    assert posteriors == [] or summary["algorithm"] == "gmm"
    # Without an id column the ids are data row numbers, and the column says so.
    no_id = str(summary["data"].get("customer_id", "")).startswith("row number")
    id_col = "row_number" if no_id else "customer_id"
    columns = [id_col if c == "customer_id" else c for c in SEGMENT_COLUMNS]
    assert list(segments.columns) == columns + posteriors + quality
    assert segments["confidence"].between(0.0, 1.0).all()
    assert len(segments) == summary["n_customers"]
    assert len(excluded) == summary["n_excluded"]
    assert segments[id_col].is_unique
    named = [i for i in excluded[id_col] if i]
    assert len(named) == len(set(named))
    assert not set(segments[id_col]) & set(named)
    names = [s["name"] for s in summary["segments"]]
    assert len(names) == len(set(names)) == summary["k"]
    assert sorted(segments["segment"].unique()) == list(range(summary["k"]))
    assert [s["size"] for s in summary["segments"]] == segments[
        "segment"
    ].value_counts().sort_index().tolist()
    on_disk = json.loads((run.out_dir / "summary.json").read_text(encoding="utf-8"))
    assert on_disk["k"] == summary["k"]
    return segments, excluded


def decisions_of(summary: dict[str, Any], column: str) -> list[dict[str, Any]]:
    return [d for d in summary["preparation"]["decisions"] if d["column"] == column]


# --------------------------------------------------------------------------- Online Retail


@pytest.fixture(scope="module")
def online_retail(shared_data: Path) -> Path:
    return shared_data / "online-retail" / "online_retail.csv"


@pytest.fixture(scope="module")
def online_retail_run(online_retail: Path, tmp_path_factory: pytest.TempPathFactory) -> FitRun:
    return fit_file(online_retail, out_dir=tmp_path_factory.mktemp("online-retail") / "run")


@pytest.fixture(scope="module")
def online_retail_raw(online_retail: Path) -> pd.DataFrame:
    return pd.read_csv(online_retail, dtype=str, keep_default_na=False)


def test_online_retail_detected_as_transactions(online_retail_run: FitRun) -> None:
    summary = online_retail_run.summary
    assert summary["input_kind"] == "transactions"
    assert summary["roles"] == {
        "kind": "transactions",
        "customer": "CustomerID",
        "time": "InvoiceDate",
        "amount": None,
        "quantity": "Quantity",
        "price": "UnitPrice",
        "order": "InvoiceNo",
    }
    assert 2 <= summary["k"] <= 10
    assert summary["load"]["date_formats"] == {"InvoiceDate": "YYYY-MM-DD"}
    assert summary["data"]["as_of"] == "2011-12-10"


def test_online_retail_every_customer_once(
    online_retail_run: FitRun, online_retail_raw: pd.DataFrame
) -> None:
    segments, excluded = check_outputs(online_retail_run)
    ids = online_retail_raw["CustomerID"].str.strip()
    expected = set(ids[ids != ""])
    assert len(expected) == 4372
    assert set(segments["customer_id"]) | set(excluded["customer_id"]) == expected
    assert len(segments) + len(excluded) == 4372
    assert set(excluded["reason"]) <= {
        "no_purchases",
        "no_valid_dates",
        "no_transactions_before_as_of",
    }
    assert online_retail_run.summary["data"]["customers_in_log"] == 4372


def test_online_retail_row_accounting(
    online_retail_run: FitRun, online_retail_raw: pd.DataFrame
) -> None:
    data = online_retail_run.summary["data"]
    raw = online_retail_raw
    blank = raw["CustomerID"].str.strip() == ""
    duplicate = raw.duplicated(keep="first")
    assert int(duplicate.sum()) == 5268  # README
    assert data["rows_read"] == len(raw) == 541_909
    assert data["duplicate_rows_dropped"] == int(duplicate.sum())
    assert data["rows_without_customer_id"] == int(blank.sum()) - int((blank & duplicate).sum())
    # return lines among the kept rows with a customer: cancellations or negative value
    kept = raw[~duplicate & ~blank]
    value = pd.to_numeric(kept["Quantity"]) * pd.to_numeric(kept["UnitPrice"])
    returns = (value < 0) | kept["InvoiceNo"].str.upper().str.startswith("C")
    assert data["return_lines"] == int(returns.sum())


def test_online_retail_assign_reproduces_segments(
    online_retail_run: FitRun, online_retail: Path, tmp_path: Path
) -> None:
    target = tmp_path / "labels.csv"
    result = CliRunner().invoke(
        app,
        ["assign", str(online_retail_run.out_dir), str(online_retail), "--out", str(target)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.stderr
    assert target.read_bytes() == (online_retail_run.out_dir / "segments.csv").read_bytes()
    excluded = tmp_path / "labels.excluded.csv"
    assert excluded.read_bytes() == (online_retail_run.out_dir / "excluded.csv").read_bytes()


# --------------------------------------------------------------------------- Online Retail II


def test_online_retail_ii_xlsx_both_sheets(shared_data: Path, tmp_path: Path) -> None:
    folder = shared_data / "online-retail-ii-subset"
    run = fit_file(folder / "online_retail_II.country-subset.xlsx", out_dir=tmp_path / "run")
    summary = run.summary
    load = summary["load"]
    assert load["format"] == "excel"
    assert load["sheets_read"] == ["Year 2009-2010", "Year 2010-2011"]
    assert load["sheet_rows"] == {"Year 2009-2010": 14_269, "Year 2010-2011": 20_497}

    # independently, from the derived CSV of each sheet: rows of the second sheet already
    # in the first (as multisets), and the customers of both
    first = pd.read_csv(
        folder / "online_retail_II.country-subset.Year_2009-2010.csv",
        dtype=str,
        keep_default_na=False,
    )
    second = pd.read_csv(
        folder / "online_retail_II.country-subset.Year_2010-2011.csv",
        dtype=str,
        keep_default_na=False,
    )
    key_first = first.apply(tuple, axis=1).value_counts()
    key_second = second.apply(tuple, axis=1)
    occurrence = key_second.groupby(key_second).cumcount()
    prior = key_second.map(key_first).fillna(0)
    overlap = int((occurrence < prior).sum())
    assert overlap == 441  # README
    assert load["cross_sheet_duplicates_removed"] == overlap
    assert summary["data"]["rows_read"] == 14_269 + 20_497 - overlap

    assert summary["input_kind"] == "transactions"
    assert summary["roles"]["customer"] == "Customer ID"
    assert summary["roles"]["order"] == "Invoice"
    segments, excluded = check_outputs(run)
    ids = pd.concat([first["Customer ID"], second["Customer ID"]]).str.strip()
    expected = set(ids[ids != ""])
    assert set(segments["customer_id"]) | set(excluded["customer_id"]) == expected
    assert len(segments) + len(excluded) == len(expected)


# --------------------------------------------------------------------------- Telco


def test_telco_customer_table(shared_data: Path, tmp_path: Path) -> None:
    data = shared_data / "telco-churn" / "WA_Fn-UseC_-Telco-Customer-Churn.csv"
    run = fit_file(data, out_dir=tmp_path / "run", exclude=("Churn",))
    summary = run.summary
    assert summary["input_kind"] == "customers"
    assert summary["roles"]["customer"] == "customerID"
    assert summary["n_customers"] == 7043
    assert summary["n_excluded"] == 0
    columns = summary["preparation"]["columns"]
    assert not any(c.startswith(("customerID", "Churn")) for c in columns)
    assert "customerID" not in summary["features"] and "Churn" in summary["features"]
    assert decisions_of(summary, "Churn") == [
        {"column": "Churn", "action": "excluded", "reason": "not a feature (id or excluded)"}
    ]
    # TotalCharges: text with 11 blanks in the file -> numbers, the blanks imputed
    raw = pd.read_csv(data, dtype=str, keep_default_na=False)
    blanks = int((raw["TotalCharges"].str.strip() == "").sum())
    assert blanks == 11
    [imputed] = [d for d in decisions_of(summary, "TotalCharges") if d["action"] == "imputed"]
    assert imputed["missing"] == blanks
    numbers = pd.to_numeric(raw["TotalCharges"], errors="coerce")
    assert imputed["value"] == pytest.approx(float(numbers.median()))
    assert "TotalCharges" in columns
    # categoricals one-hot, two-level ones as one 0/1 column
    contract = decisions_of(summary, "Contract")
    assert contract == [{"column": "Contract", "action": "one-hot", "levels": 3}]
    assert {"Contract=Month-to-month", "Contract=One year", "Contract=Two year"} <= set(columns)
    assert "Partner=Yes" in columns and "Partner=No" not in columns
    check_outputs(run)
    segments = read_out(run.out_dir, "segments.csv")
    assert set(segments["customer_id"]) == set(raw["customerID"])


# --------------------------------------------------------------------------- Mall


def test_mall_customers(shared_data: Path, tmp_path: Path) -> None:
    data = shared_data / "mall-customers" / "Mall_Customers.csv"
    run = fit_file(data, out_dir=tmp_path / "run")
    summary = run.summary
    assert summary["input_kind"] == "customers"
    assert summary["roles"]["customer"] == "CustomerID"
    assert summary["n_customers"] == 200
    segments, _ = check_outputs(run)
    raw = pd.read_csv(data, dtype=str, keep_default_na=False)
    assert raw["CustomerID"].iloc[0] == "0001"
    assert segments["customer_id"].tolist() == raw["CustomerID"].tolist()
    assert (
        (run.out_dir / "segments.csv")
        .read_text(encoding="utf-8")
        .splitlines()[1]
        .startswith("0001,")
    )
    # By default the segments are not the levels of Genre (k = 2, a pure gender split
    # before; then four groups once per gender): Genre is left out and the customers
    # segmented on age, income and score, where the gap passes over k = 2 (no higher than
    # one segment's) to the stable k = 4.
    assert decisions_of(summary, "Genre")[0]["action"] == "excluded"
    assert summary["trivial_excluded"][0]["column"] == "Genre"
    assert summary["trivial_excluded"][0]["value"] == 1.0
    assert summary["warnings"][0].startswith("the first segments (k = ")
    assert "the levels of Genre" in summary["warnings"][0]
    assert summary["k"] == 4 and summary["structure"]
    assert "Genre=Male" not in summary["preparation"]["columns"]
    assert summary["trivial_partition"] is None
    kept = fit_file(data, out_dir=tmp_path / "kept", keep=("Genre",))
    assert decisions_of(kept.summary, "Genre") == [
        {"column": "Genre", "action": "one-hot", "levels": 2}
    ]
    assert kept.summary["trivial_partition"]["column"] == "Genre"
    names = [s["name"] for s in summary["segments"]]
    assert not set(names) & set(ARCHETYPES)
    assert all(name and name != "Typical customers" for name in names)


# --------------------------------------------------------------------------- Customer Personality


def test_customer_personality(shared_data: Path, tmp_path: Path) -> None:
    data = shared_data / "customer-personality" / "marketing_campaign.csv"
    run = fit_file(data, out_dir=tmp_path / "run")
    summary = run.summary
    assert summary["load"]["delimiter"] == "\t"
    assert summary["load"]["date_formats"] == {"Dt_Customer": "DD-MM-YYYY"}
    assert summary["load"]["column_types"]["Dt_Customer"] == "datetime"
    assert summary["input_kind"] == "customers"
    assert summary["roles"]["customer"] == "ID"
    assert summary["n_customers"] == 2240
    for column in ("Z_CostContact", "Z_Revenue"):
        assert decisions_of(summary, column) == [
            {"column": column, "action": "dropped", "reason": "constant"}
        ]
    assert "Dt_Customer" in summary["preparation"]["columns"]
    [plan] = [p for p in run.result.model.preparation.plans if p.name == "Dt_Customer"]
    assert plan.kind == "datetime"
    raw = pd.read_csv(data, sep="\t", dtype=str, keep_default_na=False)
    latest = pd.to_datetime(raw["Dt_Customer"], format="%d-%m-%Y").max()
    assert pd.Timestamp(plan.reference) == latest
    # Income: 24 blanks and the placeholder 666666 imputed
    [imputed] = [d for d in decisions_of(summary, "Income") if d["action"] == "imputed"]
    assert int((raw["Income"].str.strip() == "").sum()) == 24
    assert int((raw["Income"].str.strip() == "666666").sum()) == 1
    assert imputed["missing"] == 24 + 1
    [placeholder] = [
        d for d in decisions_of(summary, "Income") if d["action"] == "values set to missing"
    ]
    assert placeholder["values"] == [666666.0] and placeholder["rows"] == 1
    segments, _ = check_outputs(run)
    assert set(segments["customer_id"]) == set(raw["ID"])


# --------------------------------------------------------------------------- Wholesale


def test_wholesale_customers(shared_data: Path, tmp_path: Path) -> None:
    """No id column at all: every row is a customer, numbered from 1."""
    data = shared_data / "wholesale-customers" / "Wholesale customers data.csv"
    run = fit_file(data, out_dir=tmp_path / "run")
    summary = run.summary
    assert summary["input_kind"] == "customers"
    assert summary["roles"]["customer"] is None
    assert "row number" in summary["data"]["customer_id"]
    assert summary["n_customers"] == 440
    assert summary["n_excluded"] == 0
    segments, _ = check_outputs(run)
    assert segments["row_number"].astype(str).tolist() == [str(i) for i in range(1, 441)]
    assert {"Fresh", "Milk", "Grocery"} <= set(summary["features"])
    # The two channels (hotel/restaurant/cafe, retail) were the segments; without the
    # Channel column the spending shows no distinct segments, and the warning says so.
    assert summary["trivial_excluded"][0]["column"] == "Channel"
    assert summary["k"] == 1
    assert "the levels of Channel are the only split" in summary["warnings"][0]
