"""Saving and loading fitted models: JSON plus NumPy arrays, never pickle.

A model directory holds

* ``model.json``: schema version, segmint version, column roles, preparation plan,
  segments (ids, names, actions), selection diagnostics, parameters, training facts,
  and the SHA-256 of ``arrays.npz``;
* ``arrays.npz``: the numeric arrays (segment centres and the standardisation), loaded
  with ``allow_pickle=False``.

A family that does not label by the nearest centre adds its rule: ``model.json`` gets
``assigner`` (``kind`` and settings) and ``arrays.npz`` its arrays, prefixed
``assigner__``: the Gaussian mixture's ``means``, ``covariances`` and ``weights``;
Genie's and HDBSCAN's core ``points``, their ``labels`` (and HDBSCAN's ``radius``);
within tiers, each tier's arrays under ``tier<i>__``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from segmint.algorithms.base import CentroidAssigner
from segmint.algorithms.saved import assigner_document, load_assigner
from segmint.errors import ModelError
from segmint.features.roles import ColumnRoles
from segmint.io import replace_file
from segmint.pipeline import SCHEMA_VERSION, SegmentationModel
from segmint.prepare import Preparation

MODEL_FILE = "model.json"
ARRAYS_FILE = "arrays.npz"
ASSIGNER_PREFIX = "assigner__"


def _rule(model: SegmentationModel) -> tuple[dict[str, Any] | None, dict[str, np.ndarray]]:
    """The assignment rule to store beside the centres (none for nearest centre)."""
    if model.assigner is None or isinstance(model.assigner, CentroidAssigner):
        return None, {}
    return assigner_document(model.assigner)


def _arrays_bytes(model: SegmentationModel) -> bytes:
    buffer = io.BytesIO()
    prep = model.preparation
    _, rule_arrays = _rule(model)
    extra = {f"{ASSIGNER_PREFIX}{name}": value for name, value in rule_arrays.items()}
    arrays = {"centers": model.centers, "center": prep.center, "scale": prep.scale,
              "weights": prep.weights, **extra}  # fmt: skip
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as allow_pickle
    return buffer.getvalue()


def model_document(model: SegmentationModel, arrays_sha256: str) -> dict[str, Any]:
    """The JSON document of a model (arrays referenced by hash)."""
    prep = model.preparation.to_dict()
    for key in ("center", "scale", "weights"):
        prep.pop(key)
    return {
        "schema_version": SCHEMA_VERSION,
        "segmint_version": model.version,
        "created": model.created,
        "fingerprint": model.fingerprint(),
        "roles": model.roles.to_dict(),
        "preparation": prep,
        "segments": model.segments,
        "selection": model.selection,
        "params": model.params,
        "training": model.training,
        "arrays": {"file": ARRAYS_FILE, "sha256": arrays_sha256},
        **({"assigner": rule} if (rule := _rule(model)[0]) is not None else {}),
    }


def save_model(model: SegmentationModel, directory: str | os.PathLike[str]) -> Path:
    """Write ``model`` into ``directory`` (created; files replaced atomically)."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    data = _arrays_bytes(model)
    document = model_document(model, hashlib.sha256(data).hexdigest())
    replace_file(target / ARRAYS_FILE, data)
    replace_file(
        target / MODEL_FILE, (json.dumps(document, indent=2, default=_jsonable) + "\n").encode()
    )
    return target


def load_model(directory: str | os.PathLike[str]) -> SegmentationModel:
    """Read a model saved by :func:`save_model`.

    Raises
    ------
    ModelError
        Missing files, unknown schema version, or arrays that do not match their hash.
    """
    source = Path(directory)
    if not source.is_dir():
        raise ModelError(f"{source}: no such model directory")
    try:
        document = json.loads((source / MODEL_FILE).read_text(encoding="utf-8"))
        data = (source / ARRAYS_FILE).read_bytes()
    except FileNotFoundError as exc:
        raise ModelError(
            f"{source}: not a segmint model ({Path(exc.filename).name} missing)"
        ) from exc
    except json.JSONDecodeError as exc:
        raise ModelError(f"{source / MODEL_FILE}: not valid JSON (line {exc.lineno})") from exc
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ModelError(
            f"{source}: model schema version {version!r} is not supported "
            f"(expected {SCHEMA_VERSION})"
        )
    if hashlib.sha256(data).hexdigest() != document["arrays"]["sha256"]:
        raise ModelError(f"{source / ARRAYS_FILE}: content does not match the hash in {MODEL_FILE}")
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        centers = arrays["centers"]
        prep = dict(document["preparation"])
        prep.update(center=arrays["center"], scale=arrays["scale"], weights=arrays["weights"])
        rule_arrays = {
            name[len(ASSIGNER_PREFIX) :]: arrays[name]
            for name in arrays.files
            if name.startswith(ASSIGNER_PREFIX)
        }
    rule = document.get("assigner")
    try:
        assigner = load_assigner(rule, rule_arrays, centers) if rule else None
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{source / MODEL_FILE}: unreadable assignment rule ({exc})") from exc
    try:
        return SegmentationModel(
            roles=ColumnRoles.from_dict(document["roles"]),
            preparation=Preparation.from_dict(prep),
            centers=centers,
            segments=document["segments"],
            selection=document["selection"],
            params=document["params"],
            training=document["training"],
            created=document["created"],
            version=document["segmint_version"],
            assigner=assigner,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{source / MODEL_FILE}: incomplete model ({exc})") from exc


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)
