"""Chart data of the report: exact statistics on hand-made data, sampling, t-SNE rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.datasets import make_blobs
from sklearn.decomposition import PCA
from sklearn.metrics import silhouette_samples

from segmint.explain import (
    MAP_POINTS,
    TSNE_POINTS,
    Exhibits,
    build_exhibits,
    feature_catalogue,
    stratified_sample,
)
from segmint.prepare import fit_preparation
from segmint.profile import profile_frame


def _table(n: int = 60, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.repeat([0, 1, 2], n // 3)
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "recency_days": np.where(labels == 0, 5, 200) + rng.integers(0, 5, n),
            "frequency": np.where(labels == 2, 20, 2) + rng.integers(0, 3, n),
            "plan": np.where(labels == 1, "gold", "basic"),
        }
    )
    return frame, labels


def _exhibits(frame: pd.DataFrame, labels: np.ndarray, **kw: object) -> Exhibits:
    preparation = fit_preparation(frame, exclude=("customer_id",))
    matrix, _ = preparation.transform(frame)
    values = profile_frame(frame, preparation)
    return build_exhibits(
        matrix=matrix, labels=labels, values=values, customers=frame, preparation=preparation, **kw
    )


def test_stratified_sample_keeps_every_segment() -> None:
    rng = np.random.default_rng(0)
    labels = np.array([0] * 9_900 + [1] * 100)
    sample = stratified_sample(labels, 1_000, rng)
    assert len(sample) == 990 + 100 - 70  # 990 of the big one, at least 30 of the small one
    assert (labels[sample] == 1).sum() == 30 and np.all(np.diff(sample) > 0)
    assert stratified_sample(labels[:50], 1_000, rng).tolist() == list(range(50))


def test_boxes_and_distributions_are_exact() -> None:
    frame, labels = _table()
    exhibits = _exhibits(frame, labels)
    stats = exhibits.boxes["stats"]["recency_days"]["rows"]
    first = frame["recency_days"][labels == 0].to_numpy(dtype=float)
    q1, median, q3 = np.quantile(first, [0.25, 0.5, 0.75])
    assert stats[0]["segment"] == 0 and stats[0]["n"] == 20
    assert (stats[0]["q1"], stats[0]["median"], stats[0]["q3"]) == (q1, median, q3)
    assert stats[0]["lower"] == first.min() and stats[0]["upper"] == first.max()
    by_feature = {d["feature"]: d for d in exhibits.distributions}
    assert by_feature["plan"]["levels"] == ["basic", "gold"] and by_feature["plan"]["counts"] == [
        40,
        20,
    ]
    numeric = by_feature["frequency"]
    assert sum(numeric["counts"]) + numeric["above"] == 60 and numeric["missing"] == 0
    assert exhibits.population["median"]["frequency"] == frame["frequency"].median()


def test_map_silhouette_and_correlation() -> None:
    frame, labels = _table()
    exhibits = _exhibits(frame, labels)
    assert exhibits.map["method"] == "PCA" and exhibits.map["sampled"] == 60
    assert len(exhibits.map["x"]) == 60 and set(exhibits.map["centres"]) == {"0", "1", "2"}
    preparation = fit_preparation(frame, exclude=("customer_id",))
    matrix, _ = preparation.transform(frame)
    pca = PCA(n_components=2).fit(matrix)
    assert np.allclose(exhibits.map["explained"], pca.explained_variance_ratio_)
    assert np.allclose(np.abs(exhibits.map["x"]), np.abs(np.round(pca.transform(matrix)[:, 0], 4)))
    expected = silhouette_samples(matrix, labels)
    got = exhibits.silhouette["segments"]["0"]
    assert np.allclose(
        sorted(got["values"], reverse=True), np.round(np.sort(expected[labels == 0])[::-1], 3)
    )
    assert np.isclose(exhibits.silhouette["mean"], expected.mean())
    corr = exhibits.correlation
    assert len(corr["columns"]) == len(preparation.columns)
    assert np.allclose(np.diag(corr["matrix"]), 1.0)


def test_tsne_only_when_pca_is_not_enough() -> None:
    # 3 blobs in 2 dimensions padded with 4 noise columns: PCA keeps little variance.
    X, y = make_blobs(n_samples=300, centers=3, n_features=8, random_state=0)
    X[:, 2:] = np.random.default_rng(0).normal(size=(300, 6)) * 5
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(8)])
    frame.insert(0, "customer_id", [str(i) for i in range(300)])
    exhibits = _exhibits(frame, y)
    assert exhibits.tsne is not None and exhibits.tsne["sampled"] == 300
    assert exhibits.notes and "t-SNE" in exhibits.notes[0]
    small = _exhibits(frame.head(60), y[:60])
    assert small.tsne is None  # too few customers
    assert TSNE_POINTS < MAP_POINTS


def test_unassigned_one_segment_and_dendrogram() -> None:
    frame, labels = _table()
    noisy = labels.copy()
    noisy[:3] = -1
    exhibits = _exhibits(frame, noisy, algorithm="agglomerative (ward)")
    assert "-1" in exhibits.map["centres"] and "-1" not in exhibits.silhouette["segments"]
    assert exhibits.dendrogram is not None and len(exhibits.dendrogram["icoord"]) >= 1
    single = _exhibits(frame, np.zeros(60, dtype=int))
    assert single.silhouette is None and single.dendrogram is None
    again = Exhibits.from_dict(exhibits.to_dict())
    assert again.map == exhibits.to_dict()["map"]


def test_feature_catalogue_in_words() -> None:
    frame, _ = _table()
    frame["email"] = [f"p{i}@example.com" for i in range(60)]
    preparation = fit_preparation(frame, exclude=("customer_id",))
    values = profile_frame(frame, preparation)
    catalogue = {
        c["feature"]: c for c in feature_catalogue(preparation, values, {"plan": "The tariff."})
    }
    assert (
        catalogue["recency_days"]["unit"] == "days"
        and "last order" in catalogue["recency_days"]["definition"]
    )
    assert catalogue["frequency"]["unit"] == "orders"
    assert catalogue["plan"]["definition"] == "The tariff." and catalogue["plan"]["used"]
    assert not catalogue["email"]["used"] and "personal data" in catalogue["email"]["treatment"]
