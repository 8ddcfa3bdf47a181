"""The Spark engine against the local one: same features, same segments, same model format.

Spark runs in local mode (2 threads, UI off, few shuffle partitions), one session for the
whole module. ``make test`` runs them (it installs the ``spark`` extra and Java when
missing); ``make test-spark`` runs only them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmint import segment
from segmint.artifacts import load_model, save_model
from segmint.errors import UsageError
from segmint.featurize import log_features
from segmint.scan import read_sample
from segmint.spark import spark_log_features, spark_session
from segmint.spark.cluster import fit_spark, label_spark
from segmint.spark.features import configure
from tests.log_twins import write_headerless, write_twins

TODAY = dt.date(2024, 1, 1)
# pyspark 4 warns once that pandas 3 support is young; the agreement tests are the check.
# pyspark 4.x passes pandas 3's deprecated copy keyword when collecting: its warning, not ours.
pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
    pytest.mark.filterwarnings("ignore:toPandas attempted Arrow optimization"),
]


@pytest.fixture(scope="module")
def spark():
    session = spark_session(
        "local[2]",
        app_name="segmint-tests",
        conf={
            "spark.sql.shuffle.partitions": "4",
            "spark.default.parallelism": "4",
            "spark.ui.enabled": "false",
            "spark.ui.showConsoleProgress": "false",
            "spark.driver.host": "127.0.0.1",
            "spark.driver.bindAddress": "127.0.0.1",
            "spark.sql.adaptive.enabled": "true",
        },
    )
    session.sparkContext.setLogLevel("ERROR")
    configure(session)
    yield session
    session.stop()


def _close(a: np.ndarray, b: np.ndarray, *, floor: float = 1e-6) -> np.ndarray:
    # 1e-9 relative to the value, or to the column's scale for sums that cancel to ~0
    # (a customer's net spend of 1e-14 after +/- hundreds: summation order decides it).
    scale = np.nanmax(np.abs(b)) if np.isfinite(b).any() else 0.0
    tol = 1e-9 * np.maximum(np.maximum(np.abs(a), np.abs(b)), floor * scale)
    same_nan = np.isnan(a) & np.isnan(b)
    return same_nan | (np.abs(a - b) <= tol)


@pytest.mark.realdata
def test_features_equal_local_engine_on_online_retail(spark, shared_data: Path) -> None:
    path = shared_data / "online-retail" / "online_retail.csv"
    remote = spark_log_features(spark, path, today=TODAY).result
    local = log_features(path, today=TODAY).result
    assert list(remote.features.columns) == list(local.features.columns)
    assert remote.features["customer_id"].tolist() == local.features["customer_id"].tolist()
    assert len(local.features) == 4333
    for column in local.features.columns[1:]:
        a = remote.features[column].to_numpy(dtype=float)
        b = local.features[column].to_numpy(dtype=float)
        if local.features[column].dtype == np.int64:
            assert remote.features[column].dtype == np.int64, column
            np.testing.assert_array_equal(a, b, err_msg=column)
        else:
            # The slope's least-squares formula subtracts products of sums (months^3 x
            # spend): its rounding is relative to those terms, so to the column's scale.
            bad = ~_close(a, b, floor=1.0 if column == "monthly_spend_slope" else 1e-6)
            assert not bad.any(), (column, remote.features.loc[bad, "customer_id"].tolist()[:5])
    assert remote.excluded["customer_id"].tolist() == local.excluded["customer_id"].tolist()
    assert remote.excluded["reason"].tolist() == local.excluded["reason"].tolist()
    np.testing.assert_allclose(
        remote.quality["quality_score"], local.quality["quality_score"], rtol=1e-12
    )
    assert remote.quality["quality_reasons"].tolist() == local.quality["quality_reasons"].tolist()
    for key in ("rows_read", "duplicate_rows_dropped", "rows_without_customer_id", "cleaning"):
        assert remote.account[key] == local.account[key], key
    assert remote.spec is not None and local.spec is not None
    assert remote.spec.fingerprint() == local.spec.fingerprint()


def planted_customers(n: int, seed: int = 7) -> tuple[pd.DataFrame, np.ndarray]:
    """A customer feature table drawn from four planted archetypes (log-normal spreads)."""
    rng = np.random.default_rng(seed)
    # recency_days, frequency, monetary, avg_order_value, tenure_days (medians)
    archetypes = np.array(
        [
            [12.0, 25.0, 2500.0, 100.0, 700.0],  # loyal big spenders
            [200.0, 2.0, 80.0, 40.0, 260.0],  # lapsed one-offs
            [20.0, 3.0, 120.0, 40.0, 30.0],  # new customers
            [60.0, 8.0, 3200.0, 400.0, 500.0],  # occasional high-basket
        ]
    )
    truth = rng.choice(len(archetypes), size=n, p=[0.2, 0.35, 0.25, 0.2])
    values = archetypes[truth] * np.exp(rng.normal(0.0, 0.18, size=(n, archetypes.shape[1])))
    frame = pd.DataFrame(
        values, columns=["recency_days", "frequency", "monetary", "avg_order_value", "tenure_days"]
    )
    frame.insert(0, "customer_id", [f"c{i:07d}" for i in range(n)])
    return frame, truth


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, pd.Series]:
    """The features of 200,000 generated customers (about 10 million log lines), and the
    archetype planted in each."""
    from segmint.datasets import make_transactions

    log, truth = make_transactions(200_000, seed=0, return_truth=True)
    path = tmp_path_factory.mktemp("generated") / "log.parquet"
    log.to_parquet(path)
    del log
    features = log_features(path).result.features
    archetypes = truth.set_index("CustomerID")["archetype"]
    return features, archetypes.reindex(features["customer_id"].astype(str)).fillna("?")


def test_spark_and_local_segmentations_agree_on_200k_customers(
    spark, generated: tuple[pd.DataFrame, pd.Series], tmp_path: Path
) -> None:
    table, truth = generated
    assert len(table) > 199_000
    local = segment(
        table, customer_col="customer_id", input_kind="customers", random_state=0,
        algorithm="kmeans",
    )  # fmt: skip
    remote = fit_spark(
        spark.createDataFrame(table).repartition(4), random_state=0, source="generated"
    )
    # The same rule (segmint.selection.choose_k) on the same working sample: the same
    # table of indices, so the same k.
    assert remote.model.k == local.model.k > 1
    for mine, theirs in zip(
        remote.model.selection["scores"], local.model.selection["scores"], strict=True
    ):
        assert mine["k"] == theirs["k"]
        assert mine["gap"] == pytest.approx(theirs["gap"], rel=1e-6, abs=1e-9), mine["k"]
        assert mine["wcss"] == pytest.approx(theirs["wcss"], rel=1e-6), mine["k"]
    assert remote.model.selection["structure"] and local.model.selection["structure"]
    local_labels = local.assignments.set_index("customer_id")["segment"]
    remote_labels = remote.result.assignments.set_index("customer_id")["segment"]
    remote_labels = remote_labels.loc[local_labels.index]
    assert adjusted_rand_score(local_labels, remote_labels) >= 0.9
    # Both recover the planted archetypes about equally (ARI 0.86 when written).
    assert adjusted_rand_score(truth, remote_labels.to_numpy()) >= 0.8
    scores = remote.model.selection["scores"]
    assert [s["k"] for s in scores] == list(range(1, 11))
    mllib = remote.model.selection["mllib"]
    assert mllib["estimator"] == "MLlib kmeans" and mllib["training_cost"] > 0
    assert 0 < mllib["silhouette_squared_euclidean"] <= 1
    assert sum(s["size"] for s in remote.model.segments) == len(table)

    # The same model format: saved, loaded and served by the local assign code.
    save_model(remote.model, tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    head = table.head(5000)
    served = loaded.assign(head, source="generated").assignments
    expected = remote.result.assignments.set_index("customer_id").loc[head["customer_id"]]
    assert served["segment"].tolist() == expected["segment"].tolist()

    # A local model labels a Spark DataFrame (pandas UDF), as it labels pandas.
    sdf = spark.createDataFrame(head)
    labelled = label_spark(local.model, sdf).toPandas().set_index("customer_id")
    mine = local.assignments.set_index("customer_id").loc[head["customer_id"]]
    assert labelled.loc[head["customer_id"], "segment"].tolist() == mine["segment"].tolist()


@pytest.mark.parametrize("algorithm", ["bisecting", "gmm"])
def test_other_mllib_algorithms_find_the_planted_segments(spark, algorithm: str) -> None:
    table, truth = planted_customers(5_000, seed=3)
    fitted = fit_spark(spark.createDataFrame(table), k=4, algorithm=algorithm, random_state=1)
    labels = fitted.result.assignments.set_index("customer_id").loc[table["customer_id"]]
    assert fitted.model.params["algorithm"] == algorithm
    assert adjusted_rand_score(truth, labels["segment"]) >= 0.9


def _generated_log(folder: Path) -> Path:
    """A generated log of 300 customers as CSV (the generator's dirt included)."""
    from segmint.datasets import make_transactions

    log = folder / "log.csv"
    make_transactions(300, seed=5).to_csv(log, index=False)
    return log


def run(*args: object) -> dict:
    """``segmint ARGS`` in process; its JSON output when ``--json`` is given."""
    import json

    from typer.testing import CliRunner

    from segmint.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else {}


def test_cli_features_fit_and_assign_with_the_spark_engine(spark, tmp_path: Path) -> None:
    log = _generated_log(tmp_path)

    # `features`: the same table from both engines (the generator's dirt included).
    run("features", log, "--out", tmp_path / "spark.csv", "--engine", "spark", "--json",
        "--as-of", "2025-01-01")  # fmt: skip
    run("features", log, "--out", tmp_path / "local.csv", "--json", "--as-of", "2025-01-01")
    remote = pd.read_csv(tmp_path / "spark.csv")
    local = pd.read_csv(tmp_path / "local.csv")
    assert list(remote.columns) == list(local.columns) and len(local) == 300
    for column in local.columns[1:]:
        if not pd.api.types.is_numeric_dtype(local[column]):
            assert remote[column].fillna("").tolist() == local[column].fillna("").tolist(), column
            continue
        a, b = remote[column].to_numpy(dtype=float), local[column].to_numpy(dtype=float)
        assert _close(a, b).all(), column
    assert remote["customer_id"].tolist() == local["customer_id"].tolist()

    # `fit` and `assign` in Spark; the model is served by the local `assign` unchanged.
    run("fit", log, "--out", tmp_path / "fit", "--engine", "spark", "--as-of", "2025-01-01")
    summary = pd.read_json(tmp_path / "fit" / "summary.json", typ="series")
    assert summary["engine"] == "spark" and summary["n_customers"] == 300
    run("assign", tmp_path / "fit", log, "--out", tmp_path / "a.csv", "--engine", "spark",
        "--as-of", "2025-01-01")  # fmt: skip
    run("assign", tmp_path / "fit", log, "--out", tmp_path / "b.csv", "--as-of", "2025-01-01")
    by_spark = pd.read_csv(tmp_path / "a.csv").set_index("customer_id").sort_index()
    by_local = pd.read_csv(tmp_path / "b.csv").set_index("customer_id").sort_index()
    assert by_spark["segment"].tolist() == by_local["segment"].tolist()
    fitted = pd.read_csv(tmp_path / "fit" / "segments.csv").set_index("customer_id").sort_index()
    assert fitted["segment"].tolist() == by_local["segment"].tolist()
    # each customer's data-quality score and reasons, as the local engine writes them
    for labelled in (fitted, by_spark):
        assert labelled["quality_score"].tolist() == pytest.approx(
            by_local["quality_score"].tolist(), rel=1e-12
        )
        reasons = labelled["quality_reasons"].fillna("")
        assert reasons.tolist() == by_local["quality_reasons"].fillna("").tolist()


def test_refresh_with_the_spark_engine_equals_the_local_refresh(spark, tmp_path: Path) -> None:
    import shutil

    log = _generated_log(tmp_path)

    run("fit", log, "--workspace", tmp_path / "ws", "--as-of", "2024-10-01", "--json")
    shutil.copytree(tmp_path / "ws", tmp_path / "copy")
    remote = run("refresh", log, "--workspace", tmp_path / "ws", "--as-of", "2025-01-01",
                 "--engine", "spark", "--json")  # fmt: skip
    local = run("refresh", log, "--workspace", tmp_path / "copy", "--as-of", "2025-01-01", "--json")
    # Features derived in Spark with the serving model's spec; the refit, the matching of
    # segment ids and the promotion decision are the local ones, so all of it agrees.
    assert remote["promoted"] == local["promoted"]
    assert remote["decision"]["metrics"] == pytest.approx(local["decision"]["metrics"])
    assert remote["migration"] == local["migration"]
    assert remote["continued_segments"] == local["continued_segments"]
    assert remote["n_customers"] == local["n_customers"] == 300


def test_segmenter_with_the_spark_engine(spark, tmp_path: Path) -> None:
    """The estimator fits with MLlib on arrays or on a Spark DataFrame, agrees with the
    local engine, labels Spark data in Spark, and its model is saved like any other."""
    from sklearn.datasets import make_blobs

    from segmint import Segmenter

    X, _ = make_blobs(n_samples=3000, centers=4, n_features=3, random_state=1)
    local = Segmenter(algorithm="kmeans", random_state=0).fit(X)
    remote = Segmenter(engine="spark", random_state=0).fit(X)
    assert remote.k_ == local.k_ == 4
    assert adjusted_rand_score(local.labels_, remote.labels_) > 0.99
    assert (remote.predict(X) == remote.labels_).all()
    assert remote.selection_["engine"] == "spark"

    ids = [f"c{i}" for i in range(len(X))]
    frame = spark.createDataFrame(
        pd.DataFrame(X, columns=["x0", "x1", "x2"]).assign(customer_id=ids)
    )
    labelled = remote.predict(frame).toPandas().set_index("customer_id").loc[ids]
    assert (labelled["segment"].to_numpy() == remote.labels_).all()

    on_spark = Segmenter(engine="spark", random_state=0).fit(frame)  # never collected
    assert on_spark.k_ == 4 and list(on_spark.feature_names_in_) == ["x0", "x1", "x2"]
    spark_labels = on_spark.labels_.toPandas().set_index("customer_id").loc[ids]
    assert adjusted_rand_score(local.labels_, spark_labels["segment"]) > 0.99
    save_model(on_spark.model_, tmp_path / "model")
    served, _ = load_model(tmp_path / "model").label_customers(
        pd.DataFrame(X, columns=["x0", "x1", "x2"]).assign(customer_id=ids)
    )
    assert served["segment"].tolist() == spark_labels["segment"].tolist()

    with pytest.raises(ValueError, match="engine='spark' fits"):
        Segmenter(engine="spark", algorithm="genie").fit(X)


def test_aligned_log_with_number_dates_reads_as_locally(spark, tmp_path: Path) -> None:
    # runs of spaces, a padded header, CRLF and YYYYMMDD dates: Spark splits and types the
    # lines as read_table does, so the features equal the local ones of the comma twin
    comma, aligned = write_twins(tmp_path, n_customers=30)
    remote = spark_log_features(spark, aligned, today=TODAY).result.features
    local = log_features(comma, today=TODAY).result.features
    pd.testing.assert_frame_equal(remote, local, check_exact=False, rtol=1e-9)


def test_headerless_log_read_by_content_as_locally(spark, tmp_path: Path) -> None:
    reference, comma, aligned = write_headerless(tmp_path)
    local = log_features(reference, today=TODAY).result.features
    for path in (comma, aligned):
        run = spark_log_features(spark, path, today=TODAY)
        assert (run.roles.customer, run.roles.time, run.roles.amount) == (
            "column_1",
            "column_2",
            "column_4",
        )
        pd.testing.assert_frame_equal(run.result.features, local, check_exact=False, rtol=1e-9)


def test_logs_named_in_other_languages_read_alike_by_the_three_readers(
    spark, tmp_path: Path
) -> None:
    from tests.test_roles_languages import LANGUAGES, basket_log

    log = basket_log(households=60, seed=4)
    customer, date, amount, quantity, order, product = LANGUAGES["de"]
    german = log.rename(columns={
        "household_id": customer, "date": date, "sales_value": amount, "quantity": quantity,
        "basket_id": order, "product_id": product,
    })  # fmt: skip
    for name, frame in (("basket", log), ("de", german)):
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False, sep=";")
        streamed = log_features(path, today=TODAY)
        memory = log_features(path, today=TODAY, sep=";")
        remote = spark_log_features(spark, path, today=TODAY)
        assert streamed.roles == memory.roles == remote.roles, name
        local = streamed.result.features
        pd.testing.assert_frame_equal(memory.result.features, local, check_exact=False, rtol=1e-9)
        pd.testing.assert_frame_equal(remote.result.features, local, check_exact=False, rtol=1e-9)


def test_sep_reaches_the_spark_reader(spark, tmp_path: Path) -> None:
    comma, _ = write_twins(tmp_path, n_customers=30)
    semi = tmp_path / "log_semicolon.csv"
    pd.read_csv(comma).to_csv(semi, index=False, sep=";")
    assert read_sample(semi, sep=",").names == (semi.read_text().splitlines()[0],)
    remote = spark_log_features(spark, semi, today=TODAY, sep=";").result.features
    local = log_features(comma, today=TODAY).result.features
    pd.testing.assert_frame_equal(remote, local, check_exact=False, rtol=1e-9)
    with pytest.raises(UsageError, match="--sep applies to text files"):
        read_sample(_parquet_copy(comma, tmp_path), sep=";")


def _parquet_copy(path: Path, folder: Path) -> Path:
    target = folder / "log.parquet"
    pd.read_csv(path).to_parquet(target)
    return target
