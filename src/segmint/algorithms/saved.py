"""Assignment rules as a model folder stores them, and rebuilt from there.

A rule is written as a small document (``{"kind", "params"}``) plus its arrays
(:meth:`~segmint.algorithms.base.Assigner.arrays`); this module is the one place that
knows every kind, the tiered rule (:mod:`segmint.algorithms.tiers`) included.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from segmint.algorithms.base import Assigner, CentroidAssigner, CorePointAssigner, GaussianAssigner
from segmint.algorithms.tiers import TierAssigner


def assigner_from(kind: str, arrays: dict[str, np.ndarray], centers: np.ndarray) -> Assigner:
    """Rebuild a saved assigner (``kind`` and ``arrays`` as written by :meth:`Assigner.arrays`).

    Raises
    ------
    KeyError
        Unknown kind or a missing array.
    """
    if kind == CentroidAssigner.kind:
        return CentroidAssigner(centers)
    if kind == GaussianAssigner.kind:
        return GaussianAssigner(arrays["means"], arrays["covariances"], arrays["weights"])
    if kind == CorePointAssigner.kind:
        return CorePointAssigner(
            arrays["points"], np.rint(arrays["labels"]).astype(np.int64), arrays.get("radius")
        )
    raise KeyError(f"unknown assignment rule {kind!r}")


def assigner_document(assigner: Assigner) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """What a model folder stores of an assigner: ``{"kind", "params"}`` and its arrays."""
    return {"kind": assigner.kind, "params": assigner.params()}, assigner.arrays()


def load_assigner(
    document: dict[str, Any] | None, arrays: dict[str, np.ndarray], centers: np.ndarray
) -> Assigner:
    """Rebuild a saved assigner; no document (models saved before) means nearest centroid.

    Raises
    ------
    KeyError
        Unknown kind or a missing array.
    """
    if not document:
        return CentroidAssigner(centers)
    if document["kind"] == TierAssigner.kind:
        return _tiered(document["params"], arrays, centers)
    return assigner_from(document["kind"], arrays, centers)


def _tiered(
    params: dict[str, Any], arrays: dict[str, np.ndarray], centers: np.ndarray
) -> TierAssigner:
    """Each tier's rule from its ``tier<i>__`` arrays and its rows of ``centers``."""
    parts = []
    for i, (kind, offset, size) in enumerate(
        zip(params["parts"], params["offsets"], params["sizes"], strict=True)
    ):
        prefix = f"tier{i}__"
        own = {
            name[len(prefix) :]: value for name, value in arrays.items() if name.startswith(prefix)
        }
        parts.append(assigner_from(kind, own, centers[offset : offset + size]))
    return TierAssigner.from_saved(params, parts)
