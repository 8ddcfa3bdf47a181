"""Clustering a Spark DataFrame of customer features with MLlib, into segmint's model format.

:func:`fit_spark` is the Spark counterpart of :func:`segmint.segment` on a customer table:

1. *Preparation* (imputation, transforms, scaling) is learnt by
   :func:`segmint.prepare.fit_preparation` on the whole table when it has at most
   :data:`PREPARATION_SAMPLE` customers, else on a seeded sample of that size; every
   customer is then transformed on the executors (``mapInPandas``).
2. *k selection*: for each k, MLlib fits KMeans (``k-means||``), BisectingKMeans or a
   GaussianMixture on every customer; the within-cluster sum of squares comes from the
   distributed training cost (for a mixture: on the silhouette sample, scaled), the
   silhouette from a seeded sample of
   :data:`segmint.selection.SILHOUETTE_SAMPLE` customers, Euclidean as in the local
   engine (MLlib's ``ClusteringEvaluator`` value, squared Euclidean, is recorded next to
   it).  The local engine's rule (:mod:`segmint.selection`: the best silhouette on clear
   structure, else the candidate nearest the WCSS knee) then chooses k.
3. Segments are ordered as the local engine orders them (largest first), every customer
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
from sklearn.metrics import silhouette_score

from segmint import __version__
from segmint.errors import DataError, UsageError
from segmint.features.roles import ColumnRoles
from segmint.model import nearest_centers, parse_k
from segmint.pipeline import SegmentationModel, SegmentationResult
from segmint.prepare import Preparation, fit_preparation
from segmint.profile import profile_frame, segment_profiles
from segmint.selection import (
    CLEAR_STRUCTURE,
    SILHOUETTE_SAMPLE,
    SILHOUETTE_TOLERANCE,
    SWEEP_N_INIT,
    KScore,
    Selection,
    knee_point,
)

PREPARATION_SAMPLE = 1_000_000
PROFILE_SAMPLE = 1_000_000
ALGORITHMS = ("kmeans", "bisecting", "gmm")
MAX_ITER = 50


@dataclass(frozen=True)
class SparkFit:
    """A Spark fit: the model, the result for the output folder, and the labels in Spark."""

    model: SegmentationModel
    result: SegmentationResult
    labels: Any  # pyspark.sql.DataFrame: customer_id, segment, segment_name, confidence


def _matrix_frame(features: Any, preparation: Preparation) -> Any:
    from pyspark.ml.functions import array_to_vector

    def transform(chunks: Any) -> Any:
        for chunk in chunks:
            matrix, _ = preparation.transform(chunk)
            yield pd.DataFrame(
                {"customer_id": chunk["customer_id"].astype(str), "x": list(matrix.astype(float))}
            )

    prepared = features.mapInPandas(transform, "customer_id string, x array<double>")
    return prepared.select("customer_id", array_to_vector("x").alias("features"))


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


def _estimator(algorithm: str, k: int, seed: int) -> Any:
    from pyspark.ml.clustering import BisectingKMeans, GaussianMixture, KMeans

    if algorithm == "kmeans":
        return KMeans(k=k, seed=seed, initMode="k-means||", maxIter=MAX_ITER, tol=1e-6)
    if algorithm == "bisecting":
        return BisectingKMeans(k=k, seed=seed, maxIter=MAX_ITER)
    return GaussianMixture(k=k, seed=seed, maxIter=MAX_ITER)


def _centers(model: Any, algorithm: str) -> np.ndarray:
    if algorithm == "gmm":
        return np.array([g.mean.toArray() for g in model.gaussians])
    return np.array([c for c in model.clusterCenters()])


def _cost(model: Any, algorithm: str, x: Any, labels: Any, n: int) -> float:
    if algorithm != "gmm" or x is None:
        return float(model.summary.trainingCost)
    # A mixture has no training cost in squared distances: the sample's, scaled to n.
    centers = _centers(model, algorithm)
    return float(((x - centers[labels.astype(int)]) ** 2).sum() * n / max(len(x), 1))


def decide(scores: list[KScore], knee: int | None, k_range: tuple[int, int], n: int) -> Selection:
    """The local engine's rule (see :mod:`segmint.selection`) on distributed scores."""
    low, high = k_range
    rated = [s for s in scores if s.silhouette is not None and low <= s.k <= high]
    if not rated:
        return Selection(k=max(low, 1), mode="auto", rule="no silhouette",
                         reasons=["no k could be scored"], scores=scores, knee=knee,
                         sample_size=n)  # fmt: skip
    best = max(rated, key=lambda s: s.silhouette or -1.0)
    assert best.silhouette is not None
    threshold = best.silhouette * SILHOUETTE_TOLERANCE if best.silhouette > 0 else best.silhouette
    candidates = [s for s in rated if (s.silhouette or -1.0) >= threshold]
    if best.silhouette >= CLEAR_STRUCTURE:
        chosen = best
        reasons = [f"best silhouette {best.silhouette:.3f} at k = {best.k}: clear structure "
                   f"(>= {CLEAR_STRUCTURE}), the silhouette decides"]  # fmt: skip
    elif knee is None:
        chosen = best
        reasons = [f"best silhouette {best.silhouette:.3f} at k = {best.k}; WCSS has no knee"]
    else:
        chosen = min(candidates, key=lambda s: (abs(s.k - knee), s.k))
        reasons = [
            f"WCSS knee at k = {knee}",
            f"best silhouette {best.silhouette:.3f} at k = {best.k} (weak structure, "
            f"< {CLEAR_STRUCTURE}); k within {SILHOUETTE_TOLERANCE:.0%} of it: "
            f"{', '.join(str(s.k) for s in candidates)}",
            f"k = {chosen.k} is the candidate nearest the knee "
            f"(silhouette {chosen.silhouette:.3f})",
        ]
    return Selection(
        k=chosen.k, mode="auto" if k_range == (2, 10) else "range",
        rule=(f"best silhouette when it is >= {CLEAR_STRUCTURE}; otherwise, among k with "
              f"silhouette >= {SILHOUETTE_TOLERANCE:.0%} of the best, "
              "the one nearest the WCSS knee"),
        reasons=reasons, scores=scores, knee=knee, sample_size=n,
    )  # fmt: skip


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
        MLlib KMeans (k-means||), BisectingKMeans or GaussianMixture (centres: the means).
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
    sample = _sample(matrix, n, SILHOUETTE_SAMPLE, seed).persist()
    if mode == "fixed":
        if low > n:
            raise UsageError(f"k = {low} is larger than the number of customers (n_samples = {n})")
        selection = Selection(k=low, mode="fixed", rule="given", reasons=[f"k = {low} was given"],
                              sample_size=n)  # fmt: skip
        fitted = {low: _estimator(algorithm, low, seed).fit(matrix)}
        mllib_silhouette: dict[int, float] = {}
    else:
        selection, fitted, mllib_silhouette = _select(
            matrix, sample, algorithm, (low, min(high, n - 1)), seed, n, mode
        )
    chosen = fitted[selection.k]
    centers = _centers(chosen, algorithm)
    # The local engine's order: largest segment first, then by centre coordinates.
    raw = chosen.transform(matrix).groupBy("prediction").count().collect()
    sizes = np.zeros(len(centers), dtype=np.int64)
    for row in raw:
        sizes[int(row["prediction"])] = int(row["count"])
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
                     "mllib_silhouette_squared_euclidean": mllib_silhouette}  # fmt: skip
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
    excluded = excluded if excluded is not None else pd.DataFrame(
        {"customer_id": pd.Series(dtype="string"), "reason": [], "detail": []})
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
    sample.unpersist()
    labels.unpersist()
    return SparkFit(model=model, result=result, labels=named)


def _select(
    matrix: Any, sample: Any, algorithm: str, k_range: tuple[int, int],
    seed: int, n: int, mode: str,
) -> tuple[Selection, dict[int, Any], dict[int, float]]:
    from pyspark.ml.evaluation import ClusteringEvaluator
    from pyspark.ml.stat import Summarizer

    low, high = k_range
    if high < low:
        raise UsageError(f"{n} customers are too few to compare {low} or more segments")
    summarizer = Summarizer.metrics("variance").summary(matrix.features)
    stats = matrix.select(summarizer.alias("s")).first()
    total = float(np.sum(stats["s"]["variance"].toArray()) * (n - 1))
    scores = [KScore(k=1, wcss=total, silhouette=None, calinski_harabasz=None, davies_bouldin=None)]
    fitted: dict[int, Any] = {}
    evaluated: dict[int, float] = {}
    evaluator = ClusteringEvaluator(featuresCol="features", predictionCol="prediction")
    for k in range(max(low, 2), high + 1):
        # Several starts, the lowest cost kept, as the local sweep does (SWEEP_N_INIT).
        starts = [_estimator(algorithm, k, seed + i).fit(matrix) for i in range(SWEEP_N_INIT)]
        model = starts[0]
        if algorithm != "gmm":
            model = min(starts, key=lambda m: _cost(m, algorithm, None, None, n))
        fitted[k] = model
        predicted = model.transform(sample).select("features", "prediction").toPandas()
        labels = predicted["prediction"].to_numpy()
        x = np.array([v.toArray() for v in predicted["features"]])
        silhouette = float(silhouette_score(x, labels)) if len(np.unique(labels)) > 1 else None
        if len(np.unique(labels)) > 1:
            evaluated[k] = float(evaluator.evaluate(model.transform(sample)))
        scores.append(KScore(k=k, wcss=_cost(model, algorithm, x, labels, n), silhouette=silhouette,
                             calinski_harabasz=None, davies_bouldin=None))  # fmt: skip
    ks = np.array([s.k for s in scores])
    knee_x = knee_point(ks, np.array([s.wcss for s in scores]))
    selection = decide(scores, int(knee_x) if knee_x is not None else None, (low, high), n)
    if mode == "range":
        selection = dataclasses.replace(selection, mode="range")
    return selection, fitted, evaluated
