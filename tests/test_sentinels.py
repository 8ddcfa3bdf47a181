"""Placeholder and impossible values: planted in generated tables, found in real ones."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmint.features.roles import detect_roles
from segmint.io import read_table
from segmint.pipeline import customer_table, segment
from segmint.prepare import Preparation, fit_preparation
from segmint.report.quality import sentinels_block
from segmint.sentinels import Sentinel, clear_sentinels, find_sentinels

TODAY = dt.date(2026, 1, 1)


def _table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "income": rng.lognormal(10.8, 0.4, n).round(0),
            "visits": rng.poisson(4, n),
            "birth_year": rng.integers(1940, 2005, n),
            "status": rng.choice(["Married", "Single", "Divorced", "Together"], n),
        }
    )


@pytest.mark.parametrize(
    ("column", "code"),
    [("income", 666666.0), ("income", 999999.0), ("income", 9999999.0), ("visits", 999.0),
     ("visits", 99999.0)],
)  # fmt: skip
@pytest.mark.parametrize("copies", [1, 3])
def test_one_digit_code_at_the_top_is_found(column: str, code: float, copies: int) -> None:
    frame = _table()
    frame[column] = frame[column].astype(float)
    frame.loc[: copies - 1, column] = code
    found = find_sentinels(frame, today=TODAY)
    assert [(s.column, s.values, s.rows) for s in found] == [(column, (code,), copies)]


def test_a_code_inside_the_bulk_is_not_a_placeholder() -> None:
    """99999 is an ordinary income among incomes of 30000 to 160000: not told apart."""
    frame = _table()
    frame.loc[0, "income"] = 99999.0
    assert find_sentinels(frame, today=TODAY) == []


@pytest.mark.parametrize("code", [-1, -9, -99, -999])
def test_negative_code_in_a_non_negative_column(code: int) -> None:
    frame = _table()
    frame.loc[:4, "visits"] = code
    found = find_sentinels(frame, today=TODAY)
    assert [(s.column, s.values, s.rows) for s in found] == [("visits", (float(code),), 5)]


def test_birth_years_and_ages_outside_the_possible() -> None:
    frame = _table()
    frame.loc[:1, "birth_year"] = [1893, 2031]
    frame["Age"] = np.arange(len(frame)) % 60 + 18
    frame.loc[5:6, "Age"] = [-3, 150]
    found = {s.column: s for s in find_sentinels(frame, today=TODAY)}
    assert set(found) == {"birth_year", "Age"}
    assert (found["birth_year"].low, found["birth_year"].high, found["birth_year"].rows) == (
        1906.0,
        2026.0,
        2,
    )
    assert (found["Age"].low, found["Age"].high, found["Age"].rows) == (0.0, 120.0, 2)


def test_junk_levels_beside_large_levels() -> None:
    frame = _table()
    frame.loc[:1, "status"] = "YOLO"
    frame.loc[2, "status"] = "Absurd"
    found = find_sentinels(frame, today=TODAY)
    assert [(s.column, s.values, s.rows) for s in found] == [("status", ("Absurd", "YOLO"), 3)]


@pytest.mark.parametrize("count", [12, 30])
def test_a_rare_but_real_level_is_kept(count: int) -> None:
    frame = _table()
    frame.loc[: count - 1, "status"] = "Widow"
    assert find_sentinels(frame, today=TODAY) == []


def test_real_extremes_are_kept() -> None:
    """A top spender far out, a round income, a 999 that is not far from the others."""
    frame = _table()
    frame.loc[0, "income"] = 2_500_000.0  # far, but not a one-digit code
    frame.loc[1, "income"] = 100_000.0
    frame["score"] = np.arange(len(frame)) % 1000  # 999 is the ordinary top of 0..999
    frame["net"] = np.arange(len(frame)) % 7 - 3.0  # negative values are normal here
    assert find_sentinels(frame, today=TODAY) == []


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(60, 600),
    seed=st.integers(0, 10_000),
    code=st.sampled_from([999999.0, 666666.0, 888888.0, 9999999.0]),
    copies=st.integers(1, 4),
)
def test_planted_code_found_and_nothing_else(n: int, seed: int, code: float, copies: int) -> None:
    frame = _table(n, seed)
    clean = find_sentinels(frame, today=TODAY)
    frame.loc[: copies - 1, "income"] = code
    found = find_sentinels(frame, today=TODAY)
    assert clean == []
    assert [(s.column, s.values, s.rows) for s in found] == [("income", (code,), copies)]


def test_preparation_sets_them_missing_at_fit_and_transform() -> None:
    frame = _table()
    frame.loc[0, "income"] = 999999.0
    frame.loc[1, "birth_year"] = 1880
    prep = fit_preparation(frame)
    decisions = [d for d in prep.decisions if d["action"] == "values set to missing"]
    assert [(d["column"], d["rows"]) for d in decisions] == [("income", 1), ("birth_year", 1)]
    median = float(np.median(frame["income"].drop(index=0)))
    plan = next(p for p in prep.plans if p.name == "income")
    assert plan.impute == median  # the median of the real incomes
    # A saved preparation treats the same values the same way on new data.
    again = Preparation.from_dict(prep.to_dict())
    assert again.sentinels == prep.sentinels
    fresh = frame.iloc[:3].copy()
    matrix, _ = again.transform(fresh)
    blank = fresh.copy()
    blank.loc[0, "income"] = np.nan
    blank.loc[1, "birth_year"] = np.nan
    assert np.allclose(matrix, again.transform(blank)[0])
    kept = fit_preparation(frame, keep_sentinels=True)
    assert kept.sentinels == () and not any(
        d["action"] == "values set to missing" for d in kept.decisions
    )


def test_clear_sentinels_leaves_the_input_alone() -> None:
    frame = pd.DataFrame({"x": [1, 2, 999999], "s": ["a", "YOLO", "b"]})
    rules = [Sentinel("x", values=(999999.0,)), Sentinel("s", values=("YOLO",))]
    out = clear_sentinels(frame, rules)
    assert out["x"].isna().tolist() == [False, False, True]
    assert out["s"].isna().tolist() == [False, True, False]
    assert frame["x"].tolist() == [1, 2, 999999] and frame["s"].tolist() == ["a", "YOLO", "b"]


def test_customer_personality_placeholders(shared_data: Path) -> None:
    loaded = read_table(shared_data / "customer-personality" / "marketing_campaign.csv")
    result = segment(loaded.frame, k=3, source="marketing_campaign.csv")
    found = {s["column"]: s for s in result.summary["data_quality"]["sentinels"]}
    assert found["Income"]["values"] == [666666.0] and found["Income"]["rows"] == 1
    assert found["Year_Birth"]["rows"] == 3  # 1893, 1899, 1900
    assert {"YOLO", "Absurd"} <= set(found["Marital_Status"]["values"])
    assert any("Income (666666)" in w for w in result.summary["warnings"])
    # The profile means no longer carry the placeholder.
    assert max(p.means["Income"] for p in result.profiles) < 120_000
    block = sentinels_block(result.summary)
    assert "<td>Income</td><td>666666</td><td>1</td>" in block
    assert "<td>Year_Birth</td><td>1893, 1899, 1900</td><td>3</td>" in block


@pytest.mark.parametrize(
    "path",
    [
        "telco-churn/WA_Fn-UseC_-Telco-Customer-Churn.csv",
        "mall-customers/Mall_Customers.csv",
        "wholesale-customers/Wholesale customers data.csv",
        "cdnow-summary/cdnow_customers_summary_with_transactions.csv",
        "online-retail/online_retail.csv",
    ],
)
def test_no_false_alarm_on_other_real_data(shared_data: Path, path: str) -> None:
    loaded = read_table(shared_data / path)
    roles = detect_roles(loaded.frame, source=path)
    table = customer_table(loaded.frame, roles, source=path)
    assert find_sentinels(table.frame, exclude=("customer_id",)) == []
