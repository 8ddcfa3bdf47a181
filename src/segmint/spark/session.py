"""Starting a SparkSession for segmint (``--spark-master``), with an error naming the extra."""

from __future__ import annotations

import os
import sys
from typing import Any

from segmint.errors import UsageError

DEFAULT_MASTER = "local[*]"
ENGINES = ("local", "spark")


def check_engine(engine: str) -> str:
    """``engine`` when it is one of :data:`ENGINES` (``--engine``), else a UsageError."""
    if engine not in ENGINES:
        raise UsageError(f"--engine must be {' or '.join(ENGINES)}, not {engine!r}")
    return engine


def require_pyspark() -> Any:
    """Import pyspark, or fail with the extra to install."""
    try:
        import pyspark
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise UsageError(
            "--engine spark needs pyspark and Java: pip install 'segmint[spark]'"
        ) from exc
    return pyspark


def spark_session(
    master: str = DEFAULT_MASTER, *, app_name: str = "segmint", conf: dict[str, str] | None = None
) -> Any:
    """Get or create a SparkSession on ``master`` (e.g. ``local[*]``, ``spark://host:7077``).

    Timestamps are read and written in UTC and ANSI mode is off (division by zero is NULL,
    as in the local engine's SQL).  Under ``spark-submit`` the session it started is reused.
    """
    require_pyspark()
    from pyspark.sql import SparkSession

    if master.startswith("local") and "PYSPARK_PYTHON" not in os.environ:
        # Local workers run this interpreter, so they import the same segmint.
        os.environ["PYSPARK_PYTHON"] = sys.executable
    builder = SparkSession.builder.appName(app_name).master(master)
    settings = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        **(conf or {}),
    }
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()
