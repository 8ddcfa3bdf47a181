"""Are these segments worth acting on? Validity warnings and the discriminant check.

Warnings (plain sentences in ``summary.json`` and on the command line):

* the largest segment holds more than :data:`LARGEST_SHARE` (60%) of the customers:
  the "segmentation" is mostly one group;
* a segment holds less than :data:`SMALLEST_SHARE` (2%): too small to act on reliably;
* too few customers for the number of segments: below :data:`FEW_CUSTOMERS` (1,000)
  customers at most :data:`FEW_CUSTOMERS_MAX_K` (4) segments are supported — segment
  estimates from a few dozen customers each are noise;
* too many features for the customers: data-driven segmentation needs about
  :data:`CUSTOMERS_PER_FEATURE` (70) customers per feature (Dolnicar, Grün, Leisch &
  Schmidt 2014, "Required sample sizes for data-driven market segmentation analyses");
* no distinct segments (the null-structure test), an unstable model, unassigned customers.

Discriminant check: can a simple classifier recover the segments from the features? A
decision tree of depth at most :data:`TREE_DEPTH`, cross-validated (:data:`FOLDS` folds,
stratified) on a sample of at most :data:`SAMPLE` customers. High accuracy means the
segments follow the features in a way a few rules can describe; low accuracy that they
are fragile or hard to explain.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.tree import DecisionTreeClassifier

from segmint.algorithms.base import UNASSIGNED, draw_sample

LARGEST_SHARE = 0.60
SMALLEST_SHARE = 0.02
FEW_CUSTOMERS = 1_000
FEW_CUSTOMERS_MAX_K = 4
CUSTOMERS_PER_FEATURE = 70
UNASSIGNED_SHARE = 0.10
TREE_DEPTH = 5
FOLDS = 5
SAMPLE = 5_000


@dataclass(frozen=True)
class Validity:
    """Warnings and the discriminant check of a segmentation."""

    warnings: list[str] = field(default_factory=list)
    discriminant: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"warnings": list(self.warnings), "discriminant": dict(self.discriminant)}


def discriminant_check(
    X: np.ndarray, labels: np.ndarray, rng: np.random.Generator
) -> dict[str, Any]:
    """Cross-validated accuracy of a shallow decision tree recovering the segments.

    Returns
    -------
    dict
        ``accuracy`` (mean over folds; None when it cannot be computed), ``folds``,
        ``classifier``, ``sample_size``, ``baseline`` (the largest segment's share: what
        always guessing it would score).
    """
    idx = draw_sample(len(X), SAMPLE, rng)
    x, y = X[idx], labels[idx]
    classes, counts = np.unique(y, return_counts=True)
    out: dict[str, Any] = {
        "classifier": f"decision tree, depth <= {TREE_DEPTH}",
        "sample_size": len(idx),
        "baseline": round(float(counts.max() / len(y)), 4) if len(y) else None,
    }
    folds = min(FOLDS, int(counts.min())) if len(classes) >= 2 else 0
    if folds < 2:
        return {
            **out,
            "accuracy": None,
            "folds": 0,
            "why_not": "fewer than two customers per segment",
        }
    tree = DecisionTreeClassifier(max_depth=TREE_DEPTH, random_state=int(rng.integers(2**31 - 1)))
    splitter = StratifiedKFold(
        n_splits=folds, shuffle=True, random_state=int(rng.integers(2**31 - 1))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a fold may miss a rare class
        scores = cross_val_score(tree, x, y, cv=splitter)
    return {**out, "accuracy": round(float(scores.mean()), 4), "folds": folds}


def validity_warnings(
    labels: np.ndarray,
    n_features: int,
    *,
    structure: bool = True,
    stable: bool | None = None,
    stability_ari: float | None = None,
) -> list[str]:
    """The warnings of the module docstring for a labelling (-1 = unassigned)."""
    n = len(labels)
    out: list[str] = []
    if n == 0:
        return out
    assigned = labels[labels != UNASSIGNED]
    k = len(np.unique(assigned))
    sizes = np.bincount(assigned) if len(assigned) else np.zeros(0, dtype=int)
    if not structure and k > 1:
        out.append(
            "no distinct segments; the groups below are a partition of a continuum "
            "(useful for targeting, not natural groups)"
        )
    if k > 1 and sizes.max() / n > LARGEST_SHARE:
        top = int(sizes.argmax())
        out.append(
            f"segment {top} holds {sizes.max() / n:.0%} of the customers (more than "
            f"{LARGEST_SHARE:.0%}): the segmentation is mostly one group"
        )
    small = [(i, s) for i, s in enumerate(sizes) if 0 < s / n < SMALLEST_SHARE]
    if k > 1 and small:
        listed = ", ".join(f"{i} ({s / n:.1%})" for i, s in small)
        out.append(
            f"segments below {SMALLEST_SHARE:.0%} of the customers: {listed}; "
            "too small to act on reliably"
        )
    if n < FEW_CUSTOMERS and k > FEW_CUSTOMERS_MAX_K:
        out.append(
            f"{n:,} customers support at most {FEW_CUSTOMERS_MAX_K} segments (fewer than "
            f"{FEW_CUSTOMERS:,} customers); {k} segments of so few customers are mostly noise"
        )
    if n_features > 0 and n < CUSTOMERS_PER_FEATURE * n_features:
        out.append(
            f"{n_features} features for {n:,} customers: data-driven segmentation needs about "
            f"{CUSTOMERS_PER_FEATURE} customers per feature "
            f"({CUSTOMERS_PER_FEATURE * n_features:,}); "
            "consider fewer features (--exclude)"
        )
    if stable is False and stability_ari is not None:
        out.append(
            f"unstable segments: refits on resampled customers agree only moderately "
            f"(mean adjusted Rand index {stability_ari:.2f})"
        )
    unassigned = int((labels == UNASSIGNED).sum())
    if unassigned and unassigned / n > UNASSIGNED_SHARE:
        out.append(
            f"{unassigned:,} customers ({unassigned / n:.0%}) are in no dense region: unassigned"
        )
    return out
