"""Preparation: exact decisions and transforms on hand-made tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from segmint.errors import DataError
from segmint.prepare import Preparation, fit_preparation


def _decision(prep: Preparation, column: str, action: str) -> dict:
    found = [d for d in prep.decisions if d["column"] == column and d["action"] == action]
    assert found, f"no {action!r} decision for {column!r}: {prep.decisions}"
    return found[0]


def test_median_imputation_and_indicator() -> None:
    values = [1.0, 2.0, 3.0, 4.0, np.nan] * 4  # 20% missing -> indicator
    frame = pd.DataFrame({"id": range(20), "x": values, "y": np.arange(20.0) % 7})
    prep = fit_preparation(frame, exclude=("id",))
    assert _decision(prep, "x", "imputed") == {
        "column": "x",
        "action": "imputed",
        "value": 2.5,
        "missing": 4,
        "indicator": True,
    }
    assert prep.columns == ("x", "x__missing", "y")
    raw = (prep.transform(frame)[0] / prep.weights) * prep.scale + prep.center
    assert raw[4, 0] == 2.5 and raw[4, 1] == 1.0 and raw[0, 1] == 0.0


def test_few_missing_no_indicator() -> None:
    x = np.arange(100.0) % 13
    x[0] = np.nan  # 1% missing
    frame = pd.DataFrame({"x": x, "y": np.arange(100.0) % 5})
    prep = fit_preparation(frame)
    assert prep.columns == ("x", "y")


def test_log_for_skewed_and_signed_log_with_negatives() -> None:
    rng = np.random.default_rng(0)
    skewed = rng.lognormal(0, 1.5, 500)
    with_negatives = skewed.copy()
    with_negatives[:5] = -1.0
    frame = pd.DataFrame({"spend": skewed, "net": with_negatives, "flat": rng.normal(0, 1, 500)})
    prep = fit_preparation(frame)
    actions = {(d["column"], d["action"]) for d in prep.decisions}
    assert ("spend", "log1p") in actions
    assert ("net", "signed log1p") in actions
    assert not any(col == "flat" and act.endswith("log1p") for col, act in actions)
    plan = {p.name: p for p in prep.plans}
    assert plan["spend"].log and not plan["flat"].log


def test_winsorising_counts_far_out_values() -> None:
    x = np.concatenate([np.tile([1.0, 2.0, 3.0, 4.0], 25), [1000.0, -1000.0]])
    frame = pd.DataFrame({"x": x, "y": np.arange(102.0) % 3})
    prep = fit_preparation(frame)
    decision = _decision(prep, "x", "winsorised")
    q1, q3 = np.percentile(x, [25, 75])  # 1.25 and 3.75 -> fences -6.25 and 11.25
    assert decision["values_clipped"] == 2
    assert decision["bounds"] == pytest.approx([q1 - 3 * (q3 - q1), q3 + 3 * (q3 - q1)])
    assert decision["bounds"] == pytest.approx([-6.25, 11.25])


def test_constant_and_near_constant_dropped() -> None:
    frame = pd.DataFrame(
        {
            "const": [5.0] * 200,
            "rare": [0.0] * 199 + [1.0],
            "level": ["a"] * 200,
            "x": np.arange(200.0) % 9,
        }
    )
    prep = fit_preparation(frame)
    assert prep.columns == ("x",)
    assert _decision(prep, "const", "dropped")["reason"] == "constant"
    assert _decision(prep, "rare", "dropped")["reason"].startswith("near-constant (99.5%")
    assert _decision(prep, "level", "dropped")["reason"] == "constant"


def test_correlated_pair_keeps_first() -> None:
    # x_twice in units 200 times larger: features in different units, so standardised
    # (on one scale the correlated column would be kept as part of the geometry).
    x = np.arange(50.0) % 11 * 0.37
    frame = pd.DataFrame({"x": x, "x_twice": 200 * x + 1, "z": np.arange(50.0) % 4 * 0.37})
    prep = fit_preparation(frame)
    assert prep.columns == ("x", "z")
    assert "'x' (kept)" in _decision(prep, "x_twice", "dropped")["reason"]
    assert _decision(prep, "(all features)", "standardised")["reason"].startswith("spreads differ")


def test_coordinates_on_one_scale_keep_their_geometry() -> None:
    # Two correlated, one skewed coordinate in the same units: nothing is logged, clipped
    # or dropped, and one common spread divides every column (distances keep proportions).
    rng = np.random.default_rng(0)
    t = rng.normal(size=300)
    skewed = np.concatenate([rng.normal(0, 1, 270), rng.normal(9, 0.5, 30)])
    frame = pd.DataFrame({"a": t, "b": t + rng.normal(0, 0.05, 300), "c": skewed})
    prep = fit_preparation(frame)
    assert prep.columns == ("a", "b", "c")
    assert _decision(prep, "(all features)", "kept on one scale")["reason"].startswith(
        "all 3 features are numbers on comparable scales"
    )
    assert not any(plan.log or plan.clip for plan in prep.plans)
    X, _ = prep.transform(frame)
    raw = frame.to_numpy()
    assert np.allclose(prep.scale, prep.scale[0])
    assert np.allclose(X * prep.scale[0], raw - raw.mean(axis=0))


def test_amounts_and_flags_are_standardised() -> None:
    # Money spanning orders of magnitude from zero, or a 0/1 flag: not one geometry.
    rng = np.random.default_rng(1)
    spend = rng.lognormal(5, 1.5, 400)
    money = fit_preparation(pd.DataFrame({"spend": spend, "other": rng.lognormal(5, 1.5, 400)}))
    reason = _decision(money, "(all features)", "standardised")["reason"]
    assert "spans orders of magnitude from zero" in reason
    assert money.plans[0].log
    flag = fit_preparation(
        pd.DataFrame({"x": rng.normal(size=400), "member": rng.integers(0, 2, 400)})
    )
    assert "is a flag" in _decision(flag, "(all features)", "standardised")["reason"]
    ages = fit_preparation(
        pd.DataFrame({"age": rng.integers(18, 70, 400), "score": rng.normal(50, 20, 400)})
    )
    reason = _decision(ages, "(all features)", "standardised")["reason"]
    assert reason.startswith("'age' holds whole numbers repeating across rows")


def test_one_hot_levels_other_and_weights() -> None:
    many = [f"L{i:02d}" for i in range(20)]
    frame = pd.DataFrame(
        {
            "plan": (["basic", "plus", "pro"] * 40)[:120],
            "yesno": (["Yes", "No"] * 60),
            "city": [many[i % 20] if i < 100 else many[0] for i in range(120)],
            "x": np.arange(120.0) % 7,
        }
    )
    prep = fit_preparation(frame)
    assert [c for c in prep.columns if c.startswith("plan=")] == [
        "plan=basic",
        "plan=plus",
        "plan=pro",
    ]
    assert [c for c in prep.columns if c.startswith("yesno")] == ["yesno=Yes"]
    city = [c for c in prep.columns if c.startswith("city=")]
    assert len(city) == 15 and city[-1] == "city=other"
    weights = dict(zip(prep.columns, prep.weights, strict=True))
    assert weights["plan=basic"] == pytest.approx(1 / math.sqrt(3))
    assert weights["yesno=Yes"] == 1.0
    assert weights["city=other"] == pytest.approx(1 / math.sqrt(15))
    assert weights["x"] == 1.0


def test_standardised_matrix() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [2.0, 0.0, 2.0, 0.0]})
    matrix, notes = fit_preparation(frame).transform(frame)
    assert notes == []
    np.testing.assert_allclose(matrix.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(matrix.std(axis=0), 1.0)


def test_transform_handles_missing_columns_and_unseen_levels() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "plan": ["a", "b", "c", "a"]})
    prep = fit_preparation(frame)
    new = pd.DataFrame({"plan": ["zzz", "a"]})
    matrix, notes = prep.transform(new)
    assert matrix.shape == (2, 4)
    assert any("'x' is missing" in n for n in notes)
    assert any("unseen levels" in n for n in notes)
    raw = matrix / prep.weights * prep.scale + prep.center
    assert raw[0, 0] == 2.5  # imputed with the median
    np.testing.assert_allclose(raw[0, 1:], [0, 0, 0])  # unseen level: no level


def test_identifier_like_email_and_free_text_never_features() -> None:
    n = 60
    frame = pd.DataFrame(
        {
            "order_ref": [f"R{i:05d}" for i in range(n)],
            "email": [f"user{i}@example.com" for i in range(n)],
            "comment": [
                f"this is a long free text comment number {i} about the service" for i in range(n)
            ],
            "row_number": list(range(n)),
            "x": np.arange(n) % 5,
        }
    )
    prep = fit_preparation(frame)
    assert prep.columns == ("x",)
    reasons = {d["column"]: d["reason"] for d in prep.decisions if d["action"] == "dropped"}
    assert reasons["email"].startswith("e-mail")
    assert reasons["comment"] == "free text"
    assert reasons["order_ref"].startswith("identifier-like")
    assert reasons["row_number"].startswith("identifier-like")


def test_dates_become_days_before_latest() -> None:
    frame = pd.DataFrame(
        {"joined": pd.to_datetime(["2024-01-01", "2024-01-11", "2024-01-31"]), "x": [1.0, 2.0, 5.0]}
    )
    prep = fit_preparation(frame)
    raw = prep.transform(frame)[0] / prep.weights * prep.scale + prep.center
    np.testing.assert_allclose(raw[:, 0], [30.0, 20.0, 0.0])


def test_no_usable_feature_is_a_data_error() -> None:
    frame = pd.DataFrame({"id": ["a", "b", "c"], "c1": [1, 1, 1], "c2": ["x", "x", "x"]})
    with pytest.raises(
        DataError, match=r"no usable feature columns \(c1: constant; c2: constant\)"
    ):
        fit_preparation(frame, exclude=("id",), source="t.csv")


def test_round_trip_dict() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0] * 5, "plan": ["a", "b", "c", "a"] * 5})
    prep = fit_preparation(frame)
    again = Preparation.from_dict(prep.to_dict())
    np.testing.assert_array_equal(prep.transform(frame)[0], again.transform(frame)[0])
