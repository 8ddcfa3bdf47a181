"""Drift of new data against the serving model."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request

from segmint.errors import SegmintError
from segmint.web.datasets import rename_errors
from segmint.web.routes.common import (
    ServiceDep,
    client_of,
    ok,
)
from segmint.web.schemas import (
    DataRequest,
)

router = APIRouter()


@router.post("/monitor", tags=["lifecycle"])
def monitor(service: ServiceDep, body: DataRequest, request: Request) -> dict[str, Any]:
    """Drift of new data against the serving model's training data: fine / watch / retrain."""
    from segmint.io import read_table
    from segmint.store import monitor_workspace

    service.limit.check(client_of(request), "monitor")
    data = service.datasets.get(body.dataset_id)
    try:
        report = monitor_workspace(service.workspace, read_table(data.path), as_of=body.as_of)
    except SegmintError as exc:
        raise rename_errors(exc, data) from None
    return ok(monitor=service.scrub(json.loads(json.dumps(report, default=str))))
