"""Assignment confidence for every family, the mixture's posteriors, and DBSCAN."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmint import Segmenter, segment
from segmint.algorithms import FAMILIES, UNASSIGNED, fit_family
from segmint.algorithms.base import CorePointAssigner, neighbour_confidence
from segmint.algorithms.dbscan import k_distance_eps
from segmint.artifacts import load_model, save_model
from segmint.errors import UsageError
from segmint.web.assigner import FastAssigner


def two_blobs_and_a_bridge(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two tight blobs 6 apart and 3 customers half-way; the bridge's row indices."""
    rng = np.random.default_rng(seed)
    left = rng.normal(0.0, 0.3, (80, 2))
    right = rng.normal(0.0, 0.3, (80, 2)) + np.array([6.0, 0.0])
    bridge = np.array([[2.6, 0.0], [3.0, 0.0], [3.4, 0.0]])
    X = np.vstack([left, right, bridge])
    return X, np.arange(160, 163)


def customers(X: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {"customer_id": [f"c{i}" for i in range(len(X))], "a": X[:, 0], "b": X[:, 1]}
    )


def test_neighbour_confidence_exact_values() -> None:
    reach = np.array([[1.0, 4.0], [2.0, 2.0], [3.0, 1.0], [0.0, 0.0]])
    labels = np.array([0, 0, 0, 1])
    np.testing.assert_allclose(neighbour_confidence(reach, labels), [0.75, 0.0, 0.0, 0.0])
    assert (neighbour_confidence(reach[:, :1], labels * 0) == 1.0).all()


def test_core_point_confidence_uses_the_fifth_neighbour_not_the_point_itself() -> None:
    # Segment 0: points at 0..5 on a line, segment 1: points at 20..25.
    points = np.concatenate([np.arange(6.0), np.arange(20.0, 26.0)])[:, None]
    labels = np.array([0] * 6 + [1] * 6)
    rule = CorePointAssigner(points, labels)
    got_labels, confidence = rule.predict(np.array([[0.0], [5.0]]))
    assert got_labels.tolist() == [0, 0]
    # x = 0: 5th nearest of its own segment at 4, of the other at 24 -> 1 - 4/24.
    # x = 5: own 5th nearest at 4 (points 1..5 and 0 -> distances 0,1,2,3,4), other at 19.
    np.testing.assert_allclose(confidence, [1 - 4 / 24, 1 - 4 / 19])


def test_genie_confidence_is_not_constant_and_lowest_on_the_bridge() -> None:
    X, bridge = two_blobs_and_a_bridge()
    fitted = fit_family("genie", X, 2, np.random.default_rng(0))
    inside = np.setdiff1d(np.arange(len(X)), bridge)
    assert fitted.k == 2
    assert fitted.confidence.std() > 0.05
    assert fitted.confidence[bridge].max() < np.quantile(fitted.confidence[inside], 0.05)
    assert np.median(fitted.confidence[inside]) > 0.8


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_fit_and_saved_model_give_the_training_customers_the_same_confidence(
    family: str, tmp_path: Path
) -> None:
    X, _ = two_blobs_and_a_bridge(1)
    frame = customers(X)
    k = "auto" if not FAMILIES[family].takes_k else 2
    result = segment(frame, k=k, algorithm=family, random_state=0)
    save_model(result.model, tmp_path / "model")
    again = load_model(tmp_path / "model").assign(frame).assignments
    fit_time = result.assignments.set_index("customer_id")
    assign_time = again.set_index("customer_id").loc[fit_time.index]
    assert (assign_time["segment"] == fit_time["segment"]).all()
    np.testing.assert_allclose(assign_time["confidence"], fit_time["confidence"], atol=1e-6)
    assert fit_time["confidence"].between(0, 1).all()
    if family != "gmm":  # posteriors of blobs 20 standard deviations apart are all 1.0
        assert fit_time["confidence"].nunique() > 1


def test_gmm_posteriors_in_segments_assign_service_and_predict_proba(tmp_path: Path) -> None:
    X, _ = two_blobs_and_a_bridge(2)
    frame = customers(X)
    result = segment(frame, k=2, algorithm="gmm", random_state=0)
    table = result.assignments
    columns = [c for c in table.columns if c.startswith("p_segment_")]
    assert columns == [f"p_segment_{s['id']}" for s in result.model.segments]
    np.testing.assert_allclose(table[columns].sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(table[columns].max(axis=1), table["confidence"], atol=1e-6)
    chosen = table[columns].to_numpy().argmax(axis=1)
    assert (result.model.segment_ids()[chosen] == table["segment"].to_numpy()).all()

    save_model(result.model, tmp_path / "model")
    model = load_model(tmp_path / "model")
    again = model.assign(frame).assignments
    np.testing.assert_allclose(again[columns], table[columns], atol=1e-6)
    label = FastAssigner(model).assign("c0", {"a": float(X[0, 0]), "b": float(X[0, 1])})
    assert label.probabilities is not None
    assert sorted(label.probabilities) == sorted(columns)
    assert label.probabilities[f"p_segment_{label.segment}"] == pytest.approx(label.confidence)

    estimator = Segmenter(k=2, algorithm="gmm", random_state=0).fit(X)
    proba = estimator.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba.argmax(axis=1) == estimator.predict(X)).all()
    np.testing.assert_allclose(proba.max(axis=1), estimator.predict_confidence(X))


def test_distance_families_give_no_probabilities() -> None:
    X, _ = two_blobs_and_a_bridge(3)
    frame = customers(X)
    result = segment(frame, k=2, algorithm="genie", random_state=0)
    assert not any(c.startswith("p_segment_") for c in result.assignments.columns)
    label = FastAssigner(result.model).assign("c0", {"a": 0.0, "b": 0.0})
    assert label.probabilities is None
    estimator = Segmenter(k=2, algorithm="ward", random_state=0).fit(X)
    assert not hasattr(estimator, "predict_proba")
    with pytest.raises(AttributeError) as raised:
        estimator.predict_proba(X)
    assert isinstance(raised.value.__cause__, UsageError)
    assert "predict_proba needs a probabilistic family" in str(raised.value.__cause__)


def test_dbscan_finds_the_blobs_and_leaves_far_customers_unassigned(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    X = np.vstack(
        [
            rng.normal(0, 0.2, (100, 2)),
            rng.normal(0, 0.2, (100, 2)) + np.array([5.0, 5.0]),
            [[20.0, -20.0]],
        ]
    )
    fitted = fit_family("dbscan", X, 0, np.random.default_rng(0))
    assert fitted.k == 2
    assert fitted.labels[-1] == UNASSIGNED and fitted.confidence[-1] == 0.0
    assert set(fitted.labels[:100]) == {0} or set(fitted.labels[:100]) == {1}
    assert fitted.info["eps_rule"] == "k-distance knee"
    assert fitted.info["min_samples"] == 5
    # a new customer far from every core point is unassigned; one inside a blob is not
    labels, _ = fitted.assigner.predict(np.array([[10.0, 10.0], [5.0, 5.0]]))
    assert labels[0] == UNASSIGNED and labels[1] >= 0
    # the same through a saved model and segment(): "Unassigned" as for HDBSCAN
    frame = customers(X)
    result = segment(frame, algorithm="dbscan", random_state=0)
    assert result.assignments["segment_name"].iloc[-1] == "Unassigned"
    save_model(result.model, tmp_path / "model")
    again = load_model(tmp_path / "model").assign(frame).assignments
    assert (again["segment"].to_numpy() == result.assignments["segment"].to_numpy()).all()
    with pytest.raises(UsageError, match="dbscan finds the number of segments itself"):
        segment(frame, k=3, algorithm="dbscan")


def test_k_distance_eps_on_a_grid_with_outliers() -> None:
    # A unit grid: every 2nd-nearest point (itself included) is at distance 1;
    # two far outliers sit on the steep end of the curve, beyond the knee.
    grid = np.array([[i, j] for i in range(10) for j in range(10)], dtype=float)
    X = np.vstack([grid, [[50.0, 50.0], [-50.0, 50.0]]])
    eps, found = k_distance_eps(X, 2)
    assert found
    assert eps == pytest.approx(1.0)
