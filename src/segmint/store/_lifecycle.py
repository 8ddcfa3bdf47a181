"""Fit, refresh, roll back and rename in a workspace.

A *refresh* derives features from new data exactly as the serving model (the
*champion*) did (same column roles, k specification, exclusions and seed), fits a
*challenger*, matches its segments to the champion's so ids and names persist
(:mod:`segmint.matching`), and lets the challenger serve only when it is at least as
good and as stable; otherwise the champion labels the new data and the reasons are
recorded. Either way the run, the challenger's model version, the labels served, the
migration from the previous run and the decision are recorded atomically.

Pseudonymous ids (``salt=``): the customer ids of every run are replaced by
``sha256(salt:id)`` (:mod:`segmint.features.pii`) before anything is derived or stored.
The salt itself is never stored: the first fit records only a check value
(``sha256("segmint-id-salt-check:" + salt)``, 16 hex digits), and every later fit, refresh
and monitor must give the same salt, or stops with a usage error instead of counting
every customer as new.

Stages: a write passes, in order, the :data:`STAGES` ``fitted`` (the new model exists in
memory), ``model-written`` (its version folder is on disk), ``run-folder-written``,
``before-commit`` (everything on disk, the database not yet told) and ``committed``. The
writers take ``on_stage``, called with each stage's name as the write reaches it: to show
progress, or to stop the process at a stage and check that the workspace survives a crash
there (a kill at any stage leaves either the old state or the new one).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from segmint.algorithms import UNASSIGNED
from segmint.customers import CustomerTable
from segmint.errors import DataError, UsageError
from segmint.features.roles import ColumnRoles
from segmint.featurize import IdPolicy, pseudonymise_loaded
from segmint.io import LoadedTable, write_table
from segmint.matching import (
    MatchRule,
    PromotionDecision,
    PromotionRule,
    SegmentMatch,
    match_refit,
    promotion_decision,
    relabel,
)
from segmint.monitor import Migration, migration
from segmint.pipeline import SegmentationModel, SegmentationResult, segment
from segmint.report.migration import render_migration
from segmint.store._workspace import RunRecord, Workspace, WorkspaceState, run_id_for

Progress = Callable[[str], None]


def _noop(_: str) -> None:
    return None


STAGES = ("fitted", "model-written", "run-folder-written", "before-commit", "committed")


def data_fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's column names and values (row order matters), 16 hex digits."""
    digest = hashlib.sha256(json.dumps([str(c) for c in frame.columns]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


SALT_CHECK_PREFIX = "segmint-id-salt-check:"


def salt_check(salt: str) -> str:
    """The value a workspace keeps to recognise its salt (never the salt itself)."""
    return hashlib.sha256(f"{SALT_CHECK_PREFIX}{salt}".encode()).hexdigest()[:16]


def check_salt(ws: Workspace, state: WorkspaceState, salt: str | None) -> str | None:
    """The salt check to record, after making sure ``salt`` fits the workspace.

    Raises
    ------
    UsageError
        The workspace's ids are pseudonymised and no salt or another salt is given, or
        a salt is given for a workspace that holds ids as they are.
    """
    recorded = state.id_salt_check
    if recorded is None:
        if salt is not None and state.latest_run is not None:
            raise UsageError(
                f"{ws.path}: the workspace holds customer ids as they are; pseudonymised ids "
                "(--hash-ids, --salt, SEGMINT_ID_SALT) need a new workspace"
            )
        return None if salt is None else salt_check(salt)
    if not salt:
        raise UsageError(
            f"{ws.path}: the workspace's customer ids are pseudonymised; give the salt of its "
            "first fit (--salt or SEGMINT_ID_SALT)"
        )
    if salt_check(salt) != recorded:
        raise UsageError(
            f"{ws.path}: --salt is not the salt this workspace's customer ids were "
            "pseudonymised with"
        )
    return recorded


def pseudonymised(
    data: LoadedTable,
    salt: str,
    *,
    roles: ColumnRoles | None = None,
    customer_col: str | None = None,
    input_kind: Any = "auto",
) -> tuple[LoadedTable, pd.DataFrame | None]:
    """``data`` with its customer ids replaced by ``sha256(salt:id)``, and the mapping."""
    found = pseudonymise_loaded(
        data,
        IdPolicy(hash_ids=True, salt=salt),
        customer_col=customer_col,
        roles=roles,
        input_kind=input_kind,
    )
    return found.loaded, found.id_map


def _used_ids(ws: Workspace) -> set[int]:
    """Every segment id of every stored model version."""
    return {int(s["id"]) for segments in ws.models()["segments"] for s in segments or []}


def chosen_silhouette(model: SegmentationModel) -> float | None:
    """The silhouette the model's k was chosen with, when recorded."""
    k = model.selection.get("k")
    for score in model.selection.get("scores", []):
        if score.get("k") == k and score.get("silhouette") is not None:
            return round(float(score["silhouette"]), 6)
    return None


def with_names(assignments: pd.DataFrame, overrides: dict[int, dict[str, str]]) -> pd.DataFrame:
    """Assignments with the names people gave to segment ids."""
    if not overrides:
        return assignments
    out = assignments.copy()
    names = {k: v["name"] for k, v in overrides.items() if v.get("name")}
    renamed = out["segment"].map(names)
    out["segment_name"] = renamed.where(renamed.notna(), out["segment_name"]).astype(str)
    return out


@dataclass(frozen=True)
class RunOutcome:
    """What a fit, refresh or rollback did.

    Attributes
    ----------
    run_id : str
    kind : {"fit", "refresh", "rollback"}
    promoted : bool
        Whether the model fitted (or rolled back to) now serves.
    champion : str
        Version serving after the run.
    previous_champion : str or None
    model_version : str or None
        Version fitted in the run (the challenger of a refresh).
    decision : PromotionDecision or None
    match : SegmentMatch or None
    continued, new_segments, retired_segments : list of dict
        ``{"id", "name", ...}`` of segments that persist, appear and disappear.
    migration : Migration or None
        From the previous run's labels to this run's.
    serving : DataFrame
        The labels this run serves.
    result : SegmentationResult or None
        The fit with stable ids (None for a rollback).
    run_dir : Path
    summary : dict
        What the run folder's ``summary.json`` holds.
    """

    run_id: str
    kind: str
    promoted: bool
    champion: str
    previous_champion: str | None
    model_version: str | None
    decision: PromotionDecision | None
    match: SegmentMatch | None
    continued: list[dict[str, Any]]
    new_segments: list[dict[str, Any]]
    retired_segments: list[dict[str, Any]]
    migration: Migration | None
    serving: pd.DataFrame
    result: SegmentationResult | None
    run_dir: Path
    summary: dict[str, Any] = field(default_factory=dict)


# The stored parameters of a model that a refresh passes to segment() again, besides k, the
# seed and the exclusions (the feature spec goes through feature_options).
REPLAYED_PARAMS = ("algorithm", "within", "keep")


def _segment_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """The refit parameters of a model: k, seed, exclusions and REPLAYED_PARAMS."""
    k = params.get("k", "auto")
    kwargs: dict[str, Any] = {
        "k": tuple(k) if isinstance(k, list) else k,
        "random_state": params.get("random_state", 0),
        "exclude": tuple(params.get("exclude") or ()),
    }
    for key in REPLAYED_PARAMS:
        if key in params:
            kwargs[key] = tuple(params[key]) if key == "keep" else params[key]
    return kwargs


def feature_options(model: SegmentationModel) -> dict[str, Any]:
    """``spec=`` the model's resolved feature spec, when it has one, so new data gets the
    same features (for :func:`segmint.segment` and :func:`segmint.pipeline.customer_table`)."""
    getter = getattr(model, "feature_spec", None)
    spec = getter() if callable(getter) else None
    return {} if spec is None else {"spec": spec}


def fit_into_workspace(
    workspace: str | os.PathLike[str] | Workspace,
    data: LoadedTable,
    result: SegmentationResult,
    *,
    as_of: str | None = None,
    progress: Progress = _noop,
    salt: str | None = None,
    on_stage: Progress = _noop,
) -> RunOutcome:
    """Record a fit in a workspace.

    In a new workspace the model becomes the champion with ids 0..k-1. In a workspace
    that already serves a model, the fit is matched to it (ids and names persist) and
    replaces it unconditionally: an explicit fit is the user's decision (a refresh is the
    one that judges). ``salt``: the salt the result's customer ids were pseudonymised
    with (checked against the workspace's; see the module docstring). ``on_stage``: called
    with each of :data:`STAGES` as the write reaches it.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    with ws.writer():
        state = ws.state()
        check = check_salt(ws, state, salt)
        return _record(
            ws, state, data, result, kind="fit", as_of=as_of, force=True, progress=progress,
            salt_check=check, on_stage=on_stage,
        )  # fmt: skip


def refresh_workspace(
    workspace: str | os.PathLike[str] | Workspace,
    data: LoadedTable,
    *,
    as_of: str | None = None,
    rule: PromotionRule | None = None,
    match_rule: MatchRule | None = None,
    progress: Progress = _noop,
    salt: str | None = None,
    table: CustomerTable | None = None,
    on_stage: Progress = _noop,
) -> RunOutcome:
    """Refit on new data the way the serving model was fitted, keep ids, decide who serves.

    Parameters
    ----------
    workspace : path or Workspace
    data : LoadedTable
        The new data (same shape as the champion's: transaction log or customer table).
    as_of : str, optional
        Transaction logs: features as of this date (default: the day after the last one).
    rule : PromotionRule, optional
        Champion/challenger rule (see :mod:`segmint.matching`).
    match_rule : MatchRule, optional
    progress : callable, optional
        Called with the name of each step.
    salt : str, optional
        The salt of a workspace whose customer ids are pseudonymised (required there).
    table : CustomerTable, optional
        The customer features of ``data`` already derived with the serving model's spec
        (``refresh --engine spark``); ``data.frame`` then only needs the log's columns,
        and the run's data fingerprint is that of these features.
    on_stage : callable, optional
        Called with each of :data:`STAGES` as the write reaches it.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    ws.require()
    with ws.writer():
        state = ws.state()
        if state.champion is None:
            raise UsageError(
                f"{ws.path}: no model yet; run `segmint fit DATA --workspace {ws.path}`"
            )
        check = check_salt(ws, state, salt)
        champion = ws.load_model(state.champion)
        if check is not None and table is not None:
            raise UsageError(f"{ws.path}: pseudonymised ids are refreshed by the local engine")
        if check is not None and salt:
            data, _ = pseudonymised(data, salt, roles=champion.roles)
        progress("deriving features and refitting")
        result = segment(
            data.frame,
            roles=champion.roles,
            as_of=as_of,
            source=data.source,
            table=table,
            **_segment_kwargs(champion.params),
            **feature_options(champion),
        )
        return _record(
            ws,
            state,
            data if table is None else LoadedTable(table.frame, data.source, data.format),
            result,
            kind="refresh",
            as_of=as_of,
            force=False,
            progress=progress,
            rule=rule,
            match_rule=match_rule,
            salt_check=check,
            on_stage=on_stage,
        )


def _record(
    ws: Workspace,
    state: WorkspaceState,
    data: LoadedTable,
    result: SegmentationResult,
    *,
    kind: str,
    as_of: str | None,
    force: bool,
    progress: Progress,
    rule: PromotionRule | None = None,
    match_rule: MatchRule | None = None,
    salt_check: str | None = None,
    on_stage: Progress = _noop,
) -> RunOutcome:
    run_id = run_id_for(state.next_run_seq)
    previous_run = state.latest_run["run_id"] if state.latest_run else None
    previous = ws.assignments(previous_run) if previous_run else None
    on_stage("fitted")
    progress("matching segments and deciding who serves")
    match = decision = None
    continued: list[dict[str, Any]] = []
    new_segments: list[dict[str, Any]] = []
    retired: list[dict[str, Any]] = []
    if state.champion is None:
        challenger = result
        promote, reason = True, f"first model of the workspace ({kind})"
        serving = challenger.assignments
        next_id = max(int(s["id"]) for s in challenger.model.segments) + 1
        new_segments = [
            {"id": s["id"], "name": s["name"], "size": s["size"]} for s in challenger.model.segments
        ]
    else:
        champion = ws.load_model(state.champion)
        match = match_refit(champion, previous, result, rule=match_rule)
        challenger = relabel(
            result, match, champion, next_id=state.next_segment_id, overrides=state.overrides,
            used_ids=_used_ids(ws),
        )  # fmt: skip
        ids = [int(i) for i in challenger.model.segment_ids()]
        next_id = max([state.next_segment_id, *(i + 1 for i in ids)])
        try:
            champion_now, _ = champion.label_customers(result.features)
        except (DataError, KeyError, ValueError):
            champion_now = None
        decision = promotion_decision(
            champion,
            challenger,
            None if champion_now is None else champion_now["segment"].to_numpy(),
            rule=rule,
            random_state=challenger.model.params.get("random_state", 0),
        )
        promote = force or decision.promote
        if force:
            reason = "an explicit `segmint fit` replaces the model"
        elif promote:
            reason = "refresh: the new model is as good and as stable"
        else:
            reason = None
        serving = challenger.assignments if promote or champion_now is None else champion_now
        old_names = champion.segment_names()
        by_id = {int(s["id"]): s for s in challenger.model.segments}
        for pair in match.pairs:
            seg = by_id[pair.old_id]
            continued.append(
                {
                    "id": pair.old_id,
                    "name": seg["name"],
                    "size": seg["size"],
                    "suggested_name": seg.get("suggested_name"),
                    "distance": pair.distance,
                    "overlap": pair.overlap,
                }
            )
        positions = set(match.new_positions)
        centred = [s for s in challenger.model.segments if s["id"] != UNASSIGNED]
        new_segments = [
            {"id": s["id"], "name": s["name"], "size": s["size"]}
            for p, s in enumerate(centred)
            if p in positions
        ]
        retired = [{"id": i, "name": old_names[i]} for i in match.retired_ids]
    serving = with_names(serving, state.overrides)
    mig = migration(previous, serving) if previous is not None else None
    champion_after = None
    version = ws.store_model(challenger.model)
    champion_after = version if promote else str(state.champion)
    on_stage("model-written")
    fingerprint = data_fingerprint(data.frame)
    summary = {
        "run_id": run_id,
        "kind": kind,
        "source": data.source,
        "as_of": as_of,
        "data_fingerprint": fingerprint,
        "promoted": promote,
        "champion_before": state.champion,
        "champion_after": champion_after,
        "model_version": version,
        "decision": None if decision is None else decision.to_dict(),
        "reason": reason,
        "continued_segments": continued,
        "new_segments": new_segments,
        "retired_segments": retired,
        "match": None if match is None else match.to_dict(),
        "migration": None if mig is None else mig.to_dict(),
        "previous_run": previous_run,
        "n_customers": len(serving),
        "n_excluded": len(result.excluded),
        "fit": result.summary if kind == "fit" else challenger.summary,
    }
    progress("writing the run")

    def write(folder: Path) -> None:
        result.features.to_parquet(folder / "features.parquet", index=False)
        write_table(result.excluded, folder / "excluded.csv")
        write_table(serving, folder / "segments.csv")
        write_table(challenger.profiles_table(), folder / "profiles.csv")
        if mig is not None:
            _write_migration(folder, mig, previous_run or "", run_id, summary)
        (folder / "summary.json").write_text(
            json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8"
        )

    run_dir = ws.store_run_folder(run_id, write)
    on_stage("run-folder-written")
    metrics = {
        "k": challenger.model.k,
        "silhouette_fit": chosen_silhouette(challenger.model),
        **({} if decision is None else decision.metrics),
        "new_segments": len(new_segments) if state.champion is not None else 0,
        "retired_segments": len(retired),
        **(
            {}
            if mig is None
            else {
                "moved": mig.n_moved,
                "in_both": mig.n_both,
                "new_customers": mig.n_new,
                "gone_customers": mig.n_gone,
            }
        ),
    }
    params = {**challenger.model.params, "roles": challenger.model.roles.to_dict()}
    ws.commit(
        RunRecord(
            run_id=run_id,
            seq=state.next_run_seq,
            kind=kind,
            source=data.source,
            data_fingerprint=fingerprint,
            as_of=_as_of_used(result, as_of),
            params=params,
            metrics=metrics,
            model_version=version,
            serving_version=champion_after,
            promoted=promote,
            decision={"reason": reason, **({} if decision is None else decision.to_dict())},
            assignments=serving,
            n_excluded=len(result.excluded),
            previous_run=previous_run,
            new_model=challenger.model,
            model_metrics={
                "silhouette_fit": chosen_silhouette(challenger.model),
                "n_customers": len(result.assignments),
            },
            champion_reason=reason if promote else None,
            next_segment_id=next_id,
            id_salt_check=salt_check,
        ),
        before_commit=lambda: on_stage("before-commit"),
    )
    on_stage("committed")
    return RunOutcome(
        run_id=run_id,
        kind=kind,
        promoted=promote,
        champion=champion_after,
        previous_champion=state.champion,
        model_version=version,
        decision=decision,
        match=match,
        continued=continued,
        new_segments=new_segments,
        retired_segments=retired,
        migration=mig,
        serving=serving,
        result=challenger,
        run_dir=run_dir,
        summary=summary,
    )


def _as_of_used(result: SegmentationResult, as_of: str | None) -> str | None:
    used = result.summary.get("data", {}).get("as_of")
    return str(used) if used is not None else as_of


def _write_migration(
    folder: Path, mig: Migration, before: str, after: str, summary: dict[str, Any]
) -> None:
    write_table(mig.table().reset_index(), folder / "migration.csv")
    write_table(mig.moved, folder / "moved.csv")
    notes = []
    if summary.get("new_segments") and summary.get("champion_before"):
        notes += [
            f"new segment {s['id']} {s['name']} ({s['size']:,} customers)"
            for s in summary["new_segments"]
        ]
    notes += [f"retired segment {s['id']} {s['name']}" for s in summary.get("retired_segments", [])]
    if summary.get("reason"):
        notes.append(summary["reason"])
    decision = summary.get("decision") or {}
    if not summary.get("promoted") and decision:
        notes.append("the current model keeps serving: " + "; ".join(decision.get("reasons", [])))
    page = render_migration(
        mig, title=f"Segment migration {before} → {after}", before=before, after=after, notes=notes
    )
    (folder / "migration.html").write_text(page, encoding="utf-8")


def rollback_workspace(workspace: str | os.PathLike[str] | Workspace, to: str) -> RunOutcome:
    """Serve an earlier model version again.

    The customers of the latest data (the newest fit or refresh) are labelled with that
    version from their stored features and recorded as a ``rollback`` run, so the labels
    served, the champion and the history stay consistent.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    ws.require()
    with ws.writer():
        with ws.reading() as con:
            state = ws.state(con)
            version = ws.resolve_version(to, con)
            data_runs = con.execute(
                "SELECT run_id, source, data_fingerprint, as_of FROM runs "
                "WHERE kind <> 'rollback' ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        if version == state.champion:
            raise UsageError(f"{ws.path}: {to!r} already serves; nothing to roll back")
        assert data_runs is not None and state.latest_run is not None  # a version implies a run
        model = ws.load_model(version)
        features = ws.features(data_runs[0])
        labels, _ = model.label_customers(features)
        serving = with_names(labels, state.overrides)
        previous_run = state.latest_run["run_id"]
        previous = ws.assignments(previous_run)
        mig = migration(previous, serving)
        run_id = run_id_for(state.next_run_seq)
        reason = f"rollback to {version}"
        summary = {
            "run_id": run_id,
            "kind": "rollback",
            "source": f"features of {data_runs[0]}",
            "promoted": True,
            "champion_before": state.champion,
            "champion_after": version,
            "reason": reason,
            "migration": mig.to_dict(),
            "previous_run": previous_run,
            "n_customers": len(serving),
        }

        def write(folder: Path) -> None:
            write_table(serving, folder / "segments.csv")
            _write_migration(folder, mig, previous_run, run_id, summary)
            (folder / "summary.json").write_text(
                json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8"
            )

        run_dir = ws.store_run_folder(run_id, write)
        ws.commit(
            RunRecord(
                run_id=run_id,
                seq=state.next_run_seq,
                kind="rollback",
                source=summary["source"],
                data_fingerprint=data_runs[2],
                as_of=data_runs[3],
                params={"to": to},
                metrics={"moved": mig.n_moved, "in_both": mig.n_both},
                model_version=None,
                serving_version=version,
                promoted=True,
                decision={"reason": reason},
                assignments=serving,
                n_excluded=0,
                previous_run=previous_run,
                champion_reason=reason,
            )
        )
        return RunOutcome(
            run_id=run_id,
            kind="rollback",
            promoted=True,
            champion=version,
            previous_champion=state.champion,
            model_version=None,
            decision=None,
            match=None,
            continued=[],
            new_segments=[],
            retired_segments=[],
            migration=mig,
            serving=serving,
            result=None,
            run_dir=run_dir,
            summary=summary,
        )


def rename_segment(
    workspace: str | os.PathLike[str] | Workspace,
    segment_id: int,
    name: str,
    action: str | None = None,
) -> dict[str, Any]:
    """Give a serving segment a name (and action) that persists through refreshes.

    The name is kept by segment id in the workspace: every later run that continues the
    segment (a matched refresh) keeps it, and exports use it.

    Returns
    -------
    dict
        ``{"id", "name", "action", "previous_name"}``.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    ws.require()
    name = name.strip()
    if not name:
        raise UsageError("--name must not be empty")
    with ws.writer():
        state = ws.state()
        if state.champion is None:
            raise UsageError(f"{ws.path}: no model yet; nothing to rename")
        model = ws.load_model(state.champion)
        current = {
            i: state.overrides.get(i, {}).get("name") or n for i, n in model.segment_names().items()
        }
        if segment_id not in current:
            known = ", ".join(f"{i} {n}" for i, n in sorted(current.items()))
            raise UsageError(
                f"{ws.path}: no segment {segment_id} in the serving model (segments: {known})"
            )
        clash = [i for i, n in current.items() if n == name and i != segment_id]
        if clash:
            raise UsageError(f"{ws.path}: segment {clash[0]} is already called {name!r}")
        ws.set_name(segment_id, name, action)
        actions = {int(s["id"]): s.get("action", "") for s in model.segments}
        return {
            "id": segment_id,
            "name": name,
            "action": action
            if action is not None
            else state.overrides.get(segment_id, {}).get("action") or actions[segment_id],
            "previous_name": current[segment_id],
        }


def fit_workspace(
    workspace: str | os.PathLike[str] | Workspace,
    data: LoadedTable,
    *,
    k: Any = "auto",
    customer_col: str | None = None,
    input_kind: Any = "auto",
    as_of: str | None = None,
    exclude: tuple[str, ...] = (),
    seed: int | None = 0,
    progress: Progress = _noop,
    salt: str | None = None,
    on_stage: Progress = _noop,
    **options: Any,
) -> RunOutcome:
    """Segment ``data`` (:func:`segmint.segment`) and record it (:func:`fit_into_workspace`).

    ``options`` are further keyword arguments of :func:`segmint.segment` (e.g. ``outcome``,
    ``algorithm``, ``within``, ``spec``: all stored in the model, so a refresh refits the
    same way). With ``salt`` the customer ids are pseudonymised first (see the module
    docstring); every later refresh and monitor of the workspace needs the same salt.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    if ws.exists():
        check_salt(ws, ws.state(), salt)  # before the work of fitting
    if salt:
        data, _ = pseudonymised(data, salt, customer_col=customer_col, input_kind=input_kind)
    progress("deriving features, choosing k and fitting")
    result = segment(data.frame, k=k, customer_col=customer_col, input_kind=input_kind, as_of=as_of,
                     exclude=exclude, random_state=seed, source=data.source, **options)  # fmt: skip
    return fit_into_workspace(
        ws, data, result, as_of=as_of, progress=progress, salt=salt, on_stage=on_stage
    )
