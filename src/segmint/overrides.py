"""A person's names and actions for segments, and how they survive refits.

Names and actions are suggestions; a person overrides them (``segmint rename``, a names
file, or :func:`rename_result`). An override is stored with the segment's *signature*:
its mean of every feature in the user's units, and the population standard deviation
of every feature at the time (the scale). A later fit re-applies an override to the
segment whose means lie closest to the signature, one to one (Hungarian method), when
the root-mean-square standardised distance

    sqrt(mean over shared features of ((new mean - signature mean) / scale) ** 2)

is at most :data:`MATCH_DISTANCE` (0.5 sd) and at least half of the signature's
features still exist. Segment ids are recorded but not required to match: a refit may
renumber segments by size, and the name follows the segment, not the number. Refitting
the same data with the same parameters gives distance 0: every override comes back.

``assign`` needs nothing of this: a renamed model carries the names in its segments.
``refresh`` (matching across runs, :mod:`segmint.matching`) keeps a matched segment's
name, override included.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from segmint.errors import UsageError
from segmint.naming import unique_names
from segmint.profile import SegmentProfile

if TYPE_CHECKING:
    from segmint.pipeline import SegmentationResult

MATCH_DISTANCE = 0.5
MAX_NAME_LENGTH = 80


@dataclass(frozen=True)
class NameOverride:
    """A person's name (and optionally action) for one segment.

    Attributes
    ----------
    segment : int
        The segment id the override was made for.
    name : str
    action : str or None
        None keeps the generated action.
    signature : dict
        The segment's mean of every feature (user units) when the override was made.
    scale : dict
        The population standard deviation of every feature then.
    created : str
        ISO timestamp.
    """

    segment: int
    name: str
    action: str | None = None
    signature: dict[str, float] = field(default_factory=dict)
    scale: dict[str, float] = field(default_factory=dict)
    created: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "segment": self.segment,
            "name": self.name,
            "action": self.action,
            "created": self.created,
            "signature": {k: _json_float(v) for k, v in self.signature.items()},
            "scale": {k: _json_float(v) for k, v in self.scale.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> NameOverride:
        """Inverse of :meth:`to_dict`."""
        return cls(
            segment=int(data["segment"]),
            name=str(data["name"]),
            action=None if data.get("action") is None else str(data["action"]),
            signature={k: _float(v) for k, v in (data.get("signature") or {}).items()},
            scale={k: _float(v) for k, v in (data.get("scale") or {}).items()},
            created=str(data.get("created", "")),
        )


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _json_float(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def check_name(name: str, *, what: str = "--name") -> str:
    """A usable segment name: trimmed, not empty, one line, at most 80 characters."""
    text = " ".join(str(name).split())
    if not text:
        raise UsageError(f"{what} must not be empty")
    if len(text) > MAX_NAME_LENGTH:
        raise UsageError(f"{what} {text[:20]!r}... is longer than {MAX_NAME_LENGTH} characters")
    return text


def make_override(
    profile: SegmentProfile,
    population_std: Mapping[str, float],
    name: str,
    action: str | None = None,
    *,
    now: str | None = None,
) -> NameOverride:
    """An override for ``profile``, signed with its means and the population scale."""
    return NameOverride(
        segment=profile.id,
        name=check_name(name),
        action=None if action is None else " ".join(action.split()) or None,
        signature=dict(profile.means),
        scale={k: float(v) for k, v in population_std.items()},
        created=now or dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )


def signature_distance(override: NameOverride, means: Mapping[str, float]) -> float:
    """Root-mean-square standardised distance from the override's signature to ``means``
    (infinite when fewer than half of the signature's features can be compared)."""
    usable = [
        f
        for f, value in override.signature.items()
        if f in means
        and math.isfinite(value)
        and math.isfinite(means[f])
        and math.isfinite(override.scale.get(f, float("nan")))
        and override.scale[f] > 0
    ]
    if not usable or len(usable) * 2 < len(override.signature):
        return math.inf
    z = np.array([(means[f] - override.signature[f]) / override.scale[f] for f in usable])
    return float(np.sqrt(np.mean(z**2)))


def match_overrides(
    overrides: Sequence[NameOverride], profiles: Sequence[SegmentProfile]
) -> dict[int, NameOverride]:
    """Segment id -> the override that applies to it (see the module docstring)."""
    if not overrides or not profiles:
        return {}
    cost = np.array([[signature_distance(o, p.means) for p in profiles] for o in overrides])
    finite = np.where(np.isfinite(cost), cost, 1e6)
    rows, cols = linear_sum_assignment(finite)
    return {
        profiles[c].id: overrides[r]
        for r, c in zip(rows, cols, strict=True)
        if cost[r, c] <= MATCH_DISTANCE
    }


def merge_overrides(
    existing: Sequence[NameOverride], new: Sequence[NameOverride]
) -> list[NameOverride]:
    """``existing`` plus ``new``; an older override of the same segment (its signature
    within :data:`MATCH_DISTANCE` of the new one's) is replaced."""
    kept = [
        old
        for old in existing
        if all(signature_distance(old, fresh.signature) > MATCH_DISTANCE for fresh in new)
    ]
    return [*kept, *new]


def apply_overrides(
    profiles: Sequence[SegmentProfile], overrides: Sequence[NameOverride]
) -> tuple[list[SegmentProfile], dict[int, NameOverride]]:
    """Profiles with the matching overrides applied, and which override went where.

    Overridden names are kept as given; a generated name equal to one of them gets a
    suffix, so names stay unique.
    """
    applied = match_overrides(overrides, profiles)
    names = [applied[p.id].name if p.id in applied else p.name for p in profiles]
    fixed = [p.id in applied for p in profiles]
    final = unique_names(names, fixed)
    out = []
    for p, name in zip(profiles, final, strict=True):
        change: dict[str, Any] = {"name": name}
        if p.id in applied:
            change["name_source"] = "override"
            if applied[p.id].action is not None:
                change["action"] = applied[p.id].action
        out.append(dataclasses.replace(p, **change))
    return out, applied


def check_unique(profiles: Sequence[SegmentProfile]) -> None:
    """Raise :class:`UsageError` when two segments would share a name."""
    seen: dict[str, int] = {}
    for p in profiles:
        if p.name in seen:
            raise UsageError(
                f"name {p.name!r} would be used by segments {seen[p.name]} and {p.id}; "
                "names must be unique (rename the other segment too)"
            )
        seen[p.name] = p.id


def rename_result(
    result: SegmentationResult, overrides: Sequence[NameOverride]
) -> SegmentationResult:
    """``result`` with the matching overrides applied everywhere names appear: profiles,
    model segments (so ``assign`` uses them), assignments, summary and outcome overlay.

    ``summary["names"]`` records which override went to which segment and which did
    not match any segment.
    """
    if not overrides:
        return result
    profiles, applied = apply_overrides(result.profiles, overrides)
    by_id = {p.id: p for p in profiles}
    segments = [
        {**s, "name": by_id[s["id"]].name, "action": by_id[s["id"]].action}
        if s["id"] in by_id
        else s
        for s in result.model.segments
    ]
    model = dataclasses.replace(result.model, segments=segments)
    names = {p.id: p.name for p in profiles}
    assignments = result.assignments.copy()
    assignments["segment_name"] = pd.Series(
        [names.get(int(s), "") for s in assignments["segment"]], index=assignments.index
    )
    summary = dict(result.summary)
    summary["segments"] = segments
    if summary.get("outcome"):
        outcome = dict(summary["outcome"])
        outcome["segments"] = [
            {**row, "name": names.get(row["segment"], row["name"])} for row in outcome["segments"]
        ]
        summary["outcome"] = outcome
    summary["model_fingerprint"] = model.fingerprint()
    summary["names"] = names_record(overrides, applied)
    return dataclasses.replace(
        result, model=model, assignments=assignments, profiles=profiles, summary=summary
    )


def names_record(
    overrides: Sequence[NameOverride], applied: Mapping[int, NameOverride]
) -> dict[str, Any]:
    """What ``summary.json`` says about overrides: applied (segment -> name) and unmatched."""
    used = {id(o) for o in applied.values()}
    return {
        "overrides_applied": [
            {"segment": seg, "name": o.name, "made_for_segment": o.segment}
            for seg, o in sorted(applied.items())
        ],
        "overrides_unmatched": [
            {"name": o.name, "made_for_segment": o.segment} for o in overrides if id(o) not in used
        ],
    }
