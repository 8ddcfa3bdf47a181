"""Migration matrices, drift statistics and the monitor verdict (segmint.monitor).

Expected values are worked out by hand from the definitions in the module docstring.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmint.monitor import (
    MonitorThresholds,
    categorical_psi,
    feature_drift,
    migration,
    monitor,
    population_stability_index,
    psi_status,
)
from segmint.pipeline import segment


def labels(pairs: list[tuple[str, int]], names: dict[int, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [c for c, _ in pairs],
            "segment": [s for _, s in pairs],
            "segment_name": [names[s] for _, s in pairs],
            "confidence": 0.5,
        }
    )


# ----------------------------------------------------------------------------- migration


def test_migration_matrix_by_hand() -> None:
    before = labels(
        [("a", 0), ("b", 0), ("c", 0), ("d", 1), ("e", 1), ("f", 2), ("g", 2)],
        {0: "Champions", 1: "At risk", 2: "Lost"},
    )
    # a stays, b and c move to 1, d stays, e moves to 0; f stays; g is gone; h, i are new
    after = labels(
        [("a", 0), ("b", 1), ("c", 1), ("d", 1), ("e", 0), ("f", 2), ("h", 2), ("i", 0)],
        {0: "Champions", 1: "At risk", 2: "Lost"},
    )
    mig = migration(before, after)
    assert mig.counts.to_numpy().tolist() == [[1, 2, 0], [1, 1, 0], [0, 0, 1]]
    assert mig.n_both == 6 and mig.n_moved == 3 and mig.n_new == 2 and mig.n_gone == 1
    assert mig.shares.to_numpy().round(6).tolist() == [
        [round(1 / 3, 6), round(2 / 3, 6), 0.0],
        [0.5, 0.5, 0.0],
        [0.0, 0.0, 1.0],
    ]
    assert mig.new.tolist() == [1, 0, 1] and mig.gone.tolist() == [0, 0, 1]
    assert mig.moved.to_dict(orient="records") == [
        {
            "customer_id": "b",
            "from_segment": 0,
            "from_name": "Champions",
            "to_segment": 1,
            "to_name": "At risk",
        },
        {
            "customer_id": "c",
            "from_segment": 0,
            "from_name": "Champions",
            "to_segment": 1,
            "to_name": "At risk",
        },
        {
            "customer_id": "e",
            "from_segment": 1,
            "from_name": "At risk",
            "to_segment": 0,
            "to_name": "Champions",
        },
    ]
    table = mig.table()
    assert list(table.index) == ["0 Champions", "1 At risk", "2 Lost", "(new customers)"]
    assert list(table.columns) == ["0 Champions", "1 At risk", "2 Lost", "(gone)"]
    assert table.loc["(new customers)"].tolist() == [1, 0, 1, 0]
    assert table["(gone)"].tolist() == [0, 0, 1, 0]
    as_dict = mig.to_dict()
    assert as_dict["counts"]["0"] == {"0": 1, "1": 2, "2": 0}
    assert as_dict["n_stayed"] == 3


def test_migration_with_segments_that_appear_and_retire() -> None:
    before = labels([("a", 0), ("b", 1)], {0: "A", 1: "B"})
    after = labels([("a", 0), ("b", 5)], {0: "A", 5: "New"})
    mig = migration(before, after)
    assert list(mig.counts.index) == [0, 1] and list(mig.counts.columns) == [0, 5]
    assert mig.counts.to_numpy().tolist() == [[1, 0], [0, 1]]


def test_migration_rejects_duplicate_ids() -> None:
    frame = labels([("a", 0), ("a", 1)], {0: "A", 1: "B"})
    with pytest.raises(ValueError, match="unique"):
        migration(frame, frame)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 3)), max_size=40, unique_by=lambda t: t[0]
    ),
    st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 4)), max_size=40, unique_by=lambda t: t[0]
    ),
    st.randoms(use_true_random=False),
)
def test_migration_accounts_for_every_customer(before_pairs, after_pairs, rnd) -> None:
    names = {i: f"S{i}" for i in range(5)}
    before = labels([(f"c{c}", s) for c, s in before_pairs], names)
    after = labels([(f"c{c}", s) for c, s in after_pairs], names)
    mig = migration(before, after)
    both = set(before["customer_id"]) & set(after["customer_id"])
    assert mig.n_both == len(both)
    assert mig.n_new == len(set(after["customer_id"]) - both)
    assert mig.n_gone == len(set(before["customer_id"]) - both)
    merged = before.merge(after, on="customer_id")
    assert mig.n_moved == int((merged["segment_x"] != merged["segment_y"]).sum())
    # every row of the table sums to the segment's customers in the earlier run
    table = mig.table()
    for seg, count in before["segment"].value_counts().items():
        assert int(table.loc[f"{seg} S{seg}"].sum()) == count
    # the order of the rows changes nothing
    order = list(range(len(after)))
    rnd.shuffle(order)
    again = migration(before.sample(frac=1, random_state=1), after.iloc[order])
    assert again.counts.equals(mig.counts)


# ----------------------------------------------------------------------------- feature drift


def test_psi_by_hand() -> None:
    reference = np.arange(100.0)  # deciles: ten bins of 10% each
    same = population_stability_index(reference, reference)
    assert same == 0.0
    # 30% in the first bin, 10% in each of bins 2-8, none in the last two (counted as 0.0001)
    current = np.concatenate([np.tile(np.arange(10.0), 3), np.arange(10.0, 80.0)])
    expected = 0.2 * math.log(3) + 2 * (0.0001 - 0.1) * math.log(0.0001 / 0.1)
    assert population_stability_index(reference, current) == pytest.approx(expected, abs=1e-12)
    assert expected == pytest.approx(1.599892, abs=1e-6)


def test_psi_missing_values_are_a_bin() -> None:
    reference = np.array([1.0, 2.0, 3.0, 4.0])
    current = np.array([1.0, 2.0, np.nan, np.nan])
    # 4 quantile bins of 25%; current: 25%, 25%, 0, 0 and 50% missing (reference 0%)
    expected = (2 * (0.0001 - 0.25) * math.log(0.0001 / 0.25)) + (0.5 - 0.0001) * math.log(
        0.5 / 0.0001
    )
    assert population_stability_index(reference, current, bins=4) == pytest.approx(expected)


def test_categorical_psi_by_hand() -> None:
    reference = pd.Series(["a"] * 50 + ["b"] * 50)
    current = pd.Series(["a"] * 80 + ["b"] * 20)
    expected = 0.3 * math.log(0.8 / 0.5) + (-0.3) * math.log(0.2 / 0.5)
    assert categorical_psi(reference, current) == pytest.approx(expected)
    assert expected == pytest.approx(0.415888, abs=1e-6)


def test_psi_thresholds() -> None:
    assert [psi_status(v) for v in (0.0, 0.099, 0.1, 0.25, 0.2501)] == [
        "fine",
        "fine",
        "watch",
        "watch",
        "retrain",
    ]


def customers(n: int = 60, *, shift: float = 0.0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = np.arange(n) % 3
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "income": 20.0 + 40.0 * group + rng.normal(0, 2, n) + shift,
            "visits": 5.0 + 10.0 * (group == 1) + rng.normal(0, 1, n),
            "plan": np.where(group == 2, "gold", "basic"),
        }
    )


def test_feature_drift_ks_and_wasserstein() -> None:
    reference = customers()
    model = segment(reference, k=3, random_state=0).model
    current = reference.assign(income=reference["income"] + 5.0)
    drift = {d.feature: d for d in feature_drift(model, reference, current)}
    assert set(drift) == {"income", "visits", "plan"}
    assert drift["visits"].psi == 0.0 and drift["visits"].ks_statistic == 0.0
    assert drift["plan"].kind == "categorical" and drift["plan"].psi == 0.0
    income = reference["income"].to_numpy()
    assert drift["income"].wasserstein == pytest.approx(5.0 / income.std(), abs=1e-6)
    assert drift["income"].current_mean == pytest.approx(income.mean() + 5.0, abs=1e-6)


def test_ks_by_hand() -> None:
    reference = pd.DataFrame({"customer_id": list("abcdefgh"), "x": [1.0, 2, 3, 4, 1, 2, 3, 4]})
    current = pd.DataFrame({"customer_id": list("abcdefgh"), "x": [3.0, 4, 5, 6, 3, 4, 5, 6]})
    model = segment(reference, k=2, random_state=0).model
    (drift,) = feature_drift(model, reference, current)
    assert drift.ks_statistic == 0.5  # the empirical CDFs differ by 1/2 at 2
    assert drift.wasserstein == pytest.approx(2.0 / np.std([1, 2, 3, 4]), abs=1e-6)


# ----------------------------------------------------------------------------- verdict


def test_same_data_is_fine() -> None:
    reference = customers()
    model = segment(reference, k=3, random_state=0).model
    report = monitor(model, reference, reference)
    assert report.verdict == "fine" and report.reasons == []
    assert report.customers == {
        "reference": 60,
        "current": 60,
        "new": 0,
        "new_share": 0.0,
        "gone": 0,
    }
    assert all(s.share_change == 0 and s.centroid_shift == 0 for s in report.segments)
    assert report.quality["silhouette_reference"] == report.quality["silhouette_current"]
    q = report.quality["distance_quantiles_current"]
    assert q == report.quality["distance_quantiles_reference"] and q["p10"] <= q["p50"] <= q["p90"]
    assert report.quality["confidence_ks"] == 0.0
    assert report.to_dict()["verdict"] == "fine"


def test_new_customers_alone_trigger_retrain() -> None:
    reference = customers()
    model = segment(reference, k=3, random_state=0).model
    twins = reference.assign(customer_id=[f"n{i}" for i in range(60)])
    current = pd.concat([reference, twins], ignore_index=True)  # same distribution, 50% new
    report = monitor(model, reference, current)
    assert report.verdict == "retrain"
    assert [f.check for f in report.findings] == ["new_customers"]
    assert report.reasons[0].startswith("50.0% of the customers are new")
    relaxed = monitor(
        model,
        reference,
        current,
        thresholds=MonitorThresholds(new_customers_watch=0.4, new_customers_retrain=0.6),
    )
    assert relaxed.verdict == "watch"


def test_drift_triggers_retrain_with_reasons() -> None:
    reference = customers(90, seed=1)
    model = segment(reference, k=3, random_state=0).model
    current = customers(90, seed=2, shift=30.0)  # same ids, income moved by ~1 group
    report = monitor(model, reference, current)
    assert report.verdict == "retrain"
    checks = {f.check for f in report.findings if f.level == "retrain"}
    assert {"feature_psi", "centroid_shift"} <= checks
    assert any("feature 'income' drifted" in r for r in report.reasons)
    levels = [f.level for f in report.findings]
    assert levels == sorted(levels, key=lambda v: v != "retrain")  # the most serious first
