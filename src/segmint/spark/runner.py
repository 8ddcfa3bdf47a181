"""`segmint fit|assign --engine spark`: the output folder and files of the local runner."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from segmint.artifacts import load_model, save_model
from segmint.customers import CustomerTable, with_quality
from segmint.features.engine import QUALITY_COLUMNS
from segmint.io import LoadedTable, write_table
from segmint.report.html import render_report
from segmint.rundir import build_extras, write_extras
from segmint.runner import check_output_dir, resolve_model_dir, write_folder_atomically
from segmint.spark.cluster import SparkFit, fit_spark, label_spark
from segmint.spark.features import spark_log_features
from segmint.spark.session import DEFAULT_MASTER, spark_session


def fit_spark_file(
    data: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str] = "segmint-output",
    k: Any = "auto",
    seed: int = 0,
    as_of: str | None = None,
    algorithm: str = "kmeans",
    master: str = DEFAULT_MASTER,
    spark: Any = None,
    sep: str | None = None,
) -> SparkFit:
    """Features, selection, fit and profiles in Spark; the local runner's output folder
    (``sep``: the text file's delimiter when detection cannot decide)."""
    out = Path(out_dir)
    check_output_dir(out)
    spark = spark or spark_session(master)
    run = spark_log_features(spark, data, as_of=as_of, sep=sep)
    features = spark.createDataFrame(run.result.features)
    spec = run.spec
    fitted = fit_spark(
        features, k=k, random_state=seed, algorithm=algorithm, roles=run.roles,
        feature_spec={"spec": spec.to_dict(), "hash": spec.fingerprint()},
        account=run.result.account, excluded=run.result.excluded, source=str(data),
    )  # fmt: skip
    quality = run.result.quality
    labels = fitted.labels
    if quality is not None:
        # each customer's data-quality score and reasons, as in the local fit's segments
        if len(fitted.result.assignments) == fitted.model.training["n_customers"]:
            assignments = fitted.result.assignments.astype({"customer_id": "string"})
            with_scores = with_quality(assignments, quality)
            fitted = dataclasses.replace(
                fitted, result=dataclasses.replace(fitted.result, assignments=with_scores)
            )
        else:
            scores = spark.createDataFrame(
                quality[["customer_id", *QUALITY_COLUMNS]].astype({"customer_id": str})
            )
            labels = labels.join(scores, "customer_id", "left").fillna("", ["quality_reasons"])
    result, extras = build_extras(fitted.result, seed=seed)
    summary = dict(result.summary)
    summary["created"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    summary["feature_spec_hash"] = spec.fingerprint()

    def write(folder: Path) -> None:
        if len(result.assignments) < fitted.model.training["n_customers"]:
            # Above PROFILE_SAMPLE customers the labels stay in Spark: its executors write
            # them (on a cluster the folder must be on storage they share).
            labels.write.parquet((folder / "segments.parquet").resolve().as_uri())
        else:
            write_table(result.assignments, folder / "segments.csv")
        write_table(result.excluded, folder / "excluded.csv")
        write_table(result.profiles_table(), folder / "profiles.csv")
        save_model(result.model, folder / "model")
        write_extras(folder, result, summary, extras)
        (folder / "report.html").write_text(
            render_report(summary, result.profiles, extras.exhibits), encoding="utf-8"
        )
        (folder / "summary.json").write_text(
            json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8"
        )

    write_folder_atomically(out, write)
    return fitted


def assign_spark_file(
    model_dir: str | os.PathLike[str],
    data: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str],
    as_of: str | None = None,
    master: str = DEFAULT_MASTER,
    spark: Any = None,
    sep: str | None = None,
) -> int:
    """Label a log's customers with a saved model, features and labels in Spark; rows written."""
    model = load_model(resolve_model_dir(model_dir))
    spark = spark or spark_session(master)
    run = spark_log_features(spark, data, spec=model.feature_spec(), as_of=as_of, sep=sep)
    labels = label_spark(model, spark.createDataFrame(run.result.features)).toPandas()
    labels["customer_id"] = labels["customer_id"].astype("string")
    if run.result.quality is not None:
        labels = with_quality(labels, run.result.quality)
    write_table(labels, Path(out))
    return len(labels)


def refresh_spark_inputs(
    workspace: str | os.PathLike[str],
    data: str | os.PathLike[str],
    *,
    as_of: str | None = None,
    master: str = DEFAULT_MASTER,
    spark: Any = None,
    sep: str | None = None,
) -> tuple[LoadedTable, CustomerTable]:
    """For ``refresh --engine spark``: the new log's customer features, derived in Spark
    with the serving model's spec, and the log's columns (no rows) for the checks."""
    model = load_model(resolve_model_dir(workspace))
    spark = spark or spark_session(master)
    run = spark_log_features(spark, data, spec=model.feature_spec(), as_of=as_of, sep=sep)
    found = run.result
    table = CustomerTable(found.features, found.excluded, found.account, found.spec)
    return LoadedTable(run.sample, str(data), str(run.load["format"])), table
