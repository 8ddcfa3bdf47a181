"""Uploaded datasets: upload, list, inspect (columns, roles, preview), delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile

from segmint.web.datasets import inspect_dataset
from segmint.web.routes.common import (
    ServiceDep,
    ok,
)

router = APIRouter()


@router.post("/datasets", status_code=201, tags=["datasets"])
def upload(
    service: ServiceDep,
    file: Annotated[UploadFile, File(description="CSV, TSV, Excel, Parquet or JSON")],
) -> dict[str, Any]:
    """Upload a data file (multipart, field ``file``; size limit in the settings)."""
    dataset = service.datasets.save(
        file.file, file.filename, limit=service.settings.max_upload_bytes
    )
    return ok(dataset=dataset.to_dict())


@router.get("/datasets", tags=["datasets"])
def datasets(service: ServiceDep) -> dict[str, Any]:
    """Uploaded datasets, newest first."""
    return ok(datasets=[d.to_dict() for d in service.datasets.list()])


@router.get("/datasets/{dataset_id}", tags=["datasets"])
def dataset(service: ServiceDep, dataset_id: str) -> dict[str, Any]:
    """Columns, detected roles (customer id, time, amount, ...) and preview rows."""
    return ok(dataset=inspect_dataset(service.datasets.get(dataset_id)))


@router.delete("/datasets/{dataset_id}", tags=["datasets"])
def delete_dataset(service: ServiceDep, dataset_id: str) -> dict[str, Any]:
    """Remove an uploaded dataset."""
    service.datasets.delete(dataset_id)
    return ok(deleted=dataset_id)
