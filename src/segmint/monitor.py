"""Watching segments over time: migration between runs, drift, and a verdict.

Migration (:func:`migration`). Two labellings of customers (two runs) give a
segment-to-segment transition matrix over the customers present in both (counts, and
shares of each source segment), the customers who moved, the customers who are new in
the later run (by segment) and those gone from it.

Drift (:func:`monitor`) compares the data a model was trained on (*reference*) with new
data (*current*), both as customer tables (``customer_id`` plus features):

* per feature used by the model: population stability index (PSI) on the reference's
  deciles (categories: on levels), the two-sample Kolmogorov-Smirnov statistic and
  p-value, and the Wasserstein distance divided by the reference standard deviation.
  PSI below 0.1 is fine, 0.1 to 0.25 is *watch*, above 0.25 is *retrain* (the usual
  credit-scoring reading). KS and Wasserstein are reported, not ruled on: with thousands
  of customers the KS test rejects even negligible shifts;
* per segment (both tables labelled by the model): share of customers, movement of the
  members' centroid (in units of the segment's mean reference distance to its centre),
  distribution of distance to the centre and of confidence (means and KS statistics);
* quality: the silhouette of the model's labels on each table, in the model's space;
* customers: how many of the current customers the reference never saw.

The verdict is the worst level of the findings (:class:`MonitorThresholds` holds every
threshold): *retrain* when a feature's PSI is above 0.25, more than 20% of the customers
are new, a segment's share moved by more than 10 percentage points, a centroid moved by
more than its segment's mean radius, the silhouette dropped by more than 0.10 or is below
0.10; *watch* at PSI above 0.1, more than 10% new customers, a share moved by more than 5
points, a centroid moved by more than half a radius, a silhouette drop above 0.05 or a
mean confidence drop above 0.10; *fine* otherwise.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp, wasserstein_distance

from segmint.matching import silhouette
from segmint.pipeline import SegmentationModel
from segmint.profile import profile_frame

Level = Literal["fine", "watch", "retrain"]
PSI_WATCH = 0.1
PSI_RETRAIN = 0.25
PSI_BINS = 10
PSI_EPSILON = 1e-4
_ORDER = {"fine": 0, "watch": 1, "retrain": 2}


# ----------------------------------------------------------------------------- migration


@dataclass(frozen=True)
class Migration:
    """How customers moved between two labellings.

    Attributes
    ----------
    counts : DataFrame
        Source segment id (rows) x destination segment id (columns), customers present in
        both runs only; ``counts.to_numpy().sum() == n_both``.
    shares : DataFrame
        ``counts`` divided by its row sums (each source segment sums to 1).
    moved : DataFrame
        ``customer_id, from_segment, from_name, to_segment, to_name`` of the customers
        whose segment changed.
    new : Series
        Customers only in the later run, by their segment.
    gone : Series
        Customers only in the earlier run, by their segment there.
    names_before, names_after : dict
        Segment id -> name in each run.
    """

    counts: pd.DataFrame
    shares: pd.DataFrame
    moved: pd.DataFrame
    new: pd.Series
    gone: pd.Series
    names_before: dict[int, str]
    names_after: dict[int, str]

    @property
    def n_both(self) -> int:
        """Customers present in both runs."""
        return int(self.counts.to_numpy().sum())

    @property
    def n_moved(self) -> int:
        """Customers in both runs whose segment changed."""
        return len(self.moved)

    @property
    def n_new(self) -> int:
        """Customers only in the later run."""
        return int(self.new.sum())

    @property
    def n_gone(self) -> int:
        """Customers only in the earlier run."""
        return int(self.gone.sum())

    def table(self) -> pd.DataFrame:
        """The matrix with readable labels, a "new customers" row and a "gone" column."""
        rows = [f"{i} {self.names_before.get(i, '')}".strip() for i in self.counts.index]
        cols = [f"{j} {self.names_after.get(j, '')}".strip() for j in self.counts.columns]
        out = pd.DataFrame(self.counts.to_numpy(), index=rows, columns=cols)
        out["(gone)"] = self.gone.reindex(self.counts.index, fill_value=0).to_numpy()
        new_row = [*self.new.reindex(self.counts.columns, fill_value=0).tolist(), 0]
        out.loc["(new customers)"] = new_row
        out.index.name = "from \\ to"
        return out.astype("int64")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""

        def matrix(frame: pd.DataFrame, digits: int | None) -> dict[str, dict[str, float]]:
            return {
                str(i): {
                    str(j): (round(float(v), digits) if digits else int(v)) for j, v in row.items()
                }
                for i, row in frame.iterrows()
            }

        return {
            "n_both": self.n_both,
            "n_stayed": self.n_both - self.n_moved,
            "n_moved": self.n_moved,
            "n_new": self.n_new,
            "n_gone": self.n_gone,
            "names_before": {str(k): v for k, v in self.names_before.items()},
            "names_after": {str(k): v for k, v in self.names_after.items()},
            "counts": matrix(self.counts, None),
            "shares": matrix(self.shares, 6),
            "new_by_segment": {str(k): int(v) for k, v in self.new.items()},
            "gone_by_segment": {str(k): int(v) for k, v in self.gone.items()},
        }


def migration(before: pd.DataFrame, after: pd.DataFrame) -> Migration:
    """Transition matrix between two labellings of customers.

    Parameters
    ----------
    before, after : DataFrame
        ``customer_id``, ``segment`` and ``segment_name`` (assignments of two runs).

    Returns
    -------
    Migration
    """
    for name, frame in (("before", before), ("after", after)):
        if frame["customer_id"].duplicated().any():
            raise ValueError(f"{name}: customer ids must be unique")
    names_before = _names(before)
    names_after = _names(after)
    b = before[["customer_id", "segment", "segment_name"]].astype({"customer_id": "string"})
    a = after[["customer_id", "segment", "segment_name"]].astype({"customer_id": "string"})
    both = b.merge(a, on="customer_id", suffixes=("_from", "_to"))
    rows = sorted(names_before)
    cols = sorted(names_after)
    counts = pd.crosstab(both["segment_from"], both["segment_to"]).reindex(
        index=rows, columns=cols, fill_value=0
    )
    counts.index.name, counts.columns.name = "from", "to"
    totals = counts.sum(axis=1).replace(0, np.nan)
    shares = counts.div(totals, axis=0).fillna(0.0)
    moved = both[both["segment_from"] != both["segment_to"]]
    moved = (
        pd.DataFrame(
            {
                "customer_id": moved["customer_id"].to_numpy(),
                "from_segment": moved["segment_from"].to_numpy(),
                "from_name": moved["segment_name_from"].to_numpy(),
                "to_segment": moved["segment_to"].to_numpy(),
                "to_name": moved["segment_name_to"].to_numpy(),
            }
        )
        .sort_values(["from_segment", "to_segment", "customer_id"], kind="stable")
        .reset_index(drop=True)
    )
    new = a[~a["customer_id"].isin(b["customer_id"])]["segment"].value_counts()
    gone = b[~b["customer_id"].isin(a["customer_id"])]["segment"].value_counts()
    return Migration(
        counts=counts.astype("int64"),
        shares=shares,
        moved=moved,
        new=new.reindex(cols, fill_value=0).astype("int64"),
        gone=gone.reindex(rows, fill_value=0).astype("int64"),
        names_before=names_before,
        names_after=names_after,
    )


def _names(frame: pd.DataFrame) -> dict[int, str]:
    pairs = frame[["segment", "segment_name"]].drop_duplicates("segment")
    return {int(s): str(n) for s, n in zip(pairs["segment"], pairs["segment_name"], strict=True)}


# ----------------------------------------------------------------------------- feature drift


def psi_status(psi: float) -> Level:
    """fine (< 0.1), watch (0.1 to 0.25) or retrain (> 0.25)."""
    if psi > PSI_RETRAIN:
        return "retrain"
    return "watch" if psi >= PSI_WATCH else "fine"


def _psi(expected: np.ndarray, actual: np.ndarray) -> float:
    e = np.maximum(expected, PSI_EPSILON)
    a = np.maximum(actual, PSI_EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))


def population_stability_index(
    reference: np.ndarray, current: np.ndarray, *, bins: int = PSI_BINS
) -> float:
    """PSI of a numeric feature on the reference's quantile bins.

    Bin edges are the reference's 1/bins .. (bins-1)/bins quantiles (duplicates merged),
    bins closed on the right; missing values form a bin of their own. Empty bins count as
    a share of 0.0001. ``PSI = sum((current - reference) * ln(current / reference))``
    over the bins' shares.

    Parameters
    ----------
    reference, current : array-like of float
    bins : int

    Returns
    -------
    float
    """
    ref = np.asarray(reference, dtype=float)
    cur = np.asarray(current, dtype=float)
    ref_ok, cur_ok = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
    if len(ref_ok) == 0 or len(cur) == 0 or len(ref) == 0:
        return 0.0
    edges = np.unique(np.quantile(ref_ok, np.arange(1, bins) / bins))
    n_bins = len(edges) + 1
    ref_counts = np.bincount(np.searchsorted(edges, ref_ok, side="left"), minlength=n_bins)
    cur_counts = np.bincount(np.searchsorted(edges, cur_ok, side="left"), minlength=n_bins)
    ref_counts = np.append(ref_counts, len(ref) - len(ref_ok))
    cur_counts = np.append(cur_counts, len(cur) - len(cur_ok))
    return _psi(ref_counts / len(ref), cur_counts / len(cur))


def categorical_psi(reference: pd.Series, current: pd.Series) -> float:
    """PSI of a categorical feature over its levels (missing is a level)."""
    ref = reference.astype("string").fillna("(missing)")
    cur = current.astype("string").fillna("(missing)")
    levels = sorted(set(ref) | set(cur))
    if not len(ref) or not len(cur):
        return 0.0
    e = ref.value_counts(normalize=True).reindex(levels, fill_value=0.0).to_numpy()
    a = cur.value_counts(normalize=True).reindex(levels, fill_value=0.0).to_numpy()
    return _psi(e, a)


@dataclass(frozen=True)
class FeatureDrift:
    """Drift of one feature between the reference and the current customers."""

    feature: str
    kind: str
    psi: float
    status: Level
    ks_statistic: float | None = None
    ks_pvalue: float | None = None
    wasserstein: float | None = None
    reference_mean: float | None = None
    current_mean: float | None = None


def feature_drift(
    model: SegmentationModel, reference: pd.DataFrame, current: pd.DataFrame
) -> list[FeatureDrift]:
    """PSI, KS and Wasserstein of every feature the model uses (see the module docstring)."""
    out: list[FeatureDrift] = []
    plans = model.preparation.plans
    ref_values = profile_frame(reference, dataclasses.replace(model.preparation, described=plans))
    cur_values = profile_frame(current, dataclasses.replace(model.preparation, described=plans))
    for plan in plans:
        if plan.kind == "categorical":
            ref = _levels(reference, plan.name, plan.levels)
            cur = _levels(current, plan.name, plan.levels)
            psi = categorical_psi(ref, cur)
            out.append(FeatureDrift(plan.name, "categorical", round(psi, 6), psi_status(psi)))
            continue
        r = ref_values[plan.name].to_numpy(dtype=float)
        c = cur_values[plan.name].to_numpy(dtype=float)
        psi = population_stability_index(r, c)
        r_ok, c_ok = r[~np.isnan(r)], c[~np.isnan(c)]
        ks = _ks_test(r_ok, c_ok) if len(r_ok) and len(c_ok) else None
        std = float(np.std(r_ok)) if len(r_ok) else 0.0
        wd = wasserstein_distance(r_ok, c_ok) / std if std > 0 and len(c_ok) else None
        out.append(
            FeatureDrift(
                feature=plan.name,
                kind=plan.kind,
                psi=round(psi, 6),
                status=psi_status(psi),
                ks_statistic=None if ks is None else round(float(ks.statistic), 6),
                ks_pvalue=None if ks is None else float(ks.pvalue),
                wasserstein=None if wd is None else round(float(wd), 6),
                reference_mean=_mean(r_ok),
                current_mean=_mean(c_ok),
            )
        )
    return out


def _levels(frame: pd.DataFrame, column: str, levels: tuple[str, ...]) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(["missing"] * len(frame), dtype="string")
    text = frame[column].astype("string").str.strip()
    text = text.fillna("missing").mask(text == "", "missing")
    return text.where(text.isin(levels) | (text == "missing"), "other")


def _mean(values: np.ndarray) -> float | None:
    return round(float(values.mean()), 6) if len(values) else None


# ----------------------------------------------------------------------------- the verdict


@dataclass(frozen=True)
class MonitorThresholds:
    """Every threshold of the verdict (defaults in the module docstring)."""

    psi_watch: float = PSI_WATCH
    psi_retrain: float = PSI_RETRAIN
    new_customers_watch: float = 0.10
    new_customers_retrain: float = 0.20
    share_change_watch: float = 0.05
    share_change_retrain: float = 0.10
    centroid_shift_watch: float = 0.5
    centroid_shift_retrain: float = 1.0
    silhouette_drop_watch: float = 0.05
    silhouette_drop_retrain: float = 0.10
    min_silhouette: float = 0.10
    confidence_drop_watch: float = 0.10


@dataclass(frozen=True)
class Finding:
    """One check above its threshold."""

    level: Level
    check: str
    message: str


@dataclass(frozen=True)
class SegmentDrift:
    """How one segment of the model looks on the current customers vs the reference."""

    id: int
    name: str
    reference_size: int
    reference_share: float
    current_size: int
    current_share: float
    share_change: float
    centroid_shift: float | None
    reference_mean_distance: float | None
    current_mean_distance: float | None
    distance_ks: float | None
    reference_mean_confidence: float | None
    current_mean_confidence: float | None
    confidence_ks: float | None


@dataclass(frozen=True)
class MonitorReport:
    """Result of :func:`monitor`; :meth:`to_dict` is what ``segmint monitor --json`` prints."""

    verdict: Level
    findings: list[Finding]
    features: list[FeatureDrift]
    segments: list[SegmentDrift]
    customers: dict[str, Any]
    quality: dict[str, Any]
    thresholds: MonitorThresholds = field(default_factory=MonitorThresholds)

    @property
    def reasons(self) -> list[str]:
        """One line per finding, the most serious first."""
        return [f.message for f in self.findings]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``verdict``, ``reasons``, then the details."""
        return {
            "verdict": self.verdict,
            "reasons": self.reasons,
            "findings": [dataclasses.asdict(f) for f in self.findings],
            "customers": self.customers,
            "quality": self.quality,
            "features": [dataclasses.asdict(f) for f in self.features],
            "segments": [dataclasses.asdict(s) for s in self.segments],
            "thresholds": dataclasses.asdict(self.thresholds),
        }


def _distances(
    model: SegmentationModel, frame: pd.DataFrame
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Labels of ``frame``, its prepared matrix, and each customer's distance to its centre
    (unassigned customers, who have none: to the nearest centre)."""
    labels, _ = model.label_customers(frame)
    matrix, _ = model.preparation.transform(frame)
    position = {int(i): p for p, i in enumerate(model.segment_ids())}
    rows = np.array([position.get(int(s), -1) for s in labels["segment"]], dtype=np.int64)
    distance = np.linalg.norm(matrix - model.centers[np.maximum(rows, 0)], axis=1)
    lost = rows < 0
    if lost.any():
        gaps = matrix[lost, None, :] - model.centers[None, :, :]
        distance[lost] = np.linalg.norm(gaps, axis=2).min(axis=1)
    return labels, matrix, distance


def _quantiles(values: np.ndarray) -> dict[str, float] | None:
    """10th, 50th and 90th percentiles (a distribution in three numbers)."""
    if not len(values):
        return None
    p10, p50, p90 = np.quantile(values, [0.1, 0.5, 0.9])
    return {"p10": round(float(p10), 6), "p50": round(float(p50), 6), "p90": round(float(p90), 6)}


def _ks_test(a: np.ndarray, b: np.ndarray) -> Any:
    """Two-sample Kolmogorov-Smirnov test; where scipy cannot compute the exact p-value it
    falls back to the asymptotic one (said here instead of by a warning)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "ks_2samp: Exact calculation unsuccessful")
        return ks_2samp(a, b)


def _ks(a: np.ndarray, b: np.ndarray) -> float | None:
    # Only the statistic is needed: the asymptotic method gives the same statistic without
    # attempting an exact p-value (which can fail with a warning on large, tied samples).
    return round(float(ks_2samp(a, b, method="asymp").statistic), 6) if len(a) and len(b) else None


def segment_drift(
    model: SegmentationModel, reference: pd.DataFrame, current: pd.DataFrame
) -> tuple[list[SegmentDrift], dict[str, Any]]:
    """Per-segment shares, centroid movement, distance and confidence; and quality.

    Returns
    -------
    segments : list of SegmentDrift
    quality : dict
        Silhouettes on each table in the model's space; mean, 10th/50th/90th percentiles
        and KS statistic of the distance to the centre and of the confidence.
    """
    ref_labels, ref_x, ref_d = _distances(model, reference)
    cur_labels, cur_x, cur_d = _distances(model, current)
    names = model.segment_names()
    out = []
    for seg_id in model.segment_ids():
        r = (ref_labels["segment"] == seg_id).to_numpy()
        c = (cur_labels["segment"] == seg_id).to_numpy()
        radius = float(ref_d[r].mean()) if r.any() else None
        shift = None
        if r.any() and c.any() and radius:
            shift = round(
                float(np.linalg.norm(cur_x[c].mean(axis=0) - ref_x[r].mean(axis=0)) / radius), 6
            )
        ref_share = float(r.mean()) if len(r) else 0.0
        cur_share = float(c.mean()) if len(c) else 0.0
        ref_conf = ref_labels["confidence"].to_numpy()[r]
        cur_conf = cur_labels["confidence"].to_numpy()[c]
        out.append(
            SegmentDrift(
                id=int(seg_id),
                name=names[int(seg_id)],
                reference_size=int(r.sum()),
                reference_share=round(ref_share, 6),
                current_size=int(c.sum()),
                current_share=round(cur_share, 6),
                share_change=round(cur_share - ref_share, 6),
                centroid_shift=shift,
                reference_mean_distance=_mean(ref_d[r]),
                current_mean_distance=_mean(cur_d[c]),
                distance_ks=_ks(ref_d[r], cur_d[c]),
                reference_mean_confidence=_mean(ref_conf),
                current_mean_confidence=_mean(cur_conf),
                confidence_ks=_ks(ref_conf, cur_conf),
            )
        )
    ref_sil = silhouette(ref_x, ref_labels["segment"].to_numpy())
    cur_sil = silhouette(cur_x, cur_labels["segment"].to_numpy())
    quality = {
        "silhouette_reference": None if ref_sil is None else round(ref_sil, 6),
        "silhouette_current": None if cur_sil is None else round(cur_sil, 6),
        "mean_confidence_reference": _mean(ref_labels["confidence"].to_numpy()),
        "mean_confidence_current": _mean(cur_labels["confidence"].to_numpy()),
        "mean_distance_reference": _mean(ref_d),
        "mean_distance_current": _mean(cur_d),
        "distance_ks": _ks(ref_d, cur_d),
        "confidence_ks": _ks(
            ref_labels["confidence"].to_numpy(), cur_labels["confidence"].to_numpy()
        ),
        "distance_quantiles_reference": _quantiles(ref_d),
        "distance_quantiles_current": _quantiles(cur_d),
        "confidence_quantiles_reference": _quantiles(ref_labels["confidence"].to_numpy()),
        "confidence_quantiles_current": _quantiles(cur_labels["confidence"].to_numpy()),
    }
    return out, quality


def monitor(
    model: SegmentationModel,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    *,
    thresholds: MonitorThresholds | None = None,
) -> MonitorReport:
    """Drift of ``current`` against the data ``model`` was trained on, and a verdict.

    Parameters
    ----------
    model : SegmentationModel
        The model that serves.
    reference : DataFrame
        The customer table the model was trained on (``customer_id`` + features).
    current : DataFrame
        The new customer table, derived the same way.
    thresholds : MonitorThresholds, optional

    Returns
    -------
    MonitorReport
    """
    t = thresholds or MonitorThresholds()
    if len(current) == 0:
        raise ValueError("current: no customers to monitor")
    features = feature_drift(model, reference, current)
    segments, quality = segment_drift(model, reference, current)
    ref_ids = set(reference["customer_id"].astype("string"))
    cur_ids = current["customer_id"].astype("string")
    new = int((~cur_ids.isin(ref_ids)).sum())
    customers = {
        "reference": len(reference),
        "current": len(current),
        "new": new,
        "new_share": round(new / len(current), 6),
        "gone": len(ref_ids - set(cur_ids)),
    }
    findings: list[Finding] = []

    def add(level: Level | None, check: str, message: str) -> None:
        if level is not None and level != "fine":
            findings.append(Finding(level, check, message))

    share = customers["new_share"]
    add(
        _level(share, t.new_customers_watch, t.new_customers_retrain),
        "new_customers",
        f"{share:.1%} of the customers are new since the model was trained "
        f"({new:,} of {len(current):,}; watch above {t.new_customers_watch:.0%}, "
        f"retrain above {t.new_customers_retrain:.0%})",
    )
    for f in features:
        add(
            _level(f.psi, t.psi_watch, t.psi_retrain, inclusive=True),
            "feature_psi",
            f"feature {f.feature!r} drifted: PSI {f.psi:.3f} (watch from {t.psi_watch}, "
            f"retrain above {t.psi_retrain})",
        )
    for s in segments:
        add(
            _level(abs(s.share_change), t.share_change_watch, t.share_change_retrain),
            "segment_share",
            f"segment {s.id} {s.name!r}: share {s.reference_share:.1%} -> {s.current_share:.1%} "
            f"({s.share_change * 100:+.1f} points)",
        )
        if s.centroid_shift is not None:
            add(
                _level(s.centroid_shift, t.centroid_shift_watch, t.centroid_shift_retrain),
                "centroid_shift",
                f"segment {s.id} {s.name!r}: centre of its members moved "
                f"{s.centroid_shift:.2f} of its mean radius",
            )
    ref_sil, cur_sil = quality["silhouette_reference"], quality["silhouette_current"]
    if cur_sil is not None:
        if cur_sil < t.min_silhouette:
            add(
                "retrain",
                "silhouette",
                f"silhouette on the new data {cur_sil:.3f} is below {t.min_silhouette}",
            )
        if ref_sil is not None:
            drop = ref_sil - cur_sil
            add(
                _level(drop, t.silhouette_drop_watch, t.silhouette_drop_retrain),
                "silhouette",
                f"silhouette on the new data {cur_sil:.3f}, down from {ref_sil:.3f}",
            )
    conf_ref, conf_cur = quality["mean_confidence_reference"], quality["mean_confidence_current"]
    if (
        conf_ref is not None
        and conf_cur is not None
        and conf_ref - conf_cur > t.confidence_drop_watch
    ):
        add("watch", "confidence", f"mean confidence {conf_cur:.3f}, down from {conf_ref:.3f}")
    findings.sort(key=lambda f: -_ORDER[f.level])
    verdict: Level = max((f.level for f in findings), key=_ORDER.__getitem__, default="fine")
    return MonitorReport(verdict, findings, features, segments, customers, quality, t)


def _level(value: float, watch: float, retrain: float, *, inclusive: bool = False) -> Level | None:
    """retrain above ``retrain``; watch above ``watch`` (from it when ``inclusive``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if value > retrain:
        return "retrain"
    if value > watch or (inclusive and value >= watch):
        return "watch"
    return "fine"
