"""Clustering families behind one small registry.

=============  ==========================================================================
name           family
=============  ==========================================================================
``auto``       compares k-means, Gaussian mixture, Ward and Genie; see :mod:`.auto`
``kmeans``     k-means (k-means++ starts); large data: fitted on a sample, rest assigned
``gmm``        Gaussian mixture, full covariances; confidence = posterior; BIC/AIC
``ward``       hierarchical, Ward's criterion; dendrogram; large data: on a sample
``genie``      Genie (genieclust): MST-based, non-convex segments; large data: on a sample
``birch``      BIRCH: one-pass subclusters grouped into k segments
``hdbscan``    HDBSCAN: finds k itself; sparse customers are the "unassigned" group (-1)
``dbscan``     DBSCAN: finds k itself, eps from the k-distance knee; noise is "unassigned"
``consensus``  co-association of bootstrap and multi-family runs, average linkage
=============  ==========================================================================

Each family returns a :class:`~segmint.algorithms.base.Fitted` whose assigner labels
new customers (nearest centre, mixture posterior, or nearest core point).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from segmint.algorithms import birch, consensus, dbscan, genie, gmm, hdbscan, kmeans, ward
from segmint.algorithms.base import UNASSIGNED, Assigner, Fitted
from segmint.algorithms.saved import assigner_from
from segmint.errors import UsageError

__all__ = [
    "ALGORITHMS",
    "FAMILIES",
    "UNASSIGNED",
    "Assigner",
    "Family",
    "Fitted",
    "assigner_from",
    "check_algorithm",
    "fit_family",
]


@dataclass(frozen=True)
class Family:
    """One clustering family of the registry."""

    name: str
    description: str
    takes_k: bool
    fit: Callable[[np.ndarray, int, np.random.Generator], Fitted]


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family("kmeans", "k-means (k-means++ starts)", True, kmeans.fit),
        Family("gmm", "Gaussian mixture, full covariances", True, gmm.fit),
        Family("ward", "hierarchical clustering, Ward's criterion", True, ward.fit),
        Family("genie", "Genie, MST-based hierarchical clustering", True, genie.fit),
        Family("birch", "BIRCH", True, birch.fit),
        Family(
            "hdbscan",
            "HDBSCAN, density-based; finds k itself",
            False,
            lambda X, k, rng: hdbscan.fit(X, rng),
        ),
        Family(
            "dbscan",
            "DBSCAN, density-based; finds k itself",
            False,
            lambda X, k, rng: dbscan.fit(X, rng),
        ),
        Family("consensus", "consensus of bootstrap and multi-family runs", True, consensus.fit),
    )
}
ALGORITHMS: tuple[str, ...] = ("auto", *FAMILIES)


def check_algorithm(name: str) -> str:
    """The registry name for ``name`` (case-insensitive).

    Raises
    ------
    UsageError
        Not a known algorithm.
    """
    key = str(name).strip().lower()
    if key not in ALGORITHMS:
        raise UsageError(f"algorithm must be one of {', '.join(ALGORITHMS)}, not {name!r}")
    return key


def fit_family(name: str, X: np.ndarray, k: int, rng: np.random.Generator) -> Fitted:
    """Fit the family ``name`` with ``k`` segments (ignored by families that find k)."""
    return FAMILIES[check_algorithm(name)].fit(X, k, rng)
