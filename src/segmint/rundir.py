"""Run folders beyond the basic outputs: chart data, profiles as JSON, saved candidates,
name overrides; renaming segments of a finished run and re-rendering its report.

Files this module adds to a ``fit`` output folder:

* ``profiles.json``: every segment's profile, the population statistics and the
  outcome overlay (the JSON twin of ``profiles.csv``);
* ``charts.json``: the chart data of the report (:class:`segmint.explain.Exhibits`), so
  the report can be drawn again without the data (``segmint report``, ``segmint rename``);
* ``candidates/`` (``fit --compare``): ``candidates.json`` (the seed, the fingerprint of
  the prepared matrix, the k-selection table), ``centers.npz`` (every candidate's
  centres) and ``k<N>-profiles.csv`` (each candidate's profiles);
* ``model/overrides.json`` (``segmint rename``): a person's names and actions with the
  segments' signatures (:mod:`segmint.overrides`).

Refitting into the same folder re-applies the overrides to the segments they match, and
``segmint fit ... --k N`` reuses the saved candidate with N segments when the prepared
matrix is identical (same data, same options) and the seed is the same: no k-means is
run, and the candidates and the comparison are kept in the new folder.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import shutil
import tempfile
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from segmint.artifacts import load_model, save_model
from segmint.compare import KComparison, ReusedCandidate, compare_k, matrix_fingerprint
from segmint.errors import ModelError, UsageError
from segmint.explain import Exhibits, build_exhibits
from segmint.io import write_table
from segmint.model import KMeansFit, nearest_centers
from segmint.overrides import (
    NameOverride,
    apply_overrides,
    check_name,
    check_unique,
    make_override,
    merge_overrides,
    names_record,
    rename_result,
)
from segmint.pipeline import SegmentationResult
from segmint.profile import SegmentProfile, profile_frame, profiles_table
from segmint.report import render_report
from segmint.selection import Selection

PROFILES_JSON = "profiles.json"
CHARTS_JSON = "charts.json"
CANDIDATES = "candidates"
OVERRIDES = "overrides.json"


@dataclass(frozen=True)
class PreviousRun:
    """What an earlier run in the same folder leaves for the next one."""

    overrides: list[NameOverride] = field(default_factory=list)
    centers: dict[int, np.ndarray] = field(default_factory=dict)
    candidates: dict[str, Any] = field(default_factory=dict)
    comparison: dict[str, Any] | None = None
    folder: Path | None = None

    def reuse_for(
        self, k: Any, seed: int | None, algorithm: str = "kmeans"
    ) -> ReusedCandidate | None:
        """The saved candidate for a fixed ``k`` fitted with the same seed, if any.

        Candidates are k-means fits: they stand in for a k-means fit only.
        """
        if algorithm != self.candidates.get("algorithm", "kmeans"):
            return None
        if (
            not isinstance(k, (int, np.integer))
            or isinstance(k, bool)
            or int(k) not in self.centers
        ):
            return None
        if self.candidates.get("seed") != seed:
            return None
        return ReusedCandidate(
            centers=self.centers[int(k)],
            selection=self.candidates.get("selection") or {},
            origin=f"the --compare run in {self.folder}",
            matrix_sha256=str(self.candidates.get("matrix_sha256", "")),
        )


def read_previous(out: str | os.PathLike[str]) -> PreviousRun:
    """Overrides and saved candidates of the run in ``out`` (nothing when absent or unreadable)."""
    folder = Path(out)
    overrides: list[NameOverride] = []
    path = folder / "model" / OVERRIDES
    if path.is_file():
        try:
            overrides = [NameOverride.from_dict(o) for o in json.loads(path.read_text("utf-8"))]
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{path}: not a valid overrides file ({exc})") from exc
    centers: dict[int, np.ndarray] = {}
    meta: dict[str, Any] = {}
    comparison = None
    meta_path = folder / CANDIDATES / "candidates.json"
    arrays = folder / CANDIDATES / "centers.npz"
    if meta_path.is_file() and arrays.is_file():
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
            with np.load(arrays, allow_pickle=False) as saved:
                centers = {
                    int(name[1:]): saved[name] for name in saved.files if name.startswith("k")
                }
            summary = json.loads((folder / "summary.json").read_text("utf-8"))
            comparison = summary.get("comparison")
        except (OSError, ValueError, KeyError):
            centers, meta, comparison = {}, {}, None  # a broken cache is only a missed reuse
    return PreviousRun(overrides, centers, meta, comparison, folder)


@dataclass(frozen=True)
class Extras:
    """What a fit adds to the basic outputs (see the module docstring)."""

    exhibits: Exhibits
    population: dict[str, Any]
    overrides: list[NameOverride]
    comparison: dict[str, Any] | None = None
    centers: dict[int, np.ndarray] = field(default_factory=dict)
    candidates: dict[str, Any] = field(default_factory=dict)
    candidate_profiles: dict[int, pd.DataFrame] = field(default_factory=dict)
    carry_from: Path | None = None


def build_extras(
    result: SegmentationResult,
    *,
    seed: int | None,
    compare_ks: Sequence[int] | None = None,
    previous: PreviousRun | None = None,
) -> tuple[SegmentationResult, Extras]:
    """Re-apply a previous run's overrides, compare candidate ks, compute the chart data.

    Returns the (possibly renamed) result and the extras to write with it.
    """
    previous = previous or PreviousRun()
    result = rename_result(result, previous.overrides)
    preparation = result.model.preparation
    matrix, _ = preparation.transform(result.features)
    fingerprint = matrix_fingerprint(matrix)
    values = profile_frame(result.features, preparation)
    labels = result.labels
    comparison: KComparison | None = None
    algorithm = str(result.summary.get("algorithm", "kmeans"))
    if compare_ks:
        chosen = None
        if algorithm == "kmeans":  # the final fit is the candidate of its k: no refit
            _, confidence = nearest_centers(matrix, result.model.centers)
            chosen = KMeansFit(
                result.model.centers,
                labels,
                confidence,
                Selection(k=result.model.k, mode="", rule="", reasons=[]),
            )
        comparison = compare_k(
            matrix,
            values,
            compare_ks,
            random_state=seed,
            ids=result.features["customer_id"],
            chosen=chosen,
        )
    exhibits = build_exhibits(
        matrix=matrix,
        labels=labels,
        values=values,
        customers=result.features,
        preparation=preparation,
        algorithm=algorithm,
        random_state=seed,
    )
    population = exhibits.population
    if comparison is not None:
        return result, Extras(
            exhibits=exhibits,
            population=population,
            overrides=previous.overrides,
            comparison={**comparison.to_dict(), "chosen": result.model.k, "algorithm": "kmeans"},
            centers={c.k: c.centers for c in comparison.candidates},
            candidates={
                "algorithm": "kmeans",
                "seed": seed,
                "matrix_sha256": fingerprint,
                "ks": comparison.ks,
                "chosen": result.model.k,
                "selection": result.model.selection,
            },
            candidate_profiles={c.k: profiles_table(c.profiles) for c in comparison.candidates},
        )
    carried = (
        bool(previous.centers)
        and previous.candidates.get("matrix_sha256") == fingerprint
        and previous.candidates.get("seed") == seed
    )
    if not carried:
        return result, Extras(
            exhibits=exhibits, population=population, overrides=previous.overrides
        )
    # Same prepared data and seed: the candidates still hold; the comparison now marks
    # the k this run uses.
    comparison_dict = dict(previous.comparison or {})
    if comparison_dict:
        comparison_dict["chosen"] = result.model.k
    return result, Extras(
        exhibits=exhibits,
        population=population,
        overrides=previous.overrides,
        comparison=comparison_dict or None,
        centers=previous.centers,
        candidates={**previous.candidates, "chosen": result.model.k},
        carry_from=previous.folder / CANDIDATES if previous.folder else None,
    )


def profiles_document(
    summary: dict[str, Any], profiles: Sequence[SegmentProfile], population: dict[str, Any]
) -> dict[str, Any]:
    """The content of ``profiles.json``."""
    return {
        "segmint_version": summary.get("segmint_version"),
        "source": summary.get("source"),
        "n_customers": summary.get("n_customers"),
        "k": summary.get("k"),
        "population": population,
        "outcome": summary.get("outcome"),
        "segments": [p.to_dict() for p in profiles],
    }


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, default=_jsonable, allow_nan=False) + "\n"


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def _clean(value: Any) -> Any:
    """NaN and infinities become null (JSON has no NaN)."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def write_extras(
    folder: Path, result: SegmentationResult, summary: dict[str, Any], extras: Extras
) -> None:
    """Write ``profiles.json``, ``charts.json``, ``candidates/`` and ``model/overrides.json``."""
    (folder / PROFILES_JSON).write_text(
        _json(_clean(profiles_document(summary, result.profiles, extras.population))),
        encoding="utf-8",
    )
    (folder / CHARTS_JSON).write_text(_json(extras.exhibits.to_dict()), encoding="utf-8")
    if extras.centers:
        target = folder / CANDIDATES
        target.mkdir(exist_ok=True)
        buffer = io.BytesIO()
        arrays: dict[str, Any] = {f"k{k}": c for k, c in sorted(extras.centers.items())}
        np.savez(buffer, **arrays)
        (target / "centers.npz").write_bytes(buffer.getvalue())
        (target / "candidates.json").write_text(_json(_clean(extras.candidates)), encoding="utf-8")
        for k, table in sorted(extras.candidate_profiles.items()):
            write_table(table, target / f"k{k}-profiles.csv")
        if extras.carry_from is not None and extras.carry_from.is_dir():
            for path in sorted(extras.carry_from.glob("k*-profiles.csv")):
                shutil.copy2(path, target / path.name)
    if extras.overrides:
        (folder / "model" / OVERRIDES).write_text(
            _json([o.to_dict() for o in extras.overrides]), encoding="utf-8"
        )


# ------------------------------------------------------------------ renaming a finished run


@dataclass(frozen=True)
class NameChange:
    """One requested change: segment id, new name, new action (None: keep)."""

    segment: int
    name: str
    action: str | None = None


def read_names_file(path: str | os.PathLike[str]) -> list[NameChange]:
    """Name changes from a CSV, JSON or TOML file.

    * CSV: a header with ``segment`` (or ``id``), ``name`` and optionally ``action``.
    * JSON: a list of ``{"segment": 0, "name": "...", "action": "..."}`` (or under a
      ``"segments"`` key), or an object mapping ids to a name or to such an object.
    * TOML: ``[[segments]]`` tables with ``segment``, ``name``, ``action``; or a
      ``[segments]`` table mapping ids (as keys) to names.
    """
    source = Path(path)
    if not source.is_file():
        raise UsageError(f"{source}: no such names file")
    text = source.read_text(encoding="utf-8-sig")
    suffix = source.suffix.lower()
    try:
        if suffix == ".csv":
            records: Any = list(csv.DictReader(io.StringIO(text)))
        elif suffix == ".json":
            records = json.loads(text)
        elif suffix == ".toml":
            records = tomllib.loads(text)
        else:
            raise UsageError(f"{source}: names file must be .csv, .json or .toml")
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"{source}: cannot read names file ({exc})") from exc
    return _changes(records, source)


def _changes(records: Any, source: Path) -> list[NameChange]:
    if isinstance(records, dict):
        inner = records.get("segments", records.get("segment", records))
        if isinstance(inner, list):
            records = inner
        elif isinstance(inner, dict):
            records = [
                {"segment": key, **(value if isinstance(value, dict) else {"name": value})}
                for key, value in inner.items()
            ]
    if not isinstance(records, list) or not records:
        raise UsageError(f"{source}: no segment names found (expected segment, name[, action])")
    changes = []
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise UsageError(f"{source}: entry {number} is not a table of segment, name, action")
        record = {str(k).strip().lower(): v for k, v in record.items() if k is not None}
        segment = record.get("segment", record.get("id"))
        try:
            segment_id = int(str(segment).strip())
        except (TypeError, ValueError):
            raise UsageError(
                f"{source}: entry {number} has no valid segment id ({segment!r})"
            ) from None
        name = check_name(str(record.get("name") or ""), what=f"{source}: entry {number}: name")
        action = record.get("action")
        action = None if action is None or not str(action).strip() else str(action)
        changes.append(NameChange(segment_id, name, action))
    return changes


def _load_run(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any], list[SegmentProfile]]:
    for needed in ("summary.json", PROFILES_JSON):
        if not (run_dir / needed).is_file():
            if not run_dir.is_dir():
                raise UsageError(f"{run_dir}: no such run folder")
            raise ModelError(
                f"{run_dir}: not a segmint run folder of this version ({needed} missing)"
            )
    try:
        summary = json.loads((run_dir / "summary.json").read_text("utf-8"))
        document = json.loads((run_dir / PROFILES_JSON).read_text("utf-8"))
        profiles = [SegmentProfile.from_dict(p) for p in document["segments"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelError(f"{run_dir}: unreadable run files ({exc})") from exc
    return summary, document, profiles


def render_run(run_dir: str | os.PathLike[str]) -> str:
    """The report of a run folder, drawn again from its files."""
    folder = Path(run_dir)
    summary, _, profiles = _load_run(folder)
    charts = folder / CHARTS_JSON
    exhibits = json.loads(charts.read_text("utf-8")) if charts.is_file() else None
    return render_report(summary, profiles, exhibits)


def rename_run(
    run_dir: str | os.PathLike[str], changes: Sequence[NameChange]
) -> list[SegmentProfile]:
    """Rename segments of a run folder and store the overrides.

    Updates ``model/`` (so ``assign`` uses the names), ``segments.csv``,
    ``profiles.csv``, ``profiles.json``, ``summary.json``, ``report.html`` and
    ``model/overrides.json``, all at once (a failure changes nothing).

    Raises
    ------
    UsageError
        An unknown segment id, or two segments that would share a name.
    """
    folder = Path(run_dir)
    summary, document, profiles = _load_run(folder)
    by_id = {p.id: p for p in profiles}
    for change in changes:
        if change.segment not in by_id:
            known = ", ".join(str(i) for i in by_id)
            raise UsageError(f"{folder}: no segment {change.segment} (segments: {known})")
    current = {p.id: p.name for p in profiles}
    requested = [c.name for c in changes]
    for change in changes:
        if requested.count(change.name) > 1:
            raise UsageError(
                f"name {change.name!r} is given to more than one segment; names must be unique"
            )
        for seg, name in current.items():
            if (
                name == change.name
                and seg != change.segment
                and seg not in {c.segment for c in changes}
            ):
                raise UsageError(
                    f"name {change.name!r} is segment {seg}'s name; names must be unique "
                    "(rename that segment too)"
                )
    scale = (document.get("population") or {}).get("std") or {}
    previous = read_previous(folder)
    fresh = [make_override(by_id[c.segment], scale, c.name, c.action) for c in changes]
    overrides = merge_overrides(previous.overrides, fresh)
    renamed, applied = apply_overrides(profiles, overrides)
    # The segments named just now must carry their new names exactly.
    wanted = {c.segment: c.name for c in changes}
    renamed = [
        dataclasses.replace(p, name=wanted[p.id], name_source="override") if p.id in wanted else p
        for p in renamed
    ]
    check_unique(renamed)
    names = {p.id: p.name for p in renamed}
    actions = {p.id: p.action for p in renamed}
    for change in changes:
        if change.action is not None:
            actions[change.segment] = " ".join(change.action.split())
    renamed = [dataclasses.replace(p, action=actions[p.id]) for p in renamed]

    def write(staging: Path) -> None:
        model = load_model(staging / "model")
        segments = [
            {
                **s,
                "name": names.get(s["id"], s["name"]),
                "action": actions.get(s["id"], s["action"]),
            }
            for s in model.segments
        ]
        model = dataclasses.replace(model, segments=segments)
        save_model(model, staging / "model")
        assignments = pd.read_csv(
            staging / "segments.csv", dtype={"customer_id": "string"}, keep_default_na=False
        )
        assignments["segment_name"] = [names.get(int(s), "") for s in assignments["segment"]]
        write_table(assignments, staging / "segments.csv")
        summary["segments"] = segments
        summary["model_fingerprint"] = model.fingerprint()
        summary["names"] = names_record(overrides, {seg: o for seg, o in applied.items()})
        if summary.get("outcome"):
            summary["outcome"]["segments"] = [
                {**row, "name": names.get(row["segment"], row["name"])}
                for row in summary["outcome"]["segments"]
            ]
        document["segments"] = [p.to_dict() for p in renamed]
        document["outcome"] = summary.get("outcome")
        write_table(profiles_table(renamed, summary.get("outcome")), staging / "profiles.csv")
        (staging / PROFILES_JSON).write_text(_json(_clean(document)), encoding="utf-8")
        (staging / "summary.json").write_text(
            json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8"
        )
        (staging / "model" / OVERRIDES).write_text(
            _json([o.to_dict() for o in overrides]), encoding="utf-8"
        )
        charts = staging / CHARTS_JSON
        exhibits = json.loads(charts.read_text("utf-8")) if charts.is_file() else None
        (staging / "report.html").write_text(
            render_report(summary, renamed, exhibits), encoding="utf-8"
        )

    replace_folder(folder, write)
    return renamed


def replace_folder(folder: Path, change: Callable[[Path], None]) -> None:
    """Apply ``change`` to a copy of ``folder`` and swap the copy in (all or nothing)."""
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.new-"))
    try:
        shutil.copytree(folder, staging, dirs_exist_ok=True)
        change(staging)
        retired = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.old-"))
        retired.rmdir()
        os.replace(folder, retired)
        os.replace(staging, folder)
        shutil.rmtree(retired, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
