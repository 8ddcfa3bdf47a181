"""End to end: `segmint fit` vs the tutorial recipe, feature engines, assignment, Spark vs local.

Run with ``make bench-e2e`` (``BENCH_E2E_ROWS=1000000`` for the 1M-row log only).  For each
log size (synthetic transactions from :mod:`segmint.datasets`, ~50 lines per customer):

* headline: the recipe of most segmentation tutorials -- pandas ``read_csv`` + groupby RFM +
  StandardScaler + scikit-learn ``KMeans(n_init=10)`` for k = 2..10 +
  ``silhouette_score(sample_size=10_000)``, best silhouette -- against ``segmint fit`` (CLI,
  features + preparation + automatic selection + profiles + report) on the same CSV;
* features: local DuckDB engine vs the pandas RFM groupby vs the Spark engine (local mode);
* where ``segmint fit``'s time goes (its own ``timings_seconds``) next to the time the
  target allows (the recipe's time / 5), so a miss shows which phases exceed it;
* assignment throughput: a saved segmint model vs the recipe's way of labelling new
  customers (its StandardScaler + KMeans as one scikit-learn pipeline on the same feature
  table);
* Spark vs local: the whole fit on the features with each engine (where Spark starts to pay).

Every figure is printed next to its baseline from the same run as a ratio, with the core
count; results go to ``benchmarks/results/bench_e2e.json``.  ``--summary`` prints one
table of every JSON file in benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

RESULTS = Path(__file__).parent / "results"
TARGET = 5.0  # segmint fit vs the recipe on 10 million transactions


def _timed(fn: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    out = fn()
    return time.perf_counter() - started, out


def tutorial_recipe(csv: Path) -> dict[str, Any]:
    """The baseline: pandas RFM + StandardScaler + KMeans(n_init=10), best silhouette."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import StandardScaler

    log = pd.read_csv(csv, parse_dates=["InvoiceDate"])
    log = log.dropna(subset=["CustomerID"])
    log["TotalPrice"] = log["Quantity"] * log["UnitPrice"]
    snapshot = log["InvoiceDate"].max() + pd.Timedelta(days=1)
    rfm = log.groupby("CustomerID").agg(
        recency=("InvoiceDate", lambda d: (snapshot - d.max()).days),
        frequency=("InvoiceNo", "nunique"),
        monetary=("TotalPrice", "sum"),
    )
    x = StandardScaler().fit_transform(rfm)
    best = (-2.0, 0)
    for k in range(2, 11):
        labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(x)
        score = silhouette_score(x, labels, sample_size=10_000, random_state=0)
        best = max(best, (float(score), k))
    return {"k": best[1], "silhouette": best[0], "customers": len(rfm)}


def pandas_rfm(csv: Path) -> int:
    log = pd.read_csv(csv, parse_dates=["InvoiceDate"]).dropna(subset=["CustomerID"])
    log["TotalPrice"] = log["Quantity"] * log["UnitPrice"]
    return len(log.groupby("CustomerID").agg(last=("InvoiceDate", "max"),
                                             orders=("InvoiceNo", "nunique"),
                                             spend=("TotalPrice", "sum")))  # fmt: skip


def segmint_fit(csv: Path, out: Path) -> dict[str, Any]:
    subprocess.run([sys.executable, "-m", "segmint", "fit", str(csv), "--out", str(out), "--json"],
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    summary = json.loads((out / "summary.json").read_text())
    return {"k": summary["k"], "customers": summary["n_customers"],
            "timings_s": summary.get("timings_seconds", {})}  # fmt: skip


def run_size(rows: int, folder: Path, spark: Any) -> dict[str, Any]:
    from segmint.artifacts import load_model
    from segmint.datasets import write_transactions
    from segmint.featurize import log_features
    from segmint.spark import spark_log_features
    from segmint.spark.cluster import fit_spark

    customers = max(rows // 50, 100)
    csv = folder / f"log_{rows}.csv"
    written = write_transactions(csv, customers, seed=0)
    out: dict[str, Any] = {"rows_requested": rows, "rows": written, "customers": customers}
    t_base, base = _timed(lambda: tutorial_recipe(csv))
    t_fit, fit = _timed(lambda: segmint_fit(csv, folder / f"fit_{rows}"))
    out["headline"] = {"baseline_s": t_base, "segmint_fit_s": t_fit, "speedup": t_base / t_fit,
                       "baseline": base, "segmint": fit}  # fmt: skip
    t_pandas, _ = _timed(lambda: pandas_rfm(csv))
    t_duck, local = _timed(lambda: log_features(csv))
    t_spark, _ = _timed(lambda: spark_log_features(spark, csv))
    out["features"] = {
        "pandas_rfm_s": t_pandas,
        "duckdb_s": t_duck,
        "spark_local_s": t_spark,
        "duckdb_vs_pandas": t_pandas / t_duck,
        "spark_vs_duckdb": t_duck / t_spark,
    }
    features = local.result.features
    model = load_model(folder / f"fit_{rows}" / "model")
    model.label_customers(features.head(1_000))  # warm-up: first-call imports and caches
    t_assign, _ = _timed(lambda: model.label_customers(features))
    from sklearn.cluster import KMeans
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    # Like for like: the recipe labels new customers from the same feature table, with its
    # scaler and k-means as one pipeline (missing values filled as it would have to).
    columns = model.preparation.input_columns
    recipe = make_pipeline(StandardScaler(), KMeans(n_clusters=model.k, n_init=1, random_state=0))

    def recipe_labels(table: pd.DataFrame) -> Any:
        return recipe.predict(table[columns].select_dtypes("number").fillna(0))

    recipe.fit(features[columns].select_dtypes("number").fillna(0).head(10_000))
    recipe_labels(features.head(1_000))
    t_predict, _ = _timed(lambda: recipe_labels(features))
    out["assign"] = {"customers": len(features), "segmint_per_s": len(features) / t_assign,
                     "recipe_per_s": len(features) / t_predict,
                     "ratio": t_predict / t_assign}  # fmt: skip
    from segmint import segment

    # Where Spark starts to pay: the same fit (k-means, automatic k) on the customer table
    # with each engine; Spark's time includes moving the table into Spark.
    t_local, local_fit = _timed(
        lambda: segment(features, customer_col="customer_id", input_kind="customers",
                        algorithm="kmeans")
    )  # fmt: skip
    t_sfit, spark_fit = _timed(lambda: fit_spark(spark.createDataFrame(features), random_state=0))
    out["spark_vs_local_fit"] = {
        "local_s": t_local, "spark_local_s": t_sfit, "spark_speed_ratio": t_local / t_sfit,
        "k_local": local_fit.model.k, "k_spark": spark_fit.model.k,
    }  # fmt: skip
    return out


def print_table(results: dict[str, Any]) -> None:
    print(f"cores: {results['cores']}  load average at start: {results.get('load', '?')}  "
          "(a shared machine: timings are noisy)")  # fmt: skip
    print(f"{'measure':58s} {'value':>12s} {'baseline':>12s} {'ratio':>8s}")
    for size in results["sizes"]:
        n = f"{size['rows']:,} rows"
        h, f, a, s = size["headline"], size["features"], size["assign"], size["spark_vs_local_fit"]
        lines = [
            (f"{n}: segmint fit (s) vs tutorial recipe", h["segmint_fit_s"], h["baseline_s"],
             h["speedup"]),
            (f"{n}: features DuckDB, all (s) vs pandas 3 RFM", f["duckdb_s"], f["pandas_rfm_s"],
             f["duckdb_vs_pandas"]),
            (f"{n}: features Spark local (s) vs DuckDB", f["spark_local_s"], f["duckdb_s"],
             f["spark_vs_duckdb"]),
            (f"{n}: assign (prepare+label+name) /s vs recipe pipeline", a["segmint_per_s"],
             a.get("recipe_per_s", a.get("sklearn_predict_per_s", float("nan"))), a["ratio"]),
            (f"{n}: fit on features Spark local (s) vs local", s["spark_local_s"], s["local_s"],
             s["spark_speed_ratio"]),
        ]  # fmt: skip
        for name, value, base, ratio in lines:
            print(f"{name:58s} {value:12.2f} {base:12.2f} {ratio:7.2f}x")
        budget = h["baseline_s"] / TARGET
        phases = h["segmint"].get("timings_s", {})
        for phase in ("read", "segment", "profiles_and_charts", "write"):
            if phase in phases:
                print(f"{n}:   segmint fit phase {phase:20s} {phases[phase]:8.2f} s")
        after = ("segment", "profiles_and_charts", "write")
        after_features = sum(phases.get(p, 0.0) for p in after)
        if phases:
            print(f"{n}:   time the {TARGET:.0f}x target allows: {budget:.2f} s; "
                  f"segmint's phases after the features alone: {after_features:.2f} s")  # fmt: skip
        if size["rows"] >= 5_000_000:
            verdict = "met" if h["speedup"] >= TARGET else "MISSED"
            print(f"{n}: target segmint fit >= {TARGET:.0f}x faster than the recipe: {verdict}")
        print(
            f"{n}: k chosen: segmint {h['segmint']['k']}, recipe {h['baseline']['k']}, "
            f"fit on features local {s.get('k_local')}, Spark {s.get('k_spark')}"
        )


def summary() -> None:
    for path in sorted(RESULTS.glob("*.json")):
        data = json.loads(path.read_text())
        print(f"== {path.name}")
        if path.name == "bench_e2e.json":
            print_table(data)
        else:
            print(json.dumps(data, indent=1, default=str)[:3000])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default="1000000,10000000")
    parser.add_argument("--summary", action="store_true")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    if args.summary:
        summary()
        return
    from segmint.spark import spark_session

    spark = spark_session("local[*]", conf={"spark.ui.showConsoleProgress": "false",
                                            "spark.sql.shuffle.partitions": "8"})  # fmt: skip
    spark.sparkContext.setLogLevel("ERROR")
    results: dict[str, Any] = {"cores": os.cpu_count(), "sizes": [],
                               "load": " ".join(Path("/proc/loadavg").read_text().split()[:3])
                               if Path("/proc/loadavg").exists() else None}  # fmt: skip
    with tempfile.TemporaryDirectory(dir=args.data_dir, prefix="segmint-e2e-") as tmp:
        for rows in (int(r) for r in args.rows.split(",")):
            results["sizes"].append(run_size(rows, Path(tmp), spark))
            RESULTS.mkdir(exist_ok=True)
            (RESULTS / "bench_e2e.json").write_text(json.dumps(results, indent=2, default=str))
    print_table(results)


if __name__ == "__main__":
    main()
