"""The JSON API under ``/api/v1``, one module per resource (every error: the one body of
:mod:`segmint.web.errors`).

================  =====================================================================
:mod:`.assign`    ``POST /assign``, ``POST /assign/batch``
:mod:`.service`   ``GET /health``, ``/version``, ``/options``
:mod:`.datasets`  ``/datasets``: upload, list, inspect, delete
:mod:`.jobs`      ``POST /fit``, ``POST /refresh``, ``/jobs``
:mod:`.runs`      ``/runs/...`` (records, files, report, migration), ``/models``
:mod:`.segments`  ``GET /segments``, ``PATCH /segments/{id}``
:mod:`.monitor`   ``POST /monitor``
================  =====================================================================
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from segmint.web.routes import assign, datasets, jobs, monitor, runs, segments, service
from segmint.web.routes.common import require_token
from segmint.web.schemas import ERRORS

# Routes are matched in order: the real-time assignment first.
RESOURCES = (assign, service, datasets, jobs, runs, segments, monitor)


def build_router() -> APIRouter:
    """The ``/api/v1`` routes, behind the API token when one is set."""
    api = APIRouter(prefix="/api/v1", dependencies=[Depends(require_token)], responses=ERRORS)
    for resource in RESOURCES:
        api.include_router(resource.router)
    return api
