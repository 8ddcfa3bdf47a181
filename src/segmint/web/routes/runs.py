"""A workspace's runs and model versions: records, files, report, migration."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from segmint.web.datasets import frame_records
from segmint.web.errors import ApiError
from segmint.web.routes.common import (
    FromRun,
    ServiceDep,
    csv_response,
    file_response,
    named_segments,
    ok,
    run_id_of,
)
from segmint.web.service import Service

router = APIRouter()


@router.get("/runs", tags=["runs"])
def runs(service: ServiceDep) -> dict[str, Any]:
    """Every run of the workspace, oldest first."""
    if not service.workspace.exists():
        return ok(runs=[])
    frame = service.workspace.runs()
    records = [
        dict(r, report=service.job_out(r["run_id"]) is not None)
        for r in frame.to_dict(orient="records")
    ]
    return ok(runs=service.scrub(records))


@router.get("/runs/{run_id}", tags=["runs"])
def run(service: ServiceDep, run_id: str) -> dict[str, Any]:
    """One run: its record, summary and segments (with today's names)."""
    run_id = run_id_of(service, run_id)
    record = service.workspace.run(run_id)
    summary_file = service.workspace.runs_dir / run_id / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
    return ok(
        run=service.scrub(record),
        summary=service.scrub(summary),
        segments=named_segments(service, run_id),
        report=service.job_out(run_id) is not None,
    )


@router.get("/runs/{run_id}/segments.csv", tags=["runs"], response_class=Response)
def run_segments(service: ServiceDep, run_id: str) -> Response:
    """``customer_id, segment, segment_name, confidence`` of every segmented customer."""
    from segmint.store import current_assignments

    labels = current_assignments(service.workspace, run_id_of(service, run_id))
    body = labels[["customer_id", "segment", "segment_name", "confidence"]].to_csv(index=False)
    return csv_response(body, f"{run_id}-segments.csv")


@router.get("/runs/{run_id}/excluded.csv", tags=["runs"], response_class=Response)
def run_excluded(service: ServiceDep, run_id: str) -> Response:
    """``customer_id, reason, detail`` of every customer that could not be segmented."""
    path = service.workspace.runs_dir / run_id_of(service, run_id) / "excluded.csv"
    return file_response(path, f"{run_id}-excluded.csv", "text/csv")


@router.get("/runs/{run_id}/profiles", tags=["runs"])
def run_profiles(service: ServiceDep, run_id: str) -> dict[str, Any]:
    """Segment profiles: size, share, action, mean and median of every feature."""
    path = service.workspace.runs_dir / run_id_of(service, run_id) / "profiles.csv"
    if not path.is_file():
        raise ApiError(404, f"{run_id}: no profiles")
    return ok(profiles=frame_records(pd.read_csv(path)))


@router.get("/runs/{run_id}/profiles.csv", tags=["runs"], response_class=Response)
def run_profiles_csv(service: ServiceDep, run_id: str) -> Response:
    """The profiles as CSV."""
    path = service.workspace.runs_dir / run_id_of(service, run_id) / "profiles.csv"
    return file_response(path, f"{run_id}-profiles.csv", "text/csv")


@router.get("/runs/{run_id}/report.html", tags=["runs"], response_class=Response)
def run_report(service: ServiceDep, run_id: str) -> Response:
    """The run's report (runs fitted through the service)."""
    out = service.job_out(run_id_of(service, run_id))
    if out is None:
        raise ApiError(404, f"{run_id}: no report (only runs fitted through the service have one)")
    return file_response(
        out / "report.html", f"{run_id}-report.html", "text/html; charset=utf-8", inline=True
    )


@router.get("/runs/{run_id}/migration", tags=["lifecycle"])
def run_migration(service: ServiceDep, run_id: str, from_run: FromRun = None) -> dict[str, Any]:
    """Who moved where between two runs: ``from`` (default: the run before ``run_id``)
    and ``run_id``."""
    migration, before, after = _migration(service, run_id, from_run)
    return ok(from_run=before, to_run=after, migration=migration.to_dict())


@router.get("/runs/{run_id}/migration.html", tags=["lifecycle"], response_class=HTMLResponse)
def run_migration_page(service: ServiceDep, run_id: str, from_run: FromRun = None) -> Response:
    """The migration between two runs as a Sankey chart (the page of ``segmint migration
    --html``)."""
    from segmint.report.migration import render_migration

    migration, before, after = _migration(service, run_id, from_run)
    page = render_migration(
        migration, title=f"Segment migration {before} → {after}", before=before, after=after
    )
    return HTMLResponse(page)


@router.get("/models", tags=["runs"])
def models(service: ServiceDep) -> dict[str, Any]:
    """Every model version, with the serving one flagged."""
    if not service.workspace.exists():
        return ok(models=[])
    return ok(models=frame_records(service.workspace.models()))


def _migration(service: Service, run_id: str, from_run: str | None) -> tuple[Any, str, str]:
    from segmint.store import migration_between

    after = run_id_of(service, run_id)
    before = None if from_run is None else run_id_of(service, from_run)
    if before == after:
        raise ApiError(400, f"from and to are the same run ({after}); choose two runs")
    return migration_between(service.workspace, before, after)
