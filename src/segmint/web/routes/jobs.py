"""Background jobs: start a fit or a refresh, follow it, cancel it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from segmint.web.datasets import check_id, inspect_dataset
from segmint.web.routes.common import (
    ServiceDep,
    client_of,
    ok,
)
from segmint.web.schemas import (
    DataRequest,
    FitRequest,
)

router = APIRouter()


@router.post("/fit", status_code=202, tags=["fit"])
def fit(service: ServiceDep, body: FitRequest, request: Request) -> dict[str, Any]:
    """Start a fit job (runs in the background; poll ``/jobs/{id}``)."""
    service.limit.check(client_of(request), "fit")
    data = service.datasets.get(body.dataset_id)
    options = body.model_dump(exclude={"dataset_id"})
    options["roles"] = _changed_roles(data, body)
    job = service.jobs.start(
        "fit",
        {
            "data": str(data.path),
            "data_name": data.name,
            "workspace": str(service.workspace.path),
            "options": options,
        },
        data.name,
    )
    return ok(job=job.view())


@router.post("/refresh", status_code=202, tags=["lifecycle"])
def refresh(service: ServiceDep, body: DataRequest, request: Request) -> dict[str, Any]:
    """Start a refresh job: refit on new data, keep ids, decide who serves."""
    service.limit.check(client_of(request), "refresh")
    service.workspace.require()
    data = service.datasets.get(body.dataset_id)
    job = service.jobs.start(
        "refresh",
        {
            "data": str(data.path),
            "data_name": data.name,
            "workspace": str(service.workspace.path),
            "options": {"as_of": body.as_of},
        },
        data.name,
    )
    return ok(job=job.view())


@router.get("/jobs", tags=["fit"])
def jobs(service: ServiceDep) -> dict[str, Any]:
    """Jobs started by this server, newest first."""
    views = [j.view() for j in sorted(service.jobs.jobs.values(), key=lambda j: -j.created)]
    return ok(jobs=views)


@router.get("/jobs/{job_id}", tags=["fit"])
def job(service: ServiceDep, job_id: str) -> dict[str, Any]:
    """A job's status, progress (0..1), current step and log."""
    return ok(job=service.jobs.get(check_id(job_id, "job")).view())


@router.post("/jobs/{job_id}/cancel", tags=["fit"])
def cancel(service: ServiceDep, job_id: str) -> dict[str, Any]:
    """Cancel a running job (the workspace stays as it was)."""
    return ok(job=service.jobs.cancel(check_id(job_id, "job")).view())


def _changed_roles(data: Any, body: FitRequest) -> dict[str, Any] | None:
    """The roles the person set, when they differ from the detected ones (else detect again)."""
    if body.roles is None:
        return None
    given = body.roles.model_dump(exclude={"kind"})
    detected = inspect_dataset(data).get("roles") or {}
    if all(given.get(k) == detected.get(k) for k in given):
        return None
    return given
