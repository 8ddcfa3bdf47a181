"""Clustering a Spark DataFrame of customer features with MLlib, into segmint's model format.

:func:`fit_spark` is the Spark counterpart of :func:`segmint.segment` on a customer table:

1. *Preparation* (imputation, transforms, scaling) is learnt by
   :func:`segmint.prepare.fit_preparation` on the whole table when it has at most
   :data:`PREPARATION_SAMPLE` customers, else on a seeded sample of that size; every
   customer is then transformed on the executors (``mapInPandas``).
2. *k selection* is the local engine's: :func:`segmint.selection.choose_k` (gap
   statistic, dip test, stability, silhouette) on the local engine's own working sample of
   :data:`segmint.model.WORKING_ROWS` customers (:func:`working_sample`: the same value
   key computed on the executors, the same rows, the same order), so on the same
   customers both engines compute the same table of indices and choose the same k.
3. MLlib fits the chosen k on every customer: KMeans or a GaussianMixture (centres: the
   means), iterating from k-means++ (``FINAL_N_INIT`` starts) on the working sample as
   the local fit does, or BisectingKMeans; the distributed training cost and MLlib's
   ``ClusteringEvaluator`` silhouette (squared Euclidean, on the working sample) are
   recorded in the selection.
4. Segments are ordered as the local engine orders them (largest first), every customer
   is labelled with :func:`label_spark` (the same nearest-centre code as ``assign``), and
   segment sizes are counted in Spark.  Profiles (statistics, differentiators, names) are
   computed by :func:`segmint.profile.segment_profiles` on all customers up to
   :data:`PROFILE_SAMPLE`, on a seeded sample above, with the exact sizes from Spark.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from segmint._version import __version__
from segmint.algorithms.base import quiet_kmeans
from segmint.errors import DataError, UsageError
from segmint.features.roles import ColumnRoles
from segmint.model import (
    FINAL_N_INIT,
    WORKING_ROWS,
    nearest_centers,
    parse_k,
    working_rows,
)
from segmint.pipeline import SegmentationModel, SegmentationResult
from segmint.prepare import Preparation, fit_preparation
from segmint.profile import profile_frame, segment_profiles
from segmint.selection import DEFAULT_RANGE, choose_k

PREPARATION_SAMPLE = 1_000_000
PROFILE_SAMPLE = 1_000_000
ALGORITHMS = ("kmeans", "bisecting", "gmm")
MAX_ITER = 50
BISECTING_SEEDS = 5


@dataclass(frozen=True)
class SparkFit:
    """A Spark fit: the model, the result for the output folder, and the labels in Spark."""

    model: SegmentationModel
    result: SegmentationResult
    labels: Any  # pyspark.sql.DataFrame: customer_id, segment, segment_name, confidence


def _matrix_frame(features: Any, preparation: Preparation) -> Any:
    from pyspark.ml.functions import array_to_vector
    from pyspark.sql.functions import col

    def transform(chunks: Any) -> Any:
        for chunk in chunks:
            matrix, _ = preparation.transform(chunk)
            yield pd.DataFrame(
                {"customer_id": chunk["customer_id"].astype(str), "x": list(matrix.astype(float))}
            )

    prepared = features.mapInPandas(transform, "customer_id string, x array<double>")
    return prepared.select("customer_id", array_to_vector(col("x")).alias("features"))


def label_spark(model: SegmentationModel, customers: Any) -> Any:
    """Label a Spark DataFrame of customer features with any segmint model.

    The model (a few kilobytes) travels to the executors inside a pandas UDF; each
    partition runs :meth:`SegmentationModel.label_customers`, the code ``assign`` runs.

    Returns
    -------
    pyspark.sql.DataFrame
        ``customer_id``, ``segment``, ``segment_name``, ``confidence``.
    """

    def label(chunks: Any) -> Any:
        for chunk in chunks:
            assignments, _ = model.label_customers(chunk)
            assignments["customer_id"] = assignments["customer_id"].astype(str)
            yield assignments

    schema = "customer_id string, segment long, segment_name string, confidence double"
    return customers.mapInPandas(label, schema)


def _rows(matrix: Any) -> Any:
    """The prepared customers as an RDD of NumPy vectors (the RDD-based MLlib API)."""
    return matrix.select("features").rdd.map(lambda row: row[0].toArray())


def _start(working: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Centres and labels of k-means++ (``FINAL_N_INIT`` starts) on the working sample."""
    model = quiet_kmeans(working, k, seed, FINAL_N_INIT)
    return np.asarray(model.cluster_centers_, dtype=float), np.asarray(model.labels_)


def _mixture_start(working: np.ndarray, k: int, seed: int) -> Any:
    """A Gaussian mixture to start MLlib's EM from: the sample's k-means segments."""
    from types import SimpleNamespace

    from pyspark.mllib.linalg import DenseMatrix, DenseVector
    from pyspark.mllib.stat.distribution import MultivariateGaussian

    centers, labels = _start(working, k, seed)
    p = working.shape[1]
    gaussians, weights = [], []
    for j in range(k):
        members = working[labels == j]
        cov = np.cov(members, rowvar=False).reshape(p, p) if len(members) > 1 else np.eye(p)
        cov = cov + 1e-6 * np.eye(p)
        sigma = DenseMatrix(p, p, cov.ravel())
        gaussians.append(MultivariateGaussian(DenseVector(centers[j]), sigma))
        weights.append(len(members) / len(working))
    return SimpleNamespace(k=k, weights=weights, gaussians=gaussians)


def _mllib_fit(
    matrix: Any, working: np.ndarray, algorithm: str, k: int, seed: int
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """(centres, segment sizes, facts) of MLlib's fit of ``k`` segments on every customer."""
    if algorithm == "bisecting":
        from pyspark.ml.clustering import BisectingKMeans
        from pyspark.ml.functions import array_to_vector, vector_to_array
        from pyspark.sql import functions as F

        # MLlib starts each bisection from the centre moved by noise proportional to the
        # centre's norm; prepared features are centred (norm ~1e-14), so both halves start
        # alike and one stays empty. Distances do not change with a shift: MLlib fits the
        # features moved by one typical spread, and the centres are moved back. Should a
        # half still stay empty, the next seed is tried, then the fit refused.
        offset = float(np.std(working, axis=0).mean()) or 1.0
        shifted = matrix.select(
            array_to_vector(
                F.transform(vector_to_array(F.col("features")), lambda v: v + offset)
            ).alias("features")
        )
        for attempt in range(BISECTING_SEEDS):
            fitted = BisectingKMeans(k=k, seed=seed + attempt, maxIter=MAX_ITER).fit(shifted)
            sizes = np.zeros(k, dtype=np.int64)
            for row in fitted.transform(shifted).groupBy("prediction").count().collect():
                sizes[int(row["prediction"])] = int(row["count"])
            centers = np.array(fitted.clusterCenters()) - offset
            if len(centers) == k and (sizes > 0).all():
                cost = float(fitted.summary.trainingCost)
                return centers, sizes, {"training_cost": cost, "seeds_tried": attempt + 1}
        raise DataError(
            f"MLlib's bisecting k-means left a segment empty with {BISECTING_SEEDS} seeds "
            f"({seed}..{seed + BISECTING_SEEDS - 1}); fewer segments (--k) or --algorithm "
            "kmeans may suit these customers"
        )
    rows = _rows(matrix).persist()
    info: dict[str, Any] = {}
    model: Any
    if algorithm == "kmeans":
        from pyspark.mllib.clustering import KMeans, KMeansModel

        start, _ = _start(working, k, seed)
        model = KMeans.train(
            rows, k, maxIterations=MAX_ITER, epsilon=1e-6,
            initialModel=KMeansModel(list(start)),
        )  # fmt: skip
        centers = np.array([np.asarray(c) for c in model.clusterCenters])
        info["training_cost"] = float(model.computeCost(rows))
    else:
        from pyspark.mllib.clustering import GaussianMixture

        model = GaussianMixture.train(
            rows, k, maxIterations=MAX_ITER, seed=seed,
            initialModel=_mixture_start(working, k, seed),
        )  # fmt: skip
        centers = np.array([g.mu.toArray() for g in model.gaussians])
    counted = model.predict(rows).countByValue()
    rows.unpersist()
    sizes = np.array([int(counted.get(j, 0)) for j in range(k)], dtype=np.int64)
    return centers, sizes, info


def working_sample(matrix: Any, n: int, seed: int) -> tuple[np.ndarray, Any]:
    """The prepared rows the local rule chooses k on, the local engine's own working sample.

    The local engine snaps the matrix to 12 significant digits of each column's largest
    value and keeps the :data:`~segmint.model.WORKING_ROWS` rows of smallest value key
    (:func:`segmint.model.working_rows`); the same key is computed here on the executors,
    the same rows taken (a distributed top-k) and ordered by the same projections, so on the
    same customers both engines choose k on the same rows.

    Returns
    -------
    ndarray
        The rows, collected to the driver.
    pyspark.sql.DataFrame
        The same rows in Spark (``x`` and ``features``), persisted.
    """
    from pyspark.ml.functions import array_to_vector, vector_to_array
    from pyspark.sql import functions as F

    arrays = matrix.select(vector_to_array(F.col("features")).alias("x"))
    width = len(arrays.first()["x"])
    peaks = arrays.select(*[F.max(F.abs(F.col("x")[i])) for i in range(width)]).first()
    peak = np.array([float(v or 0.0) for v in peaks])
    scale = 10.0 ** np.floor(np.log10(np.where(peak > 0, peak, 1.0)))
    weights = np.random.default_rng([20260101, seed or 0]).normal(size=(width, 2))

    def keyed(chunks: Any) -> Any:
        for chunk in chunks:
            x = np.array(chunk["x"].tolist(), dtype=float).reshape(len(chunk), width)
            snapped = np.round(x / scale, 12) * scale
            key = np.modf((snapped @ weights)[:, 0] * 7919.0)[0] % 1.0
            yield pd.DataFrame({"x": list(snapped), "key": key})

    rows = arrays.mapInPandas(keyed, "x array<double>, key double")
    if n > WORKING_ROWS:
        rows = rows.orderBy("key").limit(WORKING_ROWS)
    sampled = rows.select("x", array_to_vector(F.col("x")).alias("features")).persist()
    x = np.array(sampled.select("x").toPandas()["x"].tolist(), dtype=float).reshape(-1, width)
    return x[working_rows(x, WORKING_ROWS, seed)], sampled


def _predicted(sampled: Any, centers: np.ndarray) -> Any:
    """``sampled`` with the nearest centre of each customer as ``prediction``."""
    from pyspark.ml.functions import array_to_vector, vector_to_array
    from pyspark.sql.functions import col

    def nearest(chunks: Any) -> Any:
        for chunk in chunks:
            x = np.array(chunk["x"].tolist(), dtype=float).reshape(len(chunk), -1)
            labels = nearest_centers(x, centers)[0].astype(float)
            yield pd.DataFrame({"x": chunk["x"], "prediction": labels})

    arrays = sampled.select(vector_to_array(col("features")).alias("x"))
    scored = arrays.mapInPandas(nearest, "x array<double>, prediction double")
    return scored.select(array_to_vector(col("x")).alias("features"), "prediction")


def _fit_chosen(
    matrix: Any, sampled: Any, working: np.ndarray, algorithm: str, k: int, seed: int
) -> tuple[np.ndarray, dict[str, Any]]:
    """MLlib's fit of ``k`` segments on every customer: centres and what MLlib measured.

    KMeans and the mixture start from k-means++ (``FINAL_N_INIT`` starts) on the working
    sample, as the local engine's fit does, and MLlib iterates on every customer
    (``k-means||`` alone can settle in a worse optimum than the local engine's).
    """
    from pyspark.ml.evaluation import ClusteringEvaluator
    from pyspark.ml.stat import Summarizer

    if k == 1:
        # No distinct segments: one segment, its centre the mean customer.
        mean = matrix.select(Summarizer.mean(matrix.features).alias("m")).first()["m"]
        return np.array([mean.toArray()]), {"sizes": [matrix.count()]}
    centers, sizes, info = _mllib_fit(matrix, working, algorithm, k, seed)
    info = {"estimator": f"MLlib {algorithm}", "sizes": sizes.tolist(), **info}
    # MLlib's silhouette (squared Euclidean) of the working sample, nearest centre.
    if len(np.unique(nearest_centers(working, centers)[0])) > 1:
        evaluator = ClusteringEvaluator(featuresCol="features", predictionCol="prediction")
        info["silhouette_squared_euclidean"] = float(
            evaluator.evaluate(_predicted(sampled, centers))
        )
    return centers, info


def _sample(frame: Any, n: int, size: int, seed: int) -> Any:
    if n <= size:
        return frame
    return frame.sample(fraction=min(1.0, size * 1.1 / n), seed=seed).limit(size)


def fit_spark(
    features: Any,
    *,
    k: Any = "auto",
    random_state: int = 0,
    algorithm: str = "kmeans",
    exclude: tuple[str, ...] = (),
    roles: ColumnRoles | None = None,
    feature_spec: dict[str, Any] | None = None,
    account: dict[str, Any] | None = None,
    excluded: pd.DataFrame | None = None,
    source: str = "spark",
) -> SparkFit:
    """Segment the customers of a Spark DataFrame (``customer_id`` and feature columns).

    Parameters
    ----------
    features : pyspark.sql.DataFrame
        One row per customer: ``customer_id`` and numeric or categorical features (e.g.
        :func:`segmint.spark.spark_features` output, or a warehouse table).
    k : "auto", int or (int, int)
        As for :func:`segmint.segment`.
    random_state : int
        Seed of samples and MLlib fits.
    algorithm : {"kmeans", "bisecting", "gmm"}
        MLlib KMeans or GaussianMixture (centres: the means), both started from k-means++
        on the working sample, or BisectingKMeans.
    exclude : tuple of str
        Columns never used as features.
    roles, feature_spec, account, excluded, source
        Stored in the model and summary (a transaction log's roles and resolved spec).

    Returns
    -------
    SparkFit
    """
    if algorithm not in ALGORITHMS:
        raise UsageError(f"algorithm {algorithm!r} is not one of {', '.join(ALGORITHMS)}")
    mode, (low, high) = parse_k(k)
    n = features.count()
    if n == 0:
        raise DataError(f"{source}: no customer could be segmented")
    seed = int(random_state)
    table = _sample(features, n, PREPARATION_SAMPLE, seed).toPandas()
    table["customer_id"] = table["customer_id"].astype("string")
    preparation = fit_preparation(table, exclude=("customer_id", *exclude), source=source)
    matrix = _matrix_frame(features, preparation).persist()
    if mode != "auto" and low > n:
        raise UsageError(f"k = {low} is larger than the number of customers (n_samples = {n})")
    working, sampled = working_sample(matrix, n, seed)
    selection = choose_k(
        working, DEFAULT_RANGE if mode == "auto" else (low, high), random_state=random_state,
        fixed=low if mode == "fixed" else None, mode=mode,
    )  # fmt: skip
    centers, mllib = _fit_chosen(matrix, sampled, working, algorithm, selection.k, seed)
    # The local engine's order: largest segment first, then by centre coordinates.
    sizes = np.asarray(mllib.pop("sizes"), dtype=np.int64)
    order = sorted(range(len(centers)), key=lambda j: (-int(sizes[j]), *np.round(centers[j], 9)))
    centers = centers[order]
    provisional = SegmentationModel(
        roles=roles or ColumnRoles(kind="customers", customer="customer_id"),
        preparation=preparation, centers=centers,
        segments=[{"id": j, "name": f"Segment {j}", "action": "", "size": 0, "share": 0.0}
                  for j in range(len(centers))],
        selection=selection.to_dict(), params={}, training={},
    )  # fmt: skip
    labels = label_spark(provisional, features).persist()
    counted = labels.groupBy("segment").count().collect()
    counts = {int(r["segment"]): int(r["count"]) for r in counted}
    profiled = _sample(features.join(labels, "customer_id"), n, PROFILE_SAMPLE, seed).toPandas()
    profiled["customer_id"] = profiled["customer_id"].astype("string")
    customers = profiled.drop(columns=["segment", "segment_name", "confidence"])
    prof_matrix, _ = preparation.transform(customers)
    prof_labels, prof_conf = nearest_centers(prof_matrix, centers)
    profiles = segment_profiles(
        profile_frame(customers, preparation), prof_labels, prof_conf, len(centers),
        matrix=prof_matrix, centers=centers, ids=customers["customer_id"],
    )  # fmt: skip
    profiles = [
        dataclasses.replace(p, size=counts.get(p.id, 0), share=counts.get(p.id, 0) / n)
        for p in profiles
    ]
    segments = [{"id": p.id, "name": p.name, "action": p.action, "size": p.size,
                 "share": round(p.share, 6)} for p in profiles]  # fmt: skip
    selection_doc = {**selection.to_dict(), "engine": "spark", "algorithm": algorithm,
                     "mllib": mllib}  # fmt: skip
    columns = [c for c in features.columns if c != "customer_id"]
    model = SegmentationModel(
        roles=roles or ColumnRoles(kind="customers", customer="customer_id"),
        preparation=preparation, centers=centers, segments=segments, selection=selection_doc,
        params={"k": k if isinstance(k, (str, int)) else list(k), "random_state": random_state,
                "algorithm": algorithm, "engine": "spark", "exclude": list(exclude),
                "as_of": None,
                **({"feature_spec": feature_spec["spec"], "feature_spec_hash": feature_spec["hash"]}
                   if feature_spec else {})},
        training={"source": source, "n_customers": n, "account": account or {},
                  "feature_columns": columns},
    )  # fmt: skip
    named = label_spark(model, features)
    assignments = named.toPandas() if n <= PROFILE_SAMPLE else profiled.iloc[:0]
    excluded = (
        excluded
        if excluded is not None
        else pd.DataFrame({"customer_id": pd.Series(dtype="string"), "reason": [], "detail": []})
    )
    summary = {
        "segmint_version": __version__, "source": source, "engine": "spark",
        "input_kind": model.roles.kind, "roles": model.roles.to_dict(), "k": model.k,
        "algorithm": algorithm, "n_customers": n, "n_excluded": len(excluded),
        "excluded_by_reason": {
            str(r): int(v) for r, v in excluded["reason"].value_counts().items()
        },
        "segments": segments, "data": account or {}, "features": columns,
        "features_used": preparation.input_columns,
        "preparation": {"columns": list(preparation.columns), "decisions": preparation.decisions},
        "selection": selection_doc, "model_fingerprint": model.fingerprint(),
        "random_state": random_state,
    }  # fmt: skip
    result = SegmentationResult(model=model, assignments=assignments, excluded=excluded,
                                profiles=profiles, features=customers, summary=summary)  # fmt: skip
    matrix.unpersist()
    sampled.unpersist()
    labels.unpersist()
    return SparkFit(model=model, result=result, labels=named)
