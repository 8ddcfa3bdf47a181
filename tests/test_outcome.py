"""Outcome overlay: intervals (golden values), tests across segments, per-customer values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from segmint.errors import DataError
from segmint.features.roles import ColumnRoles
from segmint.outcome import customer_outcome, mean_interval, outcome_overlay, wilson_interval


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [  # Newcombe (1998), Statistics in Medicine 17:857-872, Table I, method 3 (Wilson)
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombe(successes: int, n: int, low: float, high: float) -> None:
    got = wilson_interval(successes, n)
    assert round(got[0], 4) == low and round(got[1], 4) == high


def test_mean_interval() -> None:
    low, high = mean_interval(np.array([1.0, 2.0, 3.0, 4.0]))
    # mean 2.5, sd 1.29099, se 0.645497, t(0.975, 3) = 3.182446
    assert np.isclose(low, 2.5 - 3.182446 * 0.645497, atol=1e-5)
    assert np.isclose(high, 2.5 + 3.182446 * 0.645497, atol=1e-5)
    assert all(np.isnan(mean_interval(np.array([1.0]))))


def test_rate_overlay_exact() -> None:
    churn = pd.Series(["Yes", "No", "No", "No", "Yes", "Yes", "Yes", "No", "", None], name="Churn")
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 0])
    overlay = outcome_overlay(churn, labels, {0: "Loyal", 1: "Leaving"})
    assert (
        overlay.kind == "rate" and overlay.positive == "Yes" and overlay.label == "Churn = Yes rate"
    )
    assert (overlay.n, overlay.n_missing) == (8, 2)
    first, second = overlay.segments
    assert (first.n, first.positives, first.value) == (4, 1, 0.25)
    assert (second.n, second.positives, second.value) == (4, 3, 0.75)
    assert (first.low, first.high) == wilson_interval(1, 4)
    expected = stats.chi2_contingency(np.array([[1, 3], [3, 1]]), correction=False)
    assert overlay.test == "chi-squared" and overlay.dof == 1
    assert np.isclose(overlay.statistic, expected.statistic) and np.isclose(
        overlay.p_value, expected.pvalue
    )
    assert np.isclose(overlay.effect, np.sqrt(expected.statistic / 8))
    assert "No evidence" in overlay.conclusion
    assert overlay.to_dict()["segments"][0]["name"] == "Loyal"


def test_rate_overlay_detects_a_difference_and_positive_level() -> None:
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 300)
    flags = np.concatenate([rng.random(300) < 0.1, rng.random(300) < 0.5, rng.random(300) < 0.1])
    overlay = outcome_overlay(
        pd.Series(flags.astype(int), name="churned"), labels, {0: "a", 1: "b", 2: "c"}
    )
    assert overlay.positive == "1" and overlay.p_value < 1e-10
    assert overlay.conclusion.startswith("Segments differ in churned = 1 rate")
    # two arbitrary labels: the rarer one is counted
    text = pd.Series(np.where(flags, "left", "stayed"), name="status")
    assert outcome_overlay(text, labels, {0: "a", 1: "b", 2: "c"}).positive == "left"


def test_mean_overlay_kruskal() -> None:
    revenue = pd.Series([10.0, 12.0, 11.0, 30.0, 31.0, 29.0, 28.0], name="revenue")
    labels = np.array([0, 0, 0, 1, 1, 1, -1])
    overlay = outcome_overlay(revenue, labels, {0: "low", 1: "high", -1: "Unassigned"})
    assert overlay.kind == "mean" and overlay.label == "mean revenue"
    assert [s.value for s in overlay.segments] == [11.0, 30.0, 28.0]
    expected = stats.kruskal([10.0, 12.0, 11.0], [30.0, 31.0, 29.0])  # -1 is not tested
    assert np.isclose(overlay.statistic, expected.statistic) and np.isclose(
        overlay.p_value, expected.pvalue
    )
    assert overlay.dof == 1 and np.isclose(overlay.effect, expected.statistic / 5)


def test_one_segment_and_bad_outcomes() -> None:
    one = outcome_overlay(
        pd.Series([1.0, 2.0, 3.0], name="x"), np.zeros(3, dtype=int), {0: "All customers"}
    )
    assert one.test == "" and one.p_value is None and "One segment" in one.conclusion
    with pytest.raises(DataError, match="only one value"):
        outcome_overlay(pd.Series(["No", "No"], name="Churn"), np.array([0, 1]), {0: "a", 1: "b"})
    with pytest.raises(DataError, match="two-valued or numeric"):
        outcome_overlay(
            pd.Series(["a", "b", "c"], name="plan"), np.array([0, 1, 1]), {0: "a", 1: "b"}
        )
    with pytest.raises(DataError, match="no values"):
        outcome_overlay(pd.Series([None, ""], name="y"), np.array([0, 1]), {0: "a", 1: "b"})


def test_customer_outcome_from_a_transaction_log() -> None:
    log = pd.DataFrame(
        {
            "CustomerID": [1.0, 1.0, 2.0, 2.0, 3.0, np.nan],
            "churned": [1, 1, 0, np.nan, np.nan, 1],
        }
    )
    roles = ColumnRoles(kind="transactions", customer="CustomerID", time="t", amount="a")
    values = customer_outcome(log, roles, pd.Series(["1", "2", "3"]), "churned")
    assert values.iloc[:2].tolist() == [1.0, 0.0] and np.isnan(values.iloc[2])
    log.loc[1, "churned"] = 0
    with pytest.raises(DataError, match="customer '1' has '1' and '0'"):
        customer_outcome(log, roles, pd.Series(["1", "2"]), "churned")
