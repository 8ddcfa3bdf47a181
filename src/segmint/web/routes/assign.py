"""Assignment: one customer in real time, or a file of customers."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, File, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from segmint.errors import SegmintError
from segmint.web.datasets import suffix_of
from segmint.web.errors import ApiError
from segmint.web.routes.common import (
    ServiceDep,
    client_of,
)
from segmint.web.schemas import (
    AssignRequest,
    AssignResponse,
)
from segmint.web.service import Service

router = APIRouter()


# First: routes are matched in order, and this is the real-time one.
@router.post("/assign", response_model=AssignResponse, tags=["assign"])
async def assign(request: Request, body: AssignRequest) -> JSONResponse:
    """The segment of one customer, with the serving model (same missing and unseen rules
    as ``segmint assign``)."""
    service: Service = request.app.state.service
    assigner = service.assigner()
    label = assigner.assign(str(body.customer_id), body.features)
    return JSONResponse(
        {
            "ok": True,
            "customer_id": label.customer_id,
            "segment": label.segment,
            "segment_name": label.segment_name,
            "confidence": label.confidence,
            "probabilities": label.probabilities,
            "model_version": assigner.version,
            "notes": label.notes,
        }
    )


@router.post("/assign/batch", tags=["assign"], response_class=FileResponse)
def assign_batch(
    service: ServiceDep,
    request: Request,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File(description="customers to label: CSV or Parquet")],
    format: Annotated[Literal["csv", "parquet"] | None, Query()] = None,
) -> FileResponse:
    """Label a file of customers (CSV / Parquet); the labels come back as a file
    (``X-Segmint-Excluded``: customers that could not be labelled)."""
    from segmint.runner import assign_file

    service.limit.check(client_of(request), "batch")
    state = service.workspace.state()
    if state.champion is None:
        raise ApiError(409, "no model yet; fit one first (POST /api/v1/fit)")
    model = service.assigner().model  # the serving model, loaded once per workspace change
    names = {s: o["name"] for s, o in state.overrides.items() if o.get("name")}
    suffix = suffix_of(file.filename or "")
    work = Path(tempfile.mkdtemp(prefix="batch-", dir=service.settings.service_dir))
    background.add_task(shutil.rmtree, work, True)
    try:
        data = work / f"data{suffix}"
        with data.open("wb") as out:
            shutil.copyfileobj(file.file, out, 1024 * 1024)
        kind = format or ("parquet" if suffix.startswith(".parquet") else "csv")
        target = work / f"labels.{kind}"
        result = assign_file(model, data, out=target, names=names)
    except SegmintError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise type(exc)(
            str(exc).replace(str(work / f"data{suffix}"), file.filename or "upload")
        ) from None
    media = "application/vnd.apache.parquet" if kind == "parquet" else "text/csv"
    return FileResponse(
        target,
        media_type=media,
        filename=f"labels.{kind}",
        headers={
            "X-Segmint-Excluded": str(len(result.assignment.excluded)),
            "X-Segmint-Labelled": str(len(result.assignment.assignments)),
        },
    )
