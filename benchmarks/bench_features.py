"""Benchmark of the transaction-log features: speed, memory, scaling and segment quality.

Run with ``make bench-features`` (or ``python benchmarks/bench_features.py``).  Every
measurement runs in a fresh process, so its peak memory (maximum resident set size) is
its own.  Baselines are measured in the same run:

* **speed** -- segmint's streamed features (default settings) vs :mod:`pandas_features`
  (the same cleaning and features, straightforward pandas: ``read_csv``,
  ``drop_duplicates``, ``groupby``) from the same CSV file of about 10 million lines
  (target: at least 5x faster);
* **memory** -- segmint's peak at about 50 million lines from Parquet (target: at most
  2 GiB), and the pandas baseline's peak at 1 and 5 million lines from Parquet,
  extrapolated linearly to 50 million (it cannot run there on a 24 GiB machine; its peak
  on the 10-million-line CSV is reported too);
* **scaling** -- seconds per line at 50 million over seconds per line at 10 million, both
  from Parquet and with the same settings: a 1 GB memory limit, under which both logs are
  worked on from a database file (target: at most 1.3).  With the default settings the
  10-million-line log is kept in memory, which is faster; that ratio is printed too;
* **quality** -- on the generator's planted archetypes, the adjusted Rand index of
  segmint's segments (k = 6) from the default features and from RFM alone.

Both implementations are first checked to give the same numbers on a small log.  The
generated logs are cached in ``--data-dir`` (they depend only on their size and seed).
Results go to ``benchmarks/results/bench_features-<time>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TODAY = dt.date(2026, 1, 1)
ROWS_PER_CUSTOMER = 52.2  # the generator's default mix and period
GiB = 1 << 30


# ----------------------------------------------------------------------------- workers
def _worker(kind: str, path: str, memory_limit: str) -> None:
    """Compute the features in this process and print timing facts as JSON."""
    sys.path.insert(0, str(HERE))
    started = time.perf_counter()
    if kind == "segmint":
        from segmint.featurize import log_features

        limit = None if memory_limit == "default" else memory_limit
        run = log_features(path, today=TODAY, memory_limit=limit)
        customers, rows = len(run.result.features), run.result.account["rows_read"]
        work = run.load.get("work", {})
    else:
        from pandas_features import pandas_features, read_log

        log = read_log(path)
        rows = len(log)
        customers = len(pandas_features(log, today=TODAY))
        work = {}
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "rows": rows, "customers": customers, "work": work}))


def measure(
    kind: str, path: Path, *, memory_limit: str = "default", rss_limit: int | None = None
) -> dict:
    """Run a worker in a fresh process: its result, wall time and peak memory.

    ``memory_limit`` is segmint's (``"default"``: its own choice from the log's size)."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        kind,
        str(path),
        memory_limit,
    ]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=_limit(rss_limit) if rss_limit else None)  # fmt: skip
    _, status, usage = os.wait4(process.pid, 0)
    out = process.stdout.read() if process.stdout else ""
    err = process.stderr.read() if process.stderr else ""
    wall = time.perf_counter() - started
    peak = usage.ru_maxrss * 1024
    if status != 0:
        return {
            "ok": False,
            "wall_seconds": wall,
            "peak_bytes": peak,
            "error": err.strip().splitlines()[-1:],
        }
    facts = json.loads(out.strip().splitlines()[-1])
    return {"ok": True, "wall_seconds": wall, "peak_bytes": peak, **facts}


def _limit(limit: int):  # type: ignore[no-untyped-def]
    import resource

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def _available_bytes() -> float:
    """MemAvailable of /proc/meminfo (Linux), or infinity elsewhere."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except OSError:
        pass
    return float("inf")


# ----------------------------------------------------------------------------- data
def dataset(folder: Path, customers: int, suffix: str, seed: int = 1) -> Path:
    """A generated log of ``customers`` customers (cached)."""
    from segmint.datasets import write_transactions

    path = folder / f"log-{customers}-{seed}.{suffix}"
    if not path.is_file():
        print(f"  generating {path.name} ...", flush=True)
        tmp = path.with_suffix(f".tmp.{suffix}")
        write_transactions(tmp, customers, seed=seed)
        tmp.replace(path)
    return path


def check_same_numbers(folder: Path) -> int:
    """segmint and the pandas baseline agree on every feature of a small log."""
    import numpy as np

    sys.path.insert(0, str(HERE))
    from pandas_features import pandas_features, read_log

    from segmint.featurize import log_features

    path = dataset(folder, 3000, "csv", seed=4)
    seg = log_features(path, today=TODAY).result
    table = seg.with_quality().set_index("customer_id")
    ref = pandas_features(read_log(str(path)), today=TODAY)
    ref.index = ref.index.astype(str)
    ref = ref.loc[table.index]
    compared = 0
    for column in table.columns:
        if column == "quality_reasons":
            continue
        a, b = table[column].astype(float).to_numpy(), ref[column].astype(float).to_numpy()
        if not np.allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True):
            raise SystemExit(f"the pandas baseline disagrees with segmint on {column!r}")
        compared += 1
    return compared


def quality(customers: int = 4000, seed: int = 5) -> dict:
    """ARI of segmint's segments vs the planted archetypes, from RFM alone and from the
    default features.  The features are compared with the algorithm held fixed (k-means,
    the foundation's); the pipeline's own choice of algorithm, when it makes one, is
    recorded too."""
    import inspect
    from dataclasses import replace

    from sklearn.metrics import adjusted_rand_score

    from segmint.datasets import make_transactions
    from segmint.features import FeatureSpec
    from segmint.pipeline import segment

    log, truth = make_transactions(customers, seed=seed, return_truth=True)
    archetype = truth.set_index("CustomerID")["archetype"]
    spec = FeatureSpec(
        customer="CustomerID", time="InvoiceDate", order="InvoiceNo", quantity="Quantity",
        price="UnitPrice", product="StockCode", category="Category", channel="Channel",
        discount="Discount",
    )  # fmt: skip
    choose = "algorithm" in inspect.signature(segment).parameters
    runs: list[tuple[int | str, str]] = [(6, "kmeans"), ("auto", "kmeans")]
    if choose:
        runs.append(("auto", "auto"))
    out = {}
    for name, chosen in (
        ("rfm_only", replace(spec, families=("rfm",))),
        ("default_features", spec),
    ):
        for k, algorithm in runs:
            extra = {"algorithm": algorithm} if choose else {}
            result = segment(log, k=k, random_state=0, spec=chosen, source="generator", **extra)
            labels = result.assignments.set_index("customer_id")["segment"]
            key = f"{name}_k{k}" + ("" if algorithm == "kmeans" else f"_{algorithm}")
            out[key] = {
                "ari": round(float(adjusted_rand_score(archetype[labels.index], labels)), 4),
                "k": int(result.model.k),
                "algorithm": str(result.summary.get("algorithm", "kmeans")),
                "features": list(result.summary["features"]),
            }
    return out


# ----------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data-dir",
        default=os.environ.get(
            "SEGMINT_BENCH_DATA", str(Path(tempfile.gettempdir()) / "segmint-bench")
        ),
    )
    parser.add_argument(
        "--small", type=int, default=10_000_000, help="lines of the speed comparison"
    )
    parser.add_argument("--large", type=int, default=50_000_000, help="lines of the memory run")
    args = parser.parse_args()
    folder = Path(args.data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    small_customers = round(args.small / ROWS_PER_CUSTOMER)
    large_customers = round(args.large / ROWS_PER_CUSTOMER)
    load = os.getloadavg()
    print(
        f"bench_features: {os.cpu_count()} cores, load average {load[0]:.1f} at start "
        "(a shared machine is noisy)"
    )
    report: dict = {
        "cores": os.cpu_count(),
        "load_average_at_start": load,
        "started": dt.datetime.now().isoformat(),
    }

    print("checking that segmint and the pandas baseline agree ...", flush=True)
    report["columns_checked_equal"] = check_same_numbers(folder)

    print(f"speed: ~{args.small:,}-line CSV ...", flush=True)
    csv_small = dataset(folder, small_customers, "csv")
    seg_csv = measure("segmint", csv_small)
    # The pandas baseline needs about 1.7 GB per million lines: run it only when the
    # machine has the memory free (a shared machine must not be driven into swap / OOM).
    need = 1.8 * GiB * args.small / 1_000_000
    if _available_bytes() < need:
        raise SystemExit(
            f"not enough free memory for the pandas baseline at {args.small:,} lines "
            f"({_available_bytes() / GiB:.1f} GiB free, {need / GiB:.1f} GiB needed); "
            "use --small with fewer lines"
        )
    pandas_csv = measure("pandas", csv_small)
    report["speed_csv"] = {"segmint": seg_csv, "pandas": pandas_csv}

    print("scaling and memory: Parquet ...", flush=True)
    pq_small = dataset(folder, small_customers, "parquet")
    pq_large = dataset(folder, large_customers, "parquet", seed=2)
    seg_small = measure("segmint", pq_small)
    seg_small_1gb = measure("segmint", pq_small, memory_limit="1GB")
    seg_large = measure("segmint", pq_large)
    report["parquet"] = {
        "segmint_small": seg_small,
        "segmint_small_1gb": seg_small_1gb,
        "segmint_large": seg_large,
    }

    print("pandas baseline memory at smaller sizes ...", flush=True)
    points = []
    for lines, seed in ((1_000_000, 3), (5_000_000, 3)):
        path = dataset(folder, round(lines / ROWS_PER_CUSTOMER), "parquet", seed=seed)
        points.append(measure("pandas", path))
    report["pandas_memory"] = points
    import numpy as np

    rows = np.array([p["rows"] for p in points], dtype=float)
    peaks = np.array([p["peak_bytes"] for p in points], dtype=float)
    slope, intercept = np.polyfit(rows, peaks, 1)
    projected = slope * seg_large["rows"] + intercept
    report["pandas_projected_peak_bytes_at_large"] = projected

    print("quality on the generator ...", flush=True)
    report["quality"] = quality()

    speedup = pandas_csv["wall_seconds"] / seg_csv["wall_seconds"]
    per_row_small = seg_small_1gb["wall_seconds"] / seg_small_1gb["rows"]
    per_row_large = seg_large["wall_seconds"] / seg_large["rows"]
    scaling = per_row_large / per_row_small
    scaling_default = per_row_large / (seg_small["wall_seconds"] / seg_small["rows"])
    q = report["quality"]
    checks = {
        "speedup_vs_pandas_csv": (speedup, ">= 5", speedup >= 5),
        "peak_gib_large_parquet": (
            seg_large["peak_bytes"] / GiB,
            "<= 2",
            seg_large["peak_bytes"] <= 2 * GiB,
        ),
        "pandas_projected_gib_large": (projected / GiB, "> 24 (cannot run)", projected > 24 * GiB),
        "time_per_row_large_over_small": (scaling, "<= 1.3", scaling <= 1.3),
        "time_per_row_large_over_small_default_settings": (scaling_default, "(information)", True),
        "ari_default_features_k6": (
            q["default_features_k6"]["ari"],
            ">= 0.8",
            q["default_features_k6"]["ari"] >= 0.8,
        ),
        "ari_rfm_only_k6": (q["rfm_only_k6"]["ari"], "(baseline)", True),
    }
    report["checks"] = {
        k: {"value": v, "target": t, "met": bool(ok)} for k, (v, t, ok) in checks.items()
    }
    report["load_average_at_end"] = os.getloadavg()

    print()
    print(f"{'measurement':44} {'value':>14}  target")
    rows_out = [
        (
            f"segmint, {seg_csv['rows']:,}-line CSV",
            f"{seg_csv['wall_seconds']:.1f} s",
            f"work database in {seg_csv['work'].get('work_database')}",
        ),
        (
            "pandas baseline, same CSV",
            f"{pandas_csv['wall_seconds']:.1f} s",
            f"peak {pandas_csv['peak_bytes'] / GiB:.1f} GiB",
        ),
        ("speed-up", f"{speedup:.1f}x", ">= 5x"),
        (
            f"segmint, {seg_small['rows']:,}-line Parquet",
            f"{seg_small['wall_seconds']:.1f} s",
            f"peak {seg_small['peak_bytes'] / GiB:.2f} GiB, "
            f"in {seg_small['work'].get('work_database')}",
        ),
        (
            "  the same with --memory-limit 1GB",
            f"{seg_small_1gb['wall_seconds']:.1f} s",
            f"peak {seg_small_1gb['peak_bytes'] / GiB:.2f} GiB, "
            f"in {seg_small_1gb['work'].get('work_database')}",
        ),
        (
            f"segmint, {seg_large['rows']:,}-line Parquet",
            f"{seg_large['wall_seconds']:.1f} s",
            f"in {seg_large['work'].get('work_database')}, limit "
            f"{seg_large['work'].get('memory_limit')}",
        ),
        ("peak memory at the large size", f"{seg_large['peak_bytes'] / GiB:.2f} GiB", "<= 2 GiB"),
        ("time per line, large / small (both 1GB)", f"{scaling:.2f}", "<= 1.3"),
        ("time per line, large / small (defaults)", f"{scaling_default:.2f}", "small in memory"),
    ]
    for p in points:
        rows_out.append(
            (f"pandas peak, {p['rows']:,} Parquet lines", f"{p['peak_bytes'] / GiB:.2f} GiB", "")
        )
    rows_out.append(
        (
            f"pandas projected at {seg_large['rows']:,}",
            f"{projected / GiB:.1f} GiB",
            "> 24 GiB: cannot run",
        )
    )
    rows_out.append(("ARI, RFM alone (k = 6)", f"{q['rfm_only_k6']['ari']:.3f}", "baseline"))
    rows_out.append(
        (
            "ARI, default features (k = 6)",
            f"{q['default_features_k6']['ari']:.3f}",
            ">= 0.8, above RFM",
        )
    )
    rows_out.append(
        (
            f"ARI, RFM alone (k auto = {q['rfm_only_kauto']['k']})",
            f"{q['rfm_only_kauto']['ari']:.3f}",
            "",
        )
    )
    rows_out.append(
        (
            f"ARI, default features (k auto = {q['default_features_kauto']['k']})",
            f"{q['default_features_kauto']['ari']:.3f}",
            "",
        )
    )
    for key in ("rfm_only_kauto_auto", "default_features_kauto_auto"):
        if key in q:
            label = "RFM alone" if key.startswith("rfm") else "default features"
            algorithm = f"{q[key]['algorithm']}, k = {q[key]['k']}"
            rows_out.append((f"ARI, {label} (pipeline: {algorithm})", f"{q[key]['ari']:.3f}", ""))
    for name, value, target in rows_out:
        print(f"{name:44} {value:>14}  {target}")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    target = results / f"bench_features-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    target.write_text(json.dumps(report, indent=2, default=float) + "\n", encoding="utf-8")
    print(f"\nresults: {target}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        _worker(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        main()
