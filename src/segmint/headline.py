"""The report's first sentence: how strong the segment structure is, in plain words."""

from __future__ import annotations

from typing import Any

from segmint.selection import CLEAR_STRUCTURE, STABILITY_FLOOR
from segmint.stability import STABLE_ARI


def structure_sentence(
    k: int,
    structure: bool,
    silhouette: float | None,
    bootstrap_ari: float | None,
    final_check: dict[str, Any] | None = None,
) -> str:
    """How strong the segment structure is, in one plain sentence (the report's first).

    Parameters
    ----------
    k : int
        Number of segments fitted.
    structure : bool
        Whether the selection found distinct segments (:attr:`Selection.structure`).
    silhouette : float or None
        Silhouette of the chosen k in the selection, when rated.
    bootstrap_ari : float or None
        Mean bootstrap ARI of the final model (:mod:`segmint.stability`), when measured.
    final_check : dict, optional
        :attr:`Selection.final_check`: a model rejected by the final stability check.

    Returns
    -------
    str
    """
    rejected = final_check or {}
    if k <= 1 and rejected.get("outcome") == "none":
        return (
            f"No reliable segments: the {rejected['k']} groups found do not come back on "
            f"resampled customers (bootstrap ARI {rejected['bootstrap_ari']:.2f} < "
            f"{STABILITY_FLOOR}), so every customer is in one segment."
        )
    if k <= 1:
        return "No distinct segments: the customers form one continuum."
    sentence = _partition_sentence(k, structure, silhouette, bootstrap_ari)
    if rejected.get("outcome") == "fallback":
        first = rejected["k"]
        sentence += f" The {first} groups found first did not come back on resampled customers."
    return sentence


def _partition_sentence(
    k: int, structure: bool, silhouette: float | None, bootstrap_ari: float | None
) -> str:
    if bootstrap_ari is not None and bootstrap_ari < STABILITY_FLOOR:
        return (
            f"No reliable segments: the {k} groups below do not come back on resampled "
            f"customers (bootstrap ARI {bootstrap_ari:.2f} < {STABILITY_FLOOR})."
        )
    if not structure:
        return (
            f"Weak structure: the customers form a continuum; the {k} groups below are a "
            "partition of it, not distinct segments."
        )
    stable = bootstrap_ari is None or bootstrap_ari >= STABLE_ARI
    if silhouette is not None and silhouette >= CLEAR_STRUCTURE and stable:
        return f"Strong structure: {k} well-separated, stable segments."
    overlap = "" if silhouette is None else f" (silhouette {silhouette:.2f})"
    return (
        f"Moderate structure: {k} distinct segments that overlap{overlap}"
        + ("" if stable else f", only moderately stable (bootstrap ARI {bootstrap_ari:.2f})")
        + "."
    )
