"""The Spark engine: the same features, selection rules and model format on a cluster.

Entry points: :func:`spark_session`, :func:`spark_log_features` (features of a log in
Spark), :func:`fit_spark` (features already in a Spark DataFrame -> a
:class:`~segmint.pipeline.SegmentationModel` saved like any other) and
:func:`label_spark` (any model labels a Spark DataFrame).  pyspark is imported only when
one of them runs (``pip install 'segmint[spark]'``).
"""

from segmint.spark.features import spark_features, spark_log_features
from segmint.spark.session import DEFAULT_MASTER, spark_session

__all__ = ["DEFAULT_MASTER", "spark_features", "spark_log_features", "spark_session"]
