"""Uploaded data files: stored under ids, never under the name the client sent.

A dataset is ``<service>/datasets/<id>/data<ext>`` plus ``meta.json`` (the original name,
for display and messages only, its size and format). ``<id>`` is random hex, checked
against a pattern before it touches a path, so no request can name a server path.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

import pandas as pd

from segmint.errors import SegmintError, UsageError
from segmint.io import format_suffix
from segmint.web.errors import ApiError

DATA_SUFFIXES = {
    ".csv": ".csv",
    ".tsv": ".tsv",
    ".txt": ".csv",
    ".xlsx": ".xlsx",
    ".parquet": ".parquet",
    ".pq": ".parquet",
    ".json": ".json",
    ".jsonl": ".jsonl",
}
_ID = re.compile(r"^[0-9a-f]{16}$")
_CHUNK = 1024 * 1024
PREVIEW_ROWS = 10


def check_id(value: str, what: str = "dataset") -> str:
    """``value`` when it is a well-formed id, else a 404 (never a path)."""
    if not _ID.match(value):
        raise ApiError(404, f"no {what} {value!r}")
    return value


def display_name(name: str | None) -> str:
    """The client's file name reduced to a harmless label (used in messages only)."""
    base = re.split(r"[\\/]", name or "")[-1]
    cleaned = re.sub(r"[^\w.\- ]", "_", base).strip(" .")[:120]
    return cleaned or "upload"


def suffix_of(name: str) -> str:
    """The stored suffix for a client file name (``.csv.gz`` kept whole); a usage error
    for unsupported formats."""
    label = display_name(name)
    suffix = format_suffix(label)
    if suffix not in DATA_SUFFIXES:
        raise UsageError(
            f"{label}: unsupported file type {suffix or '(none)'}; "
            "upload CSV, TSV, Excel (.xlsx), Parquet or JSON (gzip-compressed or not)"
        )
    compressed = label.lower().endswith(".gz") and suffix != ".gz"
    return DATA_SUFFIXES[suffix] + (".gz" if compressed else "")


@dataclass(frozen=True)
class Dataset:
    """A stored upload."""

    id: str
    path: Path
    name: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        """What the API shows (never the server path)."""
        fmt = format_suffix(self.path)[1:]
        return {"id": self.id, "name": self.name, "size": self.size, "format": fmt}


class DatasetStore:
    """The uploads of a service (see the module docstring)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, stream: BinaryIO, client_name: str | None, *, limit: int) -> Dataset:
        """Copy an upload to disk in chunks, at most ``limit`` bytes (413 beyond)."""
        suffix = suffix_of(client_name or "")
        dataset_id = secrets.token_hex(8)
        folder = self.root / dataset_id
        folder.mkdir(parents=True)
        target = folder / f"data{suffix}"
        size = 0
        try:
            with target.open("wb") as out:
                while chunk := stream.read(_CHUNK):
                    size += len(chunk)
                    if size > limit:
                        raise ApiError(413, f"upload is larger than the limit of {limit:,} bytes")
                    out.write(chunk)
            if size == 0:
                raise UsageError(f"{display_name(client_name)}: the file is empty")
            name = display_name(client_name)
            (folder / "meta.json").write_text(json.dumps({"name": name, "size": size}))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return Dataset(dataset_id, target, name, size)

    def get(self, dataset_id: str) -> Dataset:
        """A stored dataset, or a 404."""
        folder = self.root / check_id(dataset_id)
        meta_file = folder / "meta.json"
        if not meta_file.is_file():
            raise ApiError(404, f"no dataset {dataset_id!r}")
        meta = json.loads(meta_file.read_text())
        data = next(p for p in folder.iterdir() if p.name.startswith("data."))
        return Dataset(dataset_id, data, meta["name"], meta["size"])

    def list(self) -> list[Dataset]:
        """Every dataset, newest first."""
        if not self.root.is_dir():
            return []
        folders = sorted(self.root.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
        return [
            self.get(f.name) for f in folders if _ID.match(f.name) and (f / "meta.json").is_file()
        ]

    def delete(self, dataset_id: str) -> None:
        """Remove a dataset."""
        dataset = self.get(dataset_id)
        shutil.rmtree(dataset.path.parent)


def rename_errors(exc: SegmintError, dataset: Dataset) -> SegmintError:
    """The same error with the server path replaced by the uploaded file's name."""
    message = str(exc).replace(str(dataset.path), dataset.name)
    return type(exc)(message) if message != str(exc) else exc


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON records (dates in ISO form, anything else as text)."""
    return cast(
        list[dict[str, Any]],
        json.loads(frame.to_json(orient="records", date_format="iso", default_handler=str)),
    )


def inspect_dataset(dataset: Dataset) -> dict[str, Any]:
    """Columns, dtypes, detected roles and preview rows of a dataset (cached beside it)."""
    cache = dataset.path.parent / "inspect.json"
    if cache.is_file():
        cached: dict[str, Any] = json.loads(cache.read_text())
        return cached
    from segmint.features.roles import detect_roles
    from segmint.io import read_table

    try:
        loaded = read_table(dataset.path)
        frame = loaded.frame
        try:
            roles = detect_roles(frame, source=dataset.name).to_dict()
            roles_error = None
        except SegmintError as exc:
            roles, roles_error = None, str(rename_errors(exc, dataset))
    except SegmintError as exc:
        raise rename_errors(exc, dataset) from None
    columns = [
        {
            "name": str(col),
            "dtype": str(frame[col].dtype),
            "missing": int(frame[col].isna().sum()),
            "distinct": int(frame[col].nunique()),
        }
        for col in frame.columns
    ]
    info = {
        **dataset.to_dict(),
        "rows": len(frame),
        "columns": columns,
        "roles": roles,
        "roles_error": roles_error,
        "preview": frame_records(frame.head(PREVIEW_ROWS)),
    }
    cache.write_text(json.dumps(info, default=str))
    return info
