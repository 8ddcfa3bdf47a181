"""`segmint.Segmenter`: the core estimator, plus the Spark engine (an edge).

:class:`segmint.model.Segmenter` is the pure scikit-learn estimator of the core.  The
public ``segmint.Segmenter`` is this subclass, which adds ``engine="spark"``: the fit runs
on Spark MLlib through :func:`segmint.spark.cluster.fit_spark`, on an array, a DataFrame or
a Spark DataFrame.  pyspark is imported only when that engine runs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from segmint import model
from segmint.algorithms.base import CentroidAssigner
from segmint.model import FINAL_N_INIT, KSpec

ENGINES = ("local", "spark")


def _engine_doc() -> str:
    base = model.Segmenter.__doc__ or ""
    params = """    engine : {"local", "spark"}, default="local"
        ``"spark"`` fits with Spark MLlib (:func:`segmint.spark.cluster.fit_spark`: the
        same preparation and selection rules, k-means|| / bisecting k-means / Gaussian
        mixture; ``algorithm="auto"`` means k-means there).  ``X`` may then also be a
        Spark DataFrame (an optional ``customer_id`` column and the features), which
        never comes to the driver: ``labels_`` and ``predict`` then give Spark
        DataFrames (``customer_id``, ``segment``, ``segment_name``, ``confidence``).
        Needs ``pip install 'segmint[spark]'`` and Java.
    spark_master : str, default="local[*]"
        Master URL of the Spark session (an active session is reused).

"""
    attrs = """    model_ : SegmentationModel
        Only with ``engine="spark"``: the model, saved and served like any other.
"""
    base = base.replace(
        "    Attributes\n    ----------\n", params + "    Attributes\n    ----------\n", 1
    )
    return base.replace("    n_features_in_ : int", attrs + "    n_features_in_ : int", 1)


class Segmenter(model.Segmenter):
    __doc__ = _engine_doc()

    def __init__(
        self,
        k: KSpec = "auto",
        algorithm: str = "auto",
        random_state: int | np.random.RandomState | None = None,
        n_init: int = FINAL_N_INIT,
        prepare: bool = True,
        diagnostics: bool = True,
        engine: str = "local",
        spark_master: str = "local[*]",
    ) -> None:
        super().__init__(
            k=k,
            algorithm=algorithm,
            random_state=random_state,
            n_init=n_init,
            prepare=prepare,
            diagnostics=diagnostics,
        )
        self.engine = engine
        self.spark_master = spark_master

    def fit(self, X: Any, y: Any = None) -> Segmenter:
        """Prepare ``X``, choose k and fit (with the chosen engine).

        Parameters
        ----------
        X : array-like, DataFrame or (``engine="spark"``) Spark DataFrame
            One row per customer.
        y : ignored

        Returns
        -------
        self
        """
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be 'local' or 'spark', got {self.engine!r}")
        if self.engine == "spark":
            return self._fit_spark(X)
        super().fit(X, y)
        return self

    def predict(self, X: Any) -> Any:
        """Segment of each row of ``X`` by the fitted family's rule, after preparation.

        A Spark DataFrame (``engine="spark"``) is labelled in Spark: a Spark DataFrame of
        ``customer_id``, ``segment``, ``segment_name`` and ``confidence`` comes back.
        """
        if _is_spark_frame(X):
            from sklearn.utils.validation import check_is_fitted

            from segmint.spark.cluster import label_spark

            check_is_fitted(self)
            if getattr(self, "model_", None) is None:
                raise ValueError("only a Segmenter fitted with engine='spark' labels Spark data")
            return label_spark(self.model_, _with_ids(X))
        return super().predict(X)

    def _fit_spark(self, X: Any) -> Segmenter:
        from segmint.spark.cluster import ALGORITHMS, fit_spark
        from segmint.spark.session import spark_session

        algorithm = "kmeans" if self.algorithm == "auto" else self.algorithm
        if algorithm not in ALGORITHMS:
            raise ValueError(
                f"engine='spark' fits {', '.join(ALGORITHMS)} (or 'auto'), not {algorithm!r}"
            )
        if not self.prepare:
            raise ValueError("engine='spark' always prepares the features (prepare=True)")
        seed = self._seed() or 0
        if _is_spark_frame(X):
            features = _with_ids(X)
            names = [c for c in features.columns if c != "customer_id"]
            self.n_features_in_ = len(names)
            self.feature_names_in_ = np.asarray(names, dtype=object)
            fitted = fit_spark(features, k=self.k, random_state=seed, algorithm=algorithm)
            self.labels_ = fitted.labels
            self.confidence_ = None
        else:
            frame = self._as_frame(X, reset=True)
            frame.insert(0, "customer_id", [str(i) for i in range(len(frame))])
            spark = spark_session(self.spark_master)
            fitted = fit_spark(
                spark.createDataFrame(frame), k=self.k, random_state=seed, algorithm=algorithm
            )
            labelled = fitted.labels.toPandas()
            order = labelled["customer_id"].astype(int).to_numpy().argsort()
            self.labels_ = labelled["segment"].to_numpy(dtype=int)[order]
            self.confidence_ = labelled["confidence"].to_numpy(dtype=float)[order]
        trained = fitted.model
        self.model_ = trained
        self.preparation_ = trained.preparation
        self.cluster_centers_ = trained.centers
        self.k_ = trained.k
        self.algorithm_ = algorithm
        self.assigner_ = trained.assigner or CentroidAssigner(trained.centers)
        self.selection_ = dict(trained.selection)
        self.stability_ = None
        self.warnings_ = []
        self.structure_ = bool(trained.selection.get("structure", trained.k > 1))
        return self


def _is_spark_frame(X: Any) -> bool:
    """Whether ``X`` is a pyspark DataFrame (without importing pyspark)."""
    return any(
        cls.__module__.startswith("pyspark.") and cls.__name__ == "DataFrame"
        for cls in type(X).__mro__
    )


def _with_ids(frame: Any) -> Any:
    """A Spark DataFrame with a ``customer_id`` column (one is made when missing)."""
    if "customer_id" in frame.columns:
        return frame
    from pyspark.sql import functions

    return frame.withColumn("customer_id", functions.monotonically_increasing_id().cast("string"))


__all__ = ["ENGINES", "Segmenter"]
