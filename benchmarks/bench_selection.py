"""Benchmark of choosing k and the algorithm: simulations, a benchmark suite, speed.

Run with ``make bench-selection`` (or ``python benchmarks/bench_selection.py``); parts can
be chosen with ``--parts tibshirani,suite,speed``. Every baseline is measured in the same
run. Results go to ``benchmarks/results/bench_selection-<time>.json``.

* **tibshirani** -- the five simulation settings of Tibshirani, Walther & Hastie (2001),
  section 6 (a-e), and three larger ones drawn the same way as setting d (f: 6 clusters in
  10 dimensions, g: 8 in 25, h: 10 in 50), ``--realisations`` (50) each under each of
  ``--seeds`` (5 fresh seeds from the system's entropy, printed; or a comma list to redo a
  run): how often segmint's default (``Segmenter(prepare=False)``: k and algorithm
  automatic) finds the true k, side by side with argmax silhouette, argmax
  Calinski-Harabasz and argmin Davies-Bouldin over k = 2..10 (scikit-learn ``KMeans``, 10
  starts). The mean over the seeds is the figure; segmint's rule was developed on seed
  1000 of settings a-e.
* **noise** -- data with no segments at all, as a user gives it (``Segmenter()``,
  preparation included): 600 customers uniform in 2, 4 and 8 dimensions, and lognormal
  (skewed, one blob) in 3, each drawn ``--realisations`` times under one fresh seed
  (printed; the first of ``--seeds`` when a list is given): how often k = 1 comes out
  (target: at least 95%).
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
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.spatial.distance import cdist
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.datasets import make_blobs, make_circles, make_moons
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_score,
)
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

HERE = Path(__file__).resolve().parent
# settings a-e of the 2001 paper, then f-h: (clusters, dimensions) drawn as setting d is
LARGER = {"f": (6, 10), "g": (8, 25), "h": (10, 50)}
SETTINGS = {"a": 1, "b": 3, "c": 4, "d": 4, "e": 2} | {s: k for s, (k, _) in LARGER.items()}
CLUSGAP_QUOTED = {"a": 50, "b": 50, "c": 41, "d": 49, "e": 50}  # from the issue, R cluster::clusGap
PUBLISHED_MEDIANS = {"kmeans": 0.84, "ward": 0.83, "gmm": 0.93, "genie": 0.96, "genie+ic": 0.97}
BATTERIES = ("wut", "fcps", "sipu")


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
def _separated_blobs(rng: np.random.Generator, k: int, d: int, variance: float) -> np.ndarray:
    """``k`` unit-variance blobs of 25 or 50 points in ``d`` dimensions, centres drawn from
    N(0, ``variance``); redrawn while two points of different blobs lie closer than 1.0
    (the rule of the 2001 paper's settings c and d)."""
    while True:
        sizes = rng.choice([25, 50], size=k)
        centres = rng.normal(scale=np.sqrt(variance), size=(k, d))
        parts = [rng.normal(size=(m, d)) + c for m, c in zip(sizes, centres, strict=True)]
        if all(cdist(parts[i], parts[j]).min() >= 1.0 for i in range(k) for j in range(i + 1, k)):
            return np.vstack(parts)


def tibshirani_setting(name: str, rng: np.random.Generator) -> np.ndarray:
    """One realisation of a setting of Tibshirani et al. (2001), section 6 (a-e), or of
    one of the larger settings f-h built the same way as d (more clusters, more dimensions)."""
    if name == "a":
        return rng.uniform(size=(200, 10))
    if name == "b":
        sizes, centres = [25, 50, 25], np.array([[0, 0], [0, 5], [5, -3]])
        return np.vstack([rng.normal(size=(m, 2)) + c for m, c in zip(sizes, centres, strict=True)])
    if name in LARGER:
        k, d = LARGER[name]
        return _separated_blobs(rng, k, d, 3.6)
    if name in "cd":
        d, variance = (3, 5.0) if name == "c" else (10, 3.6)
        return _separated_blobs(rng, 4, d, variance)
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


def fresh_seeds(count: int) -> list[int]:
    """``count`` seeds from the operating system's entropy, printed so a run can be redone."""
    return [int(s) for s in np.random.SeedSequence().generate_state(count)]


def run_tibshirani(realisations: int, seeds: list[int]) -> dict[str, Any]:
    """Each setting drawn ``realisations`` times under each seed; hits per seed and mean."""
    from segmint import Segmenter

    methods = ("segmint", "silhouette", "calinski_harabasz", "davies_bouldin")
    per_seed: dict[str, dict[str, list[int]]] = {m: {} for m in methods}
    picks: dict[str, list[int]] = {}
    seconds, fits = 0.0, 0
    for index, (name, true_k) in enumerate(SETTINGS.items()):
        picks[name] = []
        for m in methods:
            per_seed[m][name] = []
        for seed in seeds:
            rng = np.random.default_rng([seed, index])
            hits = dict.fromkeys(methods, 0)
            for r in range(realisations):
                X = tibshirani_setting(name, rng)
                t0 = time.perf_counter()
                k = Segmenter(random_state=r, prepare=False).fit(X).k_
                seconds += time.perf_counter() - t0
                fits += 1
                picks[name].append(int(k))
                hits["segmint"] += k == true_k
                for method, chosen in peer_choices(X, r).items():
                    hits[method] += chosen == true_k
            for m in methods:
                per_seed[m][name].append(hits[m])
        print(
            f"  setting {name} (k={true_k}): "
            + ", ".join(f"{m} {per_seed[m][name]}" for m in methods),
            flush=True,
        )
    mean = {m: {s: round(float(np.mean(v)), 1) for s, v in per_seed[m].items()} for m in methods}
    paper = [s for s in SETTINGS if s not in LARGER]
    return {
        "realisations": realisations,
        "seeds": seeds,
        "hits_per_seed": per_seed,
        "hits": mean,
        "totals": {m: round(sum(mean[m][s] for s in paper), 1) for m in methods},
        "segmint_picks": {
            name: np.bincount(p, minlength=12)[1:].tolist() for name, p in picks.items()
        },
        "clusgap_quoted": CLUSGAP_QUOTED,
        "segmint_seconds_per_fit": round(seconds / max(fits, 1), 3),
        "targets": {
            "each_setting_at_least_45_on_average": all(
                v >= 0.9 * realisations for v in mean["segmint"].values()
            ),
        },
    }


NOISE = {"uniform 2-D": ("uniform", 2), "uniform 4-D": ("uniform", 4),
         "uniform 8-D": ("uniform", 8), "lognormal 3-D": ("lognormal", 3)}  # fmt: skip


def run_noise(realisations: int, seed: int, n: int = 600) -> dict[str, Any]:
    """How often the default says "no distinct segments" on data that has none."""
    from segmint import Segmenter

    rows: dict[str, Any] = {}
    for index, (name, (kind, d)) in enumerate(NOISE.items()):
        rng = np.random.default_rng([seed, index])
        ks = []
        for r in range(realisations):
            X = rng.uniform(size=(n, d)) if kind == "uniform" else rng.lognormal(size=(n, d))
            ks.append(int(Segmenter(random_state=r).fit(X).k_))
        ones = ks.count(1)
        rows[name] = {"k_is_1": ones, "of": realisations, "ks": np.bincount(ks).tolist()}
        print(f"  {name}: k = 1 in {ones} of {realisations} (k counts {rows[name]['ks']})")
    return {
        "seed": seed,
        "customers": n,
        "rows": rows,
        "targets": {
            "k_is_1_in_95_percent": all(r["k_is_1"] >= 0.95 * r["of"] for r in rows.values())
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


def dataset_row(
    battery: str, name: str, X: np.ndarray, labellings: list[np.ndarray], *, k_auto: bool
) -> dict[str, Any]:
    """segmint's default as a user gets it (``Segmenter(k=k)``: preparation included) and
    the baselines on the raw data, k given; with ``k_auto`` also k chosen automatically."""
    import genieclust

    from segmint import Segmenter
    from segmint.model import fit_segmentation

    t0 = time.perf_counter()
    chosen: list[str] = []
    geometry: list[str] = []

    def segmint_given(k: int) -> np.ndarray:
        model = Segmenter(k=k, random_state=0).fit(X)
        chosen.append(model.algorithm_)
        if model.preparation_ is not None:
            geometry.append(str(model.preparation_.decisions[0]["action"]))
        return np.asarray(model.labels_)

    row: dict[str, Any] = {"battery": battery, "dataset": name, "n": len(X), "d": X.shape[1]}
    row["segmint_nca"], row["segmint_ari"] = _best(labellings, segmint_given)
    row["segmint_algorithms"] = chosen
    row["segmint_geometry"] = sorted(set(geometry))
    row["segmint_seconds"] = round(time.perf_counter() - t0, 2)
    big: bool = len(X) > 20_000  # Ward and GMM baselines on all points would take too long
    baselines = {
        "kmeans": lambda k: KMeans(k, n_init=10, random_state=0).fit_predict(X),
        "ward": lambda k: AgglomerativeClustering(k).fit_predict(X),
        "gmm": lambda k: GaussianMixture(k, n_init=3, random_state=0).fit(X).predict(X),
        "genie": lambda k: genieclust.Genie(n_clusters=k).fit_predict(np.ascontiguousarray(X)),
    }
    for method, predict in baselines.items():
        if big and method in ("ward", "gmm"):
            row[f"{method}_nca"] = row[f"{method}_ari"] = None
            continue
        row[f"{method}_nca"], row[f"{method}_ari"] = _best(labellings, predict)
    row["figures"] = candidate_figures(X, labellings)
    if k_auto:
        t0 = time.perf_counter()
        auto = fit_segmentation(X, "auto", random_state=0)
        row["auto_seconds"] = round(time.perf_counter() - t0, 2)
        row["reference_k"] = _reference_ks(labellings)
        row["segmint_k"] = auto.fitted.k
        row["segmint_auto_algorithm"] = auto.algorithm
        row["segmint_auto_nca"] = max(nca(y[y > 0], auto.labels[y > 0]) for y in labellings)
        sample = np.random.default_rng(0).choice(len(X), size=min(len(X), 10_000), replace=False)
        row.update({f"{m}_k": k for m, k in peer_choices(X[sample], 0).items()})
    return row


def _rows(
    datasets: list[tuple[str, str, np.ndarray, list[np.ndarray]]],
    cache: Path | None,
    *,
    k_auto: bool,
) -> list[dict[str, Any]]:
    """One row per data set; with ``cache``, rows already computed are read back."""
    rows = []
    for battery, name, X, labellings in datasets:
        path = None if cache is None else cache / f"{battery}__{name}__{int(k_auto)}.json"
        if path is not None and path.exists():
            row = json.loads(path.read_text(encoding="utf-8"))
        else:
            row = dataset_row(battery, name, X, labellings, k_auto=k_auto)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(row, default=float), encoding="utf-8")
        rows.append(row)
        print(
            f"  {battery}/{name}: NCA segmint {row['segmint_nca']:.3f} "
            f"({','.join(row['segmint_algorithms'])}; {','.join(row['segmint_geometry'])}), "
            f"genie {row['genie_nca']:.3f}, kmeans {row['kmeans_nca']:.3f}",
            flush=True,
        )
    return rows


def run_generated(cache: Path | None) -> dict[str, Any]:
    """The default and the baselines on generated shapes none of the rules was tuned on."""
    rows = _rows(generated_datasets(), cache, k_auto=False)
    methods = ("segmint", "genie", "gmm", "kmeans", "ward")
    return {
        "datasets": len(rows),
        "rows": rows,
        "median_nca": {
            m: round(float(np.median([r[f"{m}_nca"] for r in rows])), 4) for m in methods
        },
        "mean_nca": {m: round(float(np.mean([r[f"{m}_nca"] for r in rows])), 4) for m in methods},
    }


def run_suite(root: Path, cache: Path | None, generated: list[dict[str, Any]]) -> dict[str, Any]:
    rows = _rows(suite_datasets(root), cache, k_auto=True)

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
            "per_battery": {
                b: {
                    m: round(
                        float(
                            np.median(
                                [
                                    r[f"{m}_nca"]
                                    for r in rows
                                    if r["battery"] == b and r[f"{m}_nca"] is not None
                                ]
                            )
                        ),
                        4,
                    )
                    for m in ("segmint", "genie", "gmm", "kmeans")
                }
                for b in BATTERIES
            },
        },
        "held_out": held_out(rows, generated),
        "k_auto": {
            "reference_k_picked": {
                m: share(f"{m}_k")
                for m in ("segmint", "silhouette", "calinski_harabasz", "davies_bouldin")
            },
            "reachable_in_1_10": len(reachable),
            "segmint_median_nca": median("segmint_auto_nca"),
        },
    }


# ----------------------------------------------------------------------------- rules, held out
# Every rule that chooses (the scale geometry of the preparation, the family preference and
# margin of ``auto``) is measured on data it was not tuned on: per data set the figures of
# every candidate are computed once under both geometries, the rule's parameters are chosen
# on two batteries and its median NCA is reported on the third (leave-one-battery-out).
GEOMETRY_RATIOS = (50.0, 20.0, 10.0, 5.0, 2.0, 0.0)  # SCALE_RATIO grid (0: always standardise)
ORDERS = {
    "kmeans-first": ("kmeans", "gmm", "ward", "genie"),
    "genie-first": ("genie", "kmeans", "gmm", "ward"),
}
MARGINS = (1.0, 0.5, 0.2, 0.1, 0.05, 0.0)


def generated_datasets(seed: int = 7) -> list[tuple[str, str, np.ndarray, list[np.ndarray]]]:
    """(family, name, X, [labels 1..k, 0 = noise]) of shapes the rules never saw."""
    rng = np.random.default_rng(seed)
    out = []

    def blobs(n: Any, centers: Any, d: int, std: Any, box: tuple[float, float]) -> Any:
        return make_blobs(
            n_samples=n, centers=centers, n_features=d, cluster_std=std, center_box=box,
            random_state=int(rng.integers(1e6)),
        )  # fmt: skip

    def add(family: str, name: str, X: np.ndarray, y: np.ndarray) -> None:
        out.append((family, name, np.asarray(X, float), [np.asarray(y, int)]))

    for d in (2, 5, 10, 20):
        for k in (3, 6):
            X, y = blobs(900, k, d, rng.uniform(0.8, 1.6, k), (-8, 8))
            add("blobs", f"blobs_d{d}_k{k}", X, y + 1)
    for k in (3, 5):  # imbalance: shares 1 : 4 : 16 ...
        sizes = (60 * 3.0 ** np.arange(k) / 3.0 ** (k - 1) * 20).astype(int) + 20
        X, y = make_blobs(
            n_samples=sizes,
            n_features=3,
            cluster_std=1.0,
            center_box=(-10, 10),
            random_state=int(rng.integers(1e6)),
        )
        add("imbalanced", f"imbalanced_k{k}", X, y + 1)
    for share in (0.05, 0.15):  # uniform background noise, label 0
        X, y = blobs(800, 4, 2, 0.8, (-8, 8))
        m = int(share * 800)
        noise = rng.uniform(X.min(0) - 2, X.max(0) + 2, size=(m, 2))
        add(
            "noise",
            f"noise_{int(share * 100)}",
            np.vstack([X, noise]),
            np.concatenate([y + 1, np.zeros(m)]),
        )
    for noise in (0.05, 0.1):
        X, y = make_moons(n_samples=800, noise=noise, random_state=int(rng.integers(1e6)))
        add("moons", f"moons_{noise}", X, y + 1)
        X, y = make_circles(
            n_samples=800, noise=noise / 2, factor=0.5, random_state=int(rng.integers(1e6))
        )
        add("nested", f"circles_{noise}", X, y + 1)
    for d in (2, 4):  # elongated: blobs sheared by a random linear map
        X, y = blobs(900, 4, d, 1.0, (-10, 10))
        A = rng.normal(size=(d, d))
        A[:, 0] *= 3
        add("elongated", f"anisotropic_d{d}", X @ A, y + 1)
    for d in (3, 6):  # mixed scales: one column in units 100 times larger, one 100 times smaller
        X, y = blobs(900, 4, d, 1.0, (-8, 8))
        X[:, 0] *= 100
        X[:, 1] /= 100
        add("mixed_scales", f"mixed_scales_d{d}", X + rng.uniform(0, 50, d), y + 1)
    for d in (2, 8, 32):  # two overlapping Gaussians of unequal size and spread
        for spread in (1.0, 2.0):
            a = rng.normal(size=(600, d))
            b = rng.normal(size=(300, d)) * spread
            b[:, 0] += 3.5 + spread
            add(
                "overlap",
                f"gauss2_d{d}_s{spread:g}",
                np.vstack([a, b]),
                np.repeat([1, 2], [600, 300]),
            )
    for d in (2, 6):  # densities differing tenfold
        sds = np.array([0.3, 1.0, 3.0])
        X, y = make_blobs(
            n_samples=[300, 300, 300],
            n_features=d,
            cluster_std=sds,
            centers=np.vstack(
                [np.zeros(d), np.r_[4, np.zeros(d - 1)], np.r_[0, 12, np.zeros(d - 2)]]
            ),
            random_state=int(rng.integers(1e6)),
        )
        add("densities", f"densities_d{d}", X, y + 1)
    for extra in (5, 20):  # clusters in 3 dimensions plus irrelevant noise columns
        X, y = blobs(900, 4, 3, 1.0, (-6, 6))
        add(
            "noise_dims",
            f"noise_dims_{extra}",
            np.hstack([X, rng.normal(scale=2.0, size=(900, extra))]),
            y + 1,
        )
    return out


def candidate_figures(X: np.ndarray, labellings: list[np.ndarray]) -> dict[str, Any]:
    """Per geometry and reference k: each candidate's DuNN-OWA, stability and NCA."""
    import pandas as pd

    import segmint.prepare as prepare
    from segmint.algorithms import FAMILIES, auto
    from segmint.algorithms.base import draw_sample
    from segmint.threads import single_thread

    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])])
    ratio_before = prepare.SCALE_RATIO
    try:
        prepare.SCALE_RATIO = 0.0  # the per-column standardisation path
        standardised, _ = prepare.fit_preparation(frame).transform(frame)
        prepare.SCALE_RATIO = float("inf")
        geometry_ok = prepare._one_scale(frame, [(c, "numeric") for c in frame.columns])[0]
    finally:
        prepare.SCALE_RATIO = ratio_before
    sd = X.std(axis=0)
    one_scale = (X - X.mean(axis=0)) / max(float(np.sqrt(np.mean(sd**2))), 1e-300)
    out: dict[str, Any] = {
        "geometry_ok": geometry_ok,
        "spread_ratio": float(sd.max() / max(sd.min(), 1e-300)),
        "modes": {},
    }
    for mode, M in (("standardised", standardised), ("one_scale", one_scale)):
        per_k: dict[str, Any] = {}
        for y in labellings:
            k = len(np.unique(y[y > 0]))
            if str(k) in per_k:
                continue
            rng = np.random.default_rng(0)
            with single_thread():
                sample = M[draw_sample(len(M), auto.SAMPLE, rng)]
                near = max(1, min(auto.NEIGHBOURS, len(sample) // (2 * k)))
                cands = {}
                for fam in auto.CANDIDATES:
                    fitted = auto._FIT[fam](sample, k, rng)
                    sizes = np.bincount(fitted.labels[fitted.labels >= 0], minlength=fitted.k)
                    ok = bool(fitted.k >= k and sizes.min() > near)
                    full = FAMILIES[fam].fit(M, k, rng)
                    cands[fam] = {
                        "eligible": ok,
                        "dunn": auto.dunn_owa(sample, fitted.labels, near) if ok else None,
                        "stability": auto._stability(fam, sample, k, rng) if ok else None,
                        "nca": max(
                            nca(t[t > 0], full.labels[t > 0])
                            for t in labellings
                            if len(np.unique(t[t > 0])) == k
                        ),
                    }
            per_k[str(k)] = cands
        out["modes"][mode] = per_k
    return out


def _beats(score: float | None, incumbent: float | None, margin: float) -> bool:
    s = math.inf if score is None else score
    inc = math.inf if incumbent is None else incumbent
    if math.isinf(inc):
        return False
    if math.isinf(s) or inc <= 0:
        return s > inc
    return s > inc * (1 + margin)


def _rule_family(cands: dict[str, Any], order: tuple[str, ...], margin: float) -> str:
    """``auto``'s choice (steps 2-4 of segmint.algorithms.auto) for a preference and margin."""
    remaining = [f for f in order if cands[f]["eligible"]]
    if not remaining:
        return "kmeans"
    bar = cands["kmeans"]["stability"] - 0.05 if cands["kmeans"]["eligible"] else 0.8
    checked = []
    while remaining:
        best = remaining[0]
        for f in remaining[1:]:
            if _beats(cands[f]["dunn"], cands[best]["dunn"], margin):
                best = f
        checked.append(best)
        if best == "kmeans" or cands[best]["stability"] >= bar:
            return best
        remaining.remove(best)
    return max(checked, key=lambda f: cands[f]["stability"])


def rule_nca(fig: dict[str, Any], ratio: float, order: str, margin: float) -> float:
    """NCA of the rule with these parameters on one data set (best over its labellings)."""
    one = fig["geometry_ok"] and fig["spread_ratio"] <= ratio
    per_k = fig["modes"]["one_scale" if one else "standardised"]
    return max(cands[_rule_family(cands, ORDERS[order], margin)]["nca"] for cands in per_k.values())


def held_out(rows: list[dict[str, Any]], generated: list[dict[str, Any]]) -> dict[str, Any]:
    """Leave-one-battery-out medians of the rule beside the baselines of the same rows."""
    grid = [(r, o, m) for r in GEOMETRY_RATIOS for o in ORDERS for m in MARGINS]

    def med(subset: list[dict[str, Any]], params: tuple[float, str, float]) -> float:
        return float(np.median([rule_nca(r["figures"], *params) for r in subset]))

    out: dict[str, Any] = {"folds": {}}
    for held in BATTERIES:
        train = [r for r in rows if r["battery"] != held]
        test = [r for r in rows if r["battery"] == held]
        best = max(grid, key=lambda g: med(train, g))
        fold = {
            "chosen_on_others": {"scale_ratio": best[0], "preference": best[1], "margin": best[2]},
            "segmint_rule_held_out": round(med(test, best), 4),
            "segmint_rule_in_sample": round(med(train, best), 4),
        }
        for m in ("genie", "gmm", "kmeans"):
            fold[m] = round(
                float(np.median([r[f"{m}_nca"] for r in test if r[f"{m}_nca"] is not None])), 4
            )
        out["folds"][held] = fold
    best = max(grid, key=lambda g: med(rows, g))
    out["chosen_on_all"] = {"scale_ratio": best[0], "preference": best[1], "margin": best[2]}
    if generated:
        out["generated_rule_chosen_on_batteries"] = round(med(generated, best), 4)
    return out


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
            f"\nTibshirani et al. (2001) settings a-e and larger ones f-h, true k found in "
            f"{t['realisations']} realisations, mean over seeds {t['seeds']} "
            "(total: a-e):"
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
            + "".join(f"{quoted.get(s, '-'):>6}" for s in SETTINGS)
            + f"{sum(quoted.values()):>8}"
        )
    if "noise" in results:
        n = results["noise"]
        print(f"\nNo segments ({n['customers']} customers, seed {n['seed']}): k = 1 found")
        for name, row in n["rows"].items():
            print(f"  {name:<14} {row['k_is_1']}/{row['of']}")
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
    if "generated" in results:
        g = results["generated"]
        print(f"\nGenerated shapes ({g['datasets']} data sets), k given: median / mean NCA")
        for method, value in g["median_nca"].items():
            print(f"  {method:<10} {value}  /  {g['mean_nca'][method]}")
    if "suite" in results:
        h = results["suite"]["held_out"]
        print("\nLeave-one-battery-out (rule parameters chosen on the other two): median NCA")
        print(f"  {'held out':<8} {'segmint':>8} {'genie':>8} {'gmm':>8} {'kmeans':>8}  chosen")
        for battery, fold in h["folds"].items():
            print(
                f"  {battery:<8} {fold['segmint_rule_held_out']:>8} {fold['genie']:>8} "
                f"{fold['gmm']:>8} {fold['kmeans']:>8}  {fold['chosen_on_others']}"
            )
        print(
            "  in sample, segmint default per battery:", results["suite"]["k_given"]["per_battery"]
        )
        if "generated_rule_chosen_on_batteries" in h:
            print(
                "  generated shapes, rule chosen on the three batteries: median NCA "
                f"{h['generated_rule_chosen_on_batteries']}"
            )
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
    parser.add_argument("--parts", default="tibshirani,noise,generated,suite,speed")
    parser.add_argument("--realisations", type=int, default=50)
    parser.add_argument(
        "--seeds", default="5", help="how many fresh seeds (default 5), or a comma list of seeds"
    )
    parser.add_argument(
        "--suite-dir", default=str(HERE.parent.parent / "shared" / "data" / "clustering-benchmarks")
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--cache-dir", default=None, help="per-data-set rows kept here")
    args = parser.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    results: dict[str, Any] = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
    }
    if "tibshirani" in parts:
        seeds = (
            [int(x) for x in args.seeds.split(",")]
            if "," in args.seeds
            else fresh_seeds(int(args.seeds))
        )
        print(f"Tibshirani settings, seeds {seeds}", flush=True)
        results["tibshirani"] = run_tibshirani(args.realisations, seeds)
    if "noise" in parts:
        seed = int(args.seeds.split(",")[0]) if "," in args.seeds else fresh_seeds(1)[0]
        print(f"Noise, seed {seed}", flush=True)
        results["noise"] = run_noise(args.realisations, seed)
    cache = Path(args.cache_dir) if args.cache_dir else None
    generated: list[dict[str, Any]] = []
    if "generated" in parts or "suite" in parts:
        print("Generated shapes", flush=True)
        results["generated"] = run_generated(cache)
        generated = results["generated"]["rows"]
    if "suite" in parts:
        print("Benchmark suite", flush=True)
        results["suite"] = run_suite(Path(args.suite_dir), cache, generated)
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
