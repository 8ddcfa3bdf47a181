"""Benchmark of choosing k and the algorithm: simulations, a benchmark suite, speed.

Run with ``make bench-selection`` (or ``python benchmarks/bench_selection.py``); parts can
be chosen with ``--parts tibshirani,suite,speed``. Every baseline is measured in the same
run. Results go to ``benchmarks/results/bench_selection-<time>.json``.

* **tibshirani** -- the five simulation settings of Tibshirani, Walther & Hastie (2001),
  section 6, ``--realisations`` (50) each: how often segmint's default
  (``Segmenter(prepare=False)``: k and algorithm automatic) finds the true k, side by side
  with argmax silhouette, argmax Calinski-Harabasz and argmin Davies-Bouldin over
  k = 2..10 (scikit-learn ``KMeans``, 10 starts). The realisations are drawn with seed
  2001; segmint's rule was developed on other draws (seed 1000) of the same settings.
* **suite** -- Gagolewski's benchmark suite v1, batteries wut, fcps and sipu (51 data sets,
  ``--suite-dir``), on the raw coordinates. With the reference k given: normalised
  clustering accuracy (NCA) and adjusted Rand index (ARI) of segmint's default algorithm,
  noise points excluded, the best over a data set's reference labellings (Gagolewski's
  convention), beside k-means (10 starts), Ward, Gaussian mixture and Genie computed here.
  With k automatic: the share of data sets where a reference k is picked, beside the
  three peers above.
* **speed** -- 1,000,000 customers x 8 features (six planted segments): segmint's
  automatic selection and fit (k in 1..10, algorithm comparison and stability included,
  every customer labelled) against the common recipe (``KMeans(n_init=10)`` for k = 2..10
  plus ``silhouette_score(sample_size=10_000)``) and one ``KMeans(k=8, n_init=1)`` on all
  data; then the k chosen with the selection on larger samples and on all customers.

The machine's core count is recorded; timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
SETTINGS = {"a": 1, "b": 3, "c": 4, "d": 4, "e": 2}
CLUSGAP_QUOTED = {"a": 50, "b": 50, "c": 41, "d": 49, "e": 50}  # from the issue, R cluster::clusGap
PUBLISHED_MEDIANS = {"kmeans": 0.84, "ward": 0.83, "gmm": 0.93, "genie": 0.96, "genie+ic": 0.97}
BATTERIES = ("wut", "fcps", "sipu")
TIBSHIRANI_SEED = 2001


# ----------------------------------------------------------------------------- scores
def nca(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Normalised clustering accuracy (Gagolewski 2025): the mean over reference clusters of
    the share of their points in the matched predicted cluster, rescaled so that 0 is what a
    trivial labelling gets and 1 is perfect; the matching maximises it (Hungarian method)."""
    classes, y = np.unique(truth, return_inverse=True)
    found, p = np.unique(predicted, return_inverse=True)
    k = len(classes)
    if k < 2:
        return 1.0
    table = np.zeros((k, max(k, len(found))))
    np.add.at(table, (y, p), 1)
    recall = table / table.sum(axis=1, keepdims=True)
    rows, cols = linear_sum_assignment(-recall)
    return float((recall[rows, cols].mean() - 1 / k) / (1 - 1 / k))


# ----------------------------------------------------------------------------- Tibshirani
def tibshirani_setting(name: str, rng: np.random.Generator) -> np.ndarray:
    """One realisation of a setting of Tibshirani et al. (2001), section 6."""
    if name == "a":
        return rng.uniform(size=(200, 10))
    if name == "b":
        sizes, centres = [25, 50, 25], np.array([[0, 0], [0, 5], [5, -3]])
        return np.vstack([rng.normal(size=(m, 2)) + c for m, c in zip(sizes, centres, strict=True)])
    if name in "cd":
        d, variance = (3, 5.0) if name == "c" else (10, 3.6)
        while True:
            sizes = rng.choice([25, 50], size=4)
            centres = rng.normal(scale=np.sqrt(variance), size=(4, d))
            parts = [rng.normal(size=(m, d)) + c for m, c in zip(sizes, centres, strict=True)]
            # redrawn when two points of different clusters lie closer than 1.0
            if all(
                cdist(parts[i], parts[j]).min() >= 1.0 for i in range(4) for j in range(i + 1, 4)
            ):
                return np.vstack(parts)
    t = np.linspace(-0.5, 0.5, 100)
    line = np.column_stack([t, t, t])
    return np.vstack(
        [
            line + rng.normal(scale=0.1, size=(100, 3)),
            line + rng.normal(scale=0.1, size=(100, 3)) + 10,
        ]
    )


def peer_choices(X: np.ndarray, seed: int) -> dict[str, int]:
    """argmax silhouette, argmax Calinski-Harabasz, argmin Davies-Bouldin over k = 2..10.

    On one thread, as segmint's selection runs: OpenMP threads on a few hundred points
    only wait for each other, badly so on a busy machine.
    """
    sil, ch, db = {}, {}, {}
    for k in range(2, 11):
        with threadpool_limits(1):
            labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(X)
        sil[k] = silhouette_score(X, labels)
        ch[k] = calinski_harabasz_score(X, labels)
        db[k] = davies_bouldin_score(X, labels)
    return {
        "silhouette": max(sil, key=sil.__getitem__),
        "calinski_harabasz": max(ch, key=ch.__getitem__),
        "davies_bouldin": min(db, key=db.__getitem__),
    }


def run_tibshirani(realisations: int) -> dict[str, Any]:
    from segmint import Segmenter

    methods = ("segmint", "silhouette", "calinski_harabasz", "davies_bouldin")
    table: dict[str, dict[str, int]] = {m: {} for m in methods}
    picks: dict[str, list[int]] = {}
    seconds = 0.0
    for name, true_k in SETTINGS.items():
        rng = np.random.default_rng(TIBSHIRANI_SEED)
        hits = dict.fromkeys(methods, 0)
        picks[name] = []
        for r in range(realisations):
            X = tibshirani_setting(name, rng)
            t0 = time.perf_counter()
            k = Segmenter(random_state=r, prepare=False).fit(X).k_
            seconds += time.perf_counter() - t0
            picks[name].append(int(k))
            hits["segmint"] += k == true_k
            for method, chosen in peer_choices(X, r).items():
                hits[method] += chosen == true_k
        for method in methods:
            table[method][name] = hits[method]
        print(f"  setting {name}: " + ", ".join(f"{m} {hits[m]}" for m in methods), flush=True)
    totals = {m: sum(table[m].values()) for m in methods}
    return {
        "realisations": realisations,
        "seed": TIBSHIRANI_SEED,
        "hits": table,
        "totals": totals,
        "segmint_picks": {
            name: np.bincount(p, minlength=11)[1:].tolist() for name, p in picks.items()
        },
        "clusgap_quoted": CLUSGAP_QUOTED,
        "segmint_seconds_per_fit": round(seconds / (realisations * len(SETTINGS)), 3),
        "targets": {
            "each_setting_at_least_45": all(v >= 45 for v in table["segmint"].values()),
            "total_above_240": totals["segmint"] > 240,
        },
    }


# ----------------------------------------------------------------------------- suite
def suite_datasets(root: Path) -> list[tuple[str, str, np.ndarray, list[np.ndarray]]]:
    out = []
    for battery in BATTERIES:
        for data in sorted((root / battery).glob("*.data.gz")):
            name = data.name[: -len(".data.gz")]
            with gzip.open(data, "rt") as handle:
                X = np.loadtxt(handle, ndmin=2)
            labellings = []
            for path in sorted((root / battery).glob(f"{name}.labels*.gz")):
                with gzip.open(path, "rt") as handle:
                    labellings.append(np.loadtxt(handle, dtype=int))
            out.append((battery, name, X, labellings))
    return out


def _reference_ks(labellings: list[np.ndarray]) -> list[int]:
    return sorted({len(np.unique(y[y > 0])) for y in labellings})


def _best(labellings: list[np.ndarray], predict: Any) -> tuple[float, float]:
    """Best NCA and ARI over the reference labellings (noise points, label 0, excluded)."""
    best_nca = best_ari = -1.0
    for y in labellings:
        k = len(np.unique(y[y > 0]))
        labels = predict(k)
        keep = y > 0
        best_nca = max(best_nca, nca(y[keep], labels[keep]))
        best_ari = max(best_ari, adjusted_rand_score(y[keep], labels[keep]))
    return best_nca, best_ari


def run_suite(root: Path) -> dict[str, Any]:
    import genieclust

    from segmint.model import fit_segmentation

    datasets = suite_datasets(root)
    rows = []
    for battery, name, X, labellings in datasets:
        t0 = time.perf_counter()
        chosen_algorithms: list[str] = []

        def segmint_given(
            k: int, X: np.ndarray = X, used: list[str] = chosen_algorithms
        ) -> np.ndarray:
            result = fit_segmentation(X, k, random_state=0)
            used.append(result.algorithm)
            return result.labels

        row: dict[str, Any] = {"battery": battery, "dataset": name, "n": len(X), "d": X.shape[1]}
        row["segmint_nca"], row["segmint_ari"] = _best(labellings, segmint_given)
        row["segmint_algorithms"] = chosen_algorithms
        row["segmint_seconds"] = round(time.perf_counter() - t0, 2)
        big: bool = len(X) > 20_000  # Ward and GMM baselines on all points would take too long
        baselines = {
            "kmeans": lambda k, X=X: KMeans(k, n_init=10, random_state=0).fit_predict(X),
            "ward": lambda k, X=X: AgglomerativeClustering(k).fit_predict(X),
            "gmm": lambda k, X=X: GaussianMixture(k, random_state=0).fit(X).predict(X),
            "genie": lambda k, X=X: genieclust.Genie(n_clusters=k).fit_predict(
                np.ascontiguousarray(X)
            ),
        }
        for method, predict in baselines.items():
            if big and method in ("ward", "gmm"):
                row[f"{method}_nca"] = row[f"{method}_ari"] = None
                continue
            row[f"{method}_nca"], row[f"{method}_ari"] = _best(labellings, predict)
        # k chosen automatically
        t0 = time.perf_counter()
        auto = fit_segmentation(X, "auto", random_state=0)
        row["auto_seconds"] = round(time.perf_counter() - t0, 2)
        reference = _reference_ks(labellings)
        row["reference_k"] = reference
        row["segmint_k"] = auto.fitted.k
        row["segmint_auto_algorithm"] = auto.algorithm
        row["segmint_auto_nca"] = max(nca(y[y > 0], auto.labels[y > 0]) for y in labellings)
        sample = np.random.default_rng(0).choice(len(X), size=min(len(X), 10_000), replace=False)
        peers = peer_choices(X[sample], 0)
        row.update({f"{m}_k": k for m, k in peers.items()})
        rows.append(row)
        print(
            f"  {battery}/{name}: NCA segmint {row['segmint_nca']:.3f} "
            f"({','.join(chosen_algorithms)}), "
            f"genie {row['genie_nca']:.3f}, kmeans {row['kmeans_nca']:.3f}; "
            f"k auto {row['segmint_k']} (reference {reference})",
            flush=True,
        )

    def median(key: str) -> float | None:
        values = [r[key] for r in rows if r[key] is not None]
        return round(float(np.median(values)), 4) if values else None

    def share(key: str) -> dict[str, Any]:
        hits = sum(r[key] in r["reference_k"] for r in rows)
        return {"hits": hits, "of": len(rows), "share": round(hits / len(rows), 4)}

    reachable = [r for r in rows if min(r["reference_k"]) <= 10]
    return {
        "datasets": len(rows),
        "rows": rows,
        "k_given": {
            "median_nca": {
                m: median(f"{m}_nca") for m in ("segmint", "kmeans", "ward", "gmm", "genie")
            },
            "median_ari": {
                m: median(f"{m}_ari") for m in ("segmint", "kmeans", "ward", "gmm", "genie")
            },
            "ward_gmm_on": "data sets of at most 20,000 points",
            "published_medians_nca": PUBLISHED_MEDIANS,
            "target_median_nca_at_least_0.95": (median("segmint_nca") or 0) >= 0.95,
        },
        "k_auto": {
            "reference_k_picked": {
                m: share(f"{m}_k")
                for m in ("segmint", "silhouette", "calinski_harabasz", "davies_bouldin")
            },
            "reachable_in_1_10": len(reachable),
            "segmint_median_nca": median("segmint_auto_nca"),
        },
    }


# ----------------------------------------------------------------------------- speed
def speed_data(n: int = 1_000_000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Six planted segments of unequal size and spread in 8 features, plus 2% background
    (label -1); returns the matrix and the planted labels."""
    rng = np.random.default_rng(seed)
    shares = np.array([0.30, 0.22, 0.18, 0.14, 0.10, 0.06])
    centres = rng.uniform(-6, 6, size=(6, 8))
    spread = np.array([1.0, 0.8, 1.2, 0.9, 0.7, 1.1])
    core = int(n * 0.98)
    sizes = np.floor(shares * core).astype(int)
    sizes[0] += core - sizes.sum()
    parts = [
        rng.normal(size=(m, 8)) * s + c for m, s, c in zip(sizes, spread, centres, strict=True)
    ]
    parts.append(rng.uniform(-9, 9, size=(n - core, 8)))
    truth = np.concatenate([np.repeat(np.arange(6), sizes), np.full(n - core, -1)])
    order = rng.permutation(n)
    return np.vstack(parts)[order], truth[order]


def run_speed(n: int) -> dict[str, Any]:
    import genieclust  # noqa: F401  (imports are outside every timing, as for scikit-learn)

    import segmint.selection as selection
    from segmint.model import fit_segmentation

    X, truth = speed_data(n)
    t0 = time.perf_counter()
    KMeans(n_clusters=8, n_init=1, random_state=0).fit(X)
    single_seconds = time.perf_counter() - t0
    print(f"  one KMeans(k=8, n_init=1): {single_seconds:.2f} s", flush=True)

    t0 = time.perf_counter()
    result = fit_segmentation(X, "auto", random_state=0)
    segmint_seconds = time.perf_counter() - t0
    print(
        f"  segmint auto (k {result.fitted.k}, {result.algorithm}): {segmint_seconds:.2f} s",
        flush=True,
    )

    t0 = time.perf_counter()
    recipe_sil = {}
    for k in range(2, 11):
        labels = KMeans(n_clusters=k, n_init=10, random_state=0).fit_predict(X)
        recipe_sil[k] = float(silhouette_score(X, labels, sample_size=10_000, random_state=0))
    recipe_seconds = time.perf_counter() - t0
    recipe_k = max(recipe_sil, key=recipe_sil.__getitem__)
    print(f"  common recipe (k {recipe_k}): {recipe_seconds:.2f} s", flush=True)

    planted = truth >= 0
    truth_ari = round(float(adjusted_rand_score(truth[planted], result.labels[planted])), 4)
    # k chosen with the selection on other seeds, larger samples and all customers
    sample_runs = []
    defaults = (selection.SELECTION_SAMPLE, selection.GAP_SAMPLE)
    try:
        for label, sel_sample, gap_sample, seed in (
            ("default sample, seed 1", defaults[0], defaults[1], 1),
            ("default sample, seed 2", defaults[0], defaults[1], 2),
            ("100,000 customers", 100_000, 20_000, 0),
            ("all customers (gap on 100,000)", n, 100_000, 0),
        ):
            selection.SELECTION_SAMPLE, selection.GAP_SAMPLE = sel_sample, gap_sample
            t0 = time.perf_counter()
            chosen = selection.choose_k(X, random_state=seed)
            sample_runs.append(
                {"selection": label, "k": chosen.k, "seconds": round(time.perf_counter() - t0, 2)}
            )
            print(
                f"  selection on {label}: k = {chosen.k} ({sample_runs[-1]['seconds']} s)",
                flush=True,
            )
    finally:
        selection.SELECTION_SAMPLE, selection.GAP_SAMPLE = defaults
    stability = result.stability.to_dict() if result.stability else None
    return {
        "customers": n,
        "features": 8,
        "planted_segments": 6,
        "segmint_seconds": round(segmint_seconds, 2),
        "segmint_k": result.fitted.k,
        "segmint_algorithm": result.algorithm,
        "segmint_stability": stability,
        "recipe_seconds": round(recipe_seconds, 2),
        "recipe_k": recipe_k,
        "single_kmeans_seconds": round(single_seconds, 2),
        "speedup_vs_recipe": round(recipe_seconds / segmint_seconds, 2),
        "ratio_to_single_kmeans": round(segmint_seconds / single_seconds, 2),
        "k_by_selection_sample": [
            {"selection": "default sample, seed 0", "k": result.selection.k},
            *sample_runs,
        ],
        "truth_ari": truth_ari,
        "targets": {
            "at_least_10x_faster_than_recipe": recipe_seconds / segmint_seconds >= 10,
            "within_5x_of_single_kmeans": segmint_seconds / single_seconds <= 5,
            "k_unchanged_by_sampling": len({result.selection.k, *(r["k"] for r in sample_runs)})
            == 1,
        },
    }


# ----------------------------------------------------------------------------- main
def print_tables(results: dict[str, Any]) -> None:
    if "tibshirani" in results:
        t = results["tibshirani"]
        print(
            f"\nTibshirani et al. (2001) settings, {t['realisations']} realisations each "
            "(true k found):"
        )
        print(f"{'method':<28}" + "".join(f"{s:>6}" for s in SETTINGS) + f"{'total':>8}")
        for method, hits in t["hits"].items():
            print(
                f"{method:<28}"
                + "".join(f"{hits[s]:>6}" for s in SETTINGS)
                + f"{t['totals'][method]:>8}"
            )
        quoted = t["clusgap_quoted"]
        print(
            f"{'clusGap (quoted, not run)':<28}"
            + "".join(f"{quoted[s]:>6}" for s in SETTINGS)
            + f"{sum(quoted.values()):>8}"
        )
    if "suite" in results:
        s = results["suite"]
        print(f"\nBenchmark suite ({s['datasets']} data sets), k given: median NCA / ARI")
        for method, value in s["k_given"]["median_nca"].items():
            print(f"  {method:<10} {value}  /  {s['k_given']['median_ari'][method]}")
        print(f"  published medians (NCA): {s['k_given']['published_medians_nca']}")
        print("k automatic: reference k picked")
        for method, value in s["k_auto"]["reference_k_picked"].items():
            print(f"  {method:<18} {value['hits']}/{value['of']} ({value['share']:.0%})")
        print(f"  data sets whose reference k is in 1..10: {s['k_auto']['reachable_in_1_10']}")
    if "speed" in results:
        p = results["speed"]
        print(f"\nSpeed on {p['customers']:,} x {p['features']}:")
        print(
            f"  segmint auto {p['segmint_seconds']} s (k {p['segmint_k']}), "
            f"recipe {p['recipe_seconds']} s "
            f"(k {p['recipe_k']}), one KMeans {p['single_kmeans_seconds']} s"
        )
        print(
            f"  {p['speedup_vs_recipe']}x faster than the recipe; "
            f"{p['ratio_to_single_kmeans']}x one KMeans"
        )
        print(f"  adjusted Rand index with the planted segments: {p['truth_ari']}")
        print(
            "  k by selection sample: "
            f"{[(r['selection'], r['k']) for r in p['k_by_selection_sample']]}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default="tibshirani,suite,speed")
    parser.add_argument("--realisations", type=int, default=50)
    parser.add_argument(
        "--suite-dir", default=str(HERE.parent.parent / "shared" / "data" / "clustering-benchmarks")
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    results: dict[str, Any] = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    if "tibshirani" in parts:
        print("Tibshirani settings", flush=True)
        results["tibshirani"] = run_tibshirani(args.realisations)
    if "suite" in parts:
        print("Benchmark suite", flush=True)
        results["suite"] = run_suite(Path(args.suite_dir))
    if "speed" in parts:
        print("Speed", flush=True)
        results["speed"] = run_speed(args.customers)
    print_tables(results)
    out = HERE / "results" / f"bench_selection-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
