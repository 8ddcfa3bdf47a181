"""The main job on files: read, segment, write every output atomically.

Used by the command-line tool (and later the service). Outputs of ``fit`` go to a new
folder built beside the target and swapped in only when complete, so a failed run leaves
what was there before untouched and never a half-written folder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from segmint.artifacts import load_model, save_model
from segmint.batch import assign_parquet
from segmint.customers import output_table
from segmint.errors import ModelError, UsageError
from segmint.features.spec import FeatureSpec
from segmint.featurize import (
    FitInput,
    IdPolicy,
    assign_log,
    open_for_fit,
    pseudonymise_loaded,
    streamable,
)
from segmint.io import LoadedTable, read_table, write_table
from segmint.model import KSpec, parse_k
from segmint.pipeline import (
    Assignment,
    SegmentationModel,
    SegmentationResult,
    segment,
)
from segmint.report import render_report
from segmint.rundir import build_extras, read_previous, write_extras

Progress = Callable[[str], None]
OUTPUT_FILES = (
    "segments.csv", "excluded.csv", "profiles.csv", "profiles.json", "summary.json", "report.html",
    "charts.json", "model",
)  # fmt: skip


@dataclass(frozen=True)
class FitRun:
    """A finished ``fit``: where the outputs are and what they say."""

    out_dir: Path
    result: SegmentationResult
    summary: dict[str, Any]


def _noop(_: str) -> None:
    return None


def fit_file(
    data: str | os.PathLike[str] | LoadedTable,
    *,
    out_dir: str | os.PathLike[str] = "segmint-output",
    k: KSpec = "auto",
    customer_col: str | None = None,
    input_kind: Literal["auto", "customers", "transactions"] = "auto",
    sheet: str | None = None,
    as_of: str | None = None,
    exclude: tuple[str, ...] = (),
    seed: int = 0,
    progress: Progress = _noop,
    on_result: Callable[[SegmentationResult, LoadedTable], SegmentationResult] | None = None,
    outcome: str | None = None,
    compare: bool = False,
    spec: FeatureSpec | None = None,
    ids: IdPolicy | None = None,
    id_map: str | os.PathLike[str] | None = None,
    detail: Callable[[str, float | None], None] | None = None,
    algorithm: str = "auto",
    within: str | None = None,
    keep_sentinels: bool = False,
    keep: tuple[str, ...] = (),
) -> FitRun:
    """Segment the customers in a data file and write the outputs to ``out_dir``.

    Writes ``segments.csv``, ``excluded.csv``, ``profiles.csv``, ``summary.json``,
    ``report.html`` and ``model/``. See :func:`segmint.segment` for the parameters.
    ``data`` may also be an already loaded table (e.g. from a database); ``on_result``
    may replace the result before anything is written (a workspace gives it stable ids).
    ``outcome`` is reported per segment, never used as a feature; ``compare`` fits and
    profiles every k of the range side by side (see :mod:`segmint.rundir` for the files,
    the names a person gave that are re-applied, and the reuse of saved candidates).
    A transaction log in CSV/TSV/Parquet is streamed through DuckDB with ``spec``
    (:mod:`segmint.featurize`); ``ids`` pseudonymises customer ids in every output, the
    mapping written to ``id_map`` only when given; ``detail(step, percent)`` follows the
    steps of a streamed log. ``keep_sentinels`` keeps placeholder and impossible values
    (:mod:`segmint.sentinels`) as they are instead of setting them to missing; ``keep``
    lists columns kept even when the segments are only their levels (see
    :func:`segmint.segment`).
    """
    out = Path(out_dir)
    check_output_dir(out)
    compare_ks = _compare_ks(k) if compare else None
    previous = read_previous(out) if (out / "summary.json").is_file() else None
    timings: dict[str, float] = {}
    started = time.perf_counter()

    progress("reading data")
    fit_input = None
    if isinstance(data, LoadedTable):
        loaded = data
    else:
        fit_input = open_for_fit(
            data, sheet=sheet, input_kind=input_kind, customer_col=customer_col, as_of=as_of,
            spec=spec, ids=ids, stream=on_result is None and outcome is None, progress=detail,
        )  # fmt: skip
        loaded = fit_input.loaded
        if id_map is not None and fit_input.id_map is None:
            raise UsageError("--id-map needs pseudonymised ids: add --hash-ids")
    timings["read"] = time.perf_counter() - started

    progress("deriving features, choosing k and fitting")
    t0 = time.perf_counter()
    result = segment(
        loaded.frame,
        k=k,
        customer_col=customer_col,
        input_kind=input_kind,
        as_of=as_of,
        random_state=seed,
        source=loaded.source,
        outcome=outcome,
        reuse=(
            previous.reuse_for(k, seed)
            if previous is not None and algorithm in ("auto", "kmeans") and within is None
            else None
        ),
        algorithm=algorithm,
        within=within,
        keep_sentinels=keep_sentinels,
        keep=keep,
        **_feature_inputs(fit_input, exclude, spec),
    )
    if on_result is not None:
        result = on_result(result, loaded)
    timings["segment"] = time.perf_counter() - t0
    result, extras = build_extras(result, seed=seed, compare_ks=compare_ks, previous=previous)
    timings["profiles_and_charts"] = time.perf_counter() - t0 - timings["segment"]

    progress("writing outputs")
    t0 = time.perf_counter()
    summary = dict(result.summary)
    summary["load"] = {"format": loaded.format, **loaded.details}
    if loaded.details.get("warnings"):  # how the file was read (no header row, ...)
        summary["warnings"] = [*loaded.details["warnings"], *summary.get("warnings", [])]
    summary["created"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if fit_input is not None:
        summary["personal_data"] = [p.to_dict() for p in fit_input.pii]
        summary["ids"] = fit_input.ids
    if result.model.params.get("feature_spec_hash"):
        summary["feature_spec_hash"] = result.model.params["feature_spec_hash"]
    summary["outputs"] = list(OUTPUT_FILES) + (["candidates"] if extras.centers else [])
    if extras.comparison:
        summary["comparison"] = extras.comparison

    def write(folder: Path) -> None:
        account = result.model.training.get("account") or {}
        write_table(output_table(result.assignments, account), folder / "segments.csv")
        write_table(output_table(result.excluded, account), folder / "excluded.csv")
        write_table(result.profiles_table(), folder / "profiles.csv")
        save_model(result.model, folder / "model")
        write_extras(folder, result, summary, extras)
        report = render_report(summary, result.profiles, extras.exhibits)
        (folder / "report.html").write_text(report, encoding="utf-8")
        timings["write"] = time.perf_counter() - t0
        timings["total"] = time.perf_counter() - started
        summary["timings_seconds"] = {key: round(value, 3) for key, value in timings.items()}
        (folder / "summary.json").write_text(
            json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8"
        )

    write_folder_atomically(out, write)
    if id_map is not None and fit_input is not None and fit_input.id_map is not None:
        write_table(fit_input.id_map, id_map)
    return FitRun(out_dir=out, result=result, summary=summary)


def _feature_inputs(
    fit_input: FitInput | None, exclude: tuple[str, ...], spec: FeatureSpec | None
) -> dict[str, Any]:
    """segment()'s arguments from what open_for_fit found: roles, streamed features,
    the spec, and personal-data columns kept out of the features."""
    if fit_input is None:
        return {"exclude": exclude, "spec": spec}
    roles = fit_input.roles
    personal = tuple(
        p.column for p in fit_input.pii
        if roles is None or (p.column != roles.customer and roles.kind == "customers")
    )  # fmt: skip
    return {
        "exclude": tuple(dict.fromkeys((*exclude, *personal))),
        "spec": fit_input.spec or spec,
        "roles": roles,
        "table": fit_input.table,
    }


def _compare_ks(k: KSpec) -> list[int]:
    """The ks ``--compare`` fits: the range (or auto's 2..10); a fixed k is a usage error."""
    mode, (low, high) = parse_k(k)
    if mode == "fixed":
        raise UsageError(f"--compare needs a range of k (e.g. --k 3-7), not a single k = {low}")
    return list(range(low, high + 1))


def check_output_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out}: --out must be a folder, and this is a file")
    if out.is_dir() and any(out.iterdir()) and not (out / "summary.json").is_file():
        raise UsageError(
            f"{out}: folder exists and is not a segmint output folder; choose another --out"
        )


def write_folder_atomically(out: Path, write: Callable[[Path], None]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.new-"))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # mkdtemp makes it private; the result is an ordinary folder
    try:
        write(staging)
        if out.exists():
            retired = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
            retired.rmdir()
            os.replace(out, retired)
            os.replace(staging, out)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def resolve_model_dir(path: str | os.PathLike[str]) -> Path:
    """Accept a run folder (with ``model/`` inside), the model folder itself, or a workspace
    (its serving model)."""
    folder = Path(path)
    if (folder / "segmint.duckdb").is_file():
        from segmint.store import Workspace

        workspace = Workspace(folder)
        champion = workspace.state().champion
        if champion is None:
            raise ModelError(f"{folder}: the workspace has no model yet")
        return workspace.model_dir(champion)
    if (folder / "model" / "model.json").is_file():
        return folder / "model"
    if (folder / "model.json").is_file():
        return folder
    if not folder.exists():
        raise UsageError(f"{folder}: no such model folder")
    raise ModelError(f"{folder}: not a segmint model or run folder (no model.json)")


def _check_workspace_salt(path: str | os.PathLike[str], ids: IdPolicy | None) -> None:
    """A workspace whose ids are pseudonymised labels customers under the same pseudonyms:
    ``--hash-ids`` with the salt of its first fit is required."""
    folder = Path(path)
    if not (folder / "segmint.duckdb").is_file():
        return
    from segmint.store import Workspace, salt_check

    recorded = Workspace(folder).state().id_salt_check
    if recorded is None:
        return
    if ids is None or not ids.hash_ids or not ids.salt:
        raise UsageError(
            f"{folder}: the workspace's customer ids are pseudonymised; assign with --hash-ids "
            "and the salt of its first fit (--salt or SEGMINT_ID_SALT)"
        )
    if salt_check(ids.salt) != recorded:
        raise UsageError(
            f"{folder}: --salt is not the salt this workspace's customer ids were "
            "pseudonymised with"
        )


@dataclass(frozen=True)
class AssignRun:
    """A finished ``assign``."""

    model: SegmentationModel
    assignment: Assignment
    out: Path | None
    excluded_out: Path | None


def assign_file(
    model_dir: str | os.PathLike[str] | SegmentationModel,
    data: str | os.PathLike[str] | LoadedTable,
    *,
    out: str | os.PathLike[str] | None = None,
    sheet: str | None = None,
    as_of: str | None = None,
    progress: Progress = _noop,
    ids: IdPolicy | None = None,
    names: Mapping[int, str] | None = None,
) -> AssignRun:
    """Label the customers in ``data`` with a saved model.

    With ``out`` the labels are written there (CSV or Parquet by extension) and excluded
    customers beside it as ``<stem>.excluded.csv``; without, nothing is written and the
    caller prints the result.  A transaction log in CSV/TSV/Parquet is streamed, its
    features recomputed with the model's feature spec.  ``ids`` pseudonymises the ids
    (with the fit's salt, the pseudonyms match the fit's).  ``model_dir`` may also be a
    model already loaded (a service's serving model); ``names`` replace the names of those
    segments (a workspace's renames).
    """
    progress("loading model")
    if isinstance(model_dir, SegmentationModel):
        model = model_dir
    else:
        _check_workspace_salt(model_dir, ids)
        model = load_model(resolve_model_dir(model_dir))
    progress("reading data")
    if not isinstance(data, LoadedTable) and sheet is None and streamable(data, model):
        progress("assigning")
        assignment, _ = assign_log(model, data, as_of=as_of, ids=ids)
    else:
        hashing = ids is not None and ids.hash_ids and model.roles.customer is not None
        fast = None
        if not isinstance(data, LoadedTable) and sheet is None and not hashing:
            fast = assign_parquet(model, data)  # a Parquet customer table: the columns used
        if fast is not None:
            assignment = fast
        else:
            loaded = data if isinstance(data, LoadedTable) else read_table(data, sheet=sheet)
            if ids is not None and hashing:
                loaded = pseudonymise_loaded(loaded, ids, roles=model.roles).loaded
            progress("assigning")
            assignment = model.assign(loaded.frame, source=loaded.source, as_of=as_of)
    if names:
        labels = assignment.assignments
        renamed = labels["segment"].map(dict(names))
        labels["segment_name"] = renamed.where(renamed.notna(), labels["segment_name"])
    if out is None:
        return AssignRun(model, assignment, None, None)
    target = Path(out)
    if target.is_dir():
        raise UsageError(f"{target}: --out must be a file name, and this is a folder")
    progress("writing")
    write_table(output_table(assignment.assignments, assignment.account), target)
    excluded_out = None
    beside = target.with_name(f"{target.stem}.excluded.csv")
    if len(assignment.excluded):
        excluded_out = beside
        write_table(output_table(assignment.excluded, assignment.account), excluded_out)
    elif beside.is_file():
        beside.unlink()  # left by an earlier run into the same --out; it would now mislead
    return AssignRun(model, assignment, target, excluded_out)


def read_assignments(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a ``segments.csv`` with ids as text."""
    return pd.read_csv(path, dtype={"customer_id": "string"}, keep_default_na=False)
