"""The service itself: health, version, and the choices the fit form offers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from segmint._version import __version__
from segmint.web.choices import ALGORITHMS, K_CHOICES
from segmint.web.routes.common import (
    ServiceDep,
    ok,
)
from segmint.web.schemas import (
    Health,
)

router = APIRouter()


@router.get("/health", response_model=Health, tags=["service"])
def health(service: ServiceDep) -> dict[str, Any]:
    """Liveness, version and the serving model."""
    state = service.workspace.state()
    return {
        "ok": True,
        "status": "ok",
        "version": __version__,
        "champion": state.champion,
        "runs": state.next_run_seq - 1,
    }


@router.get("/version", tags=["service"])
def version() -> dict[str, Any]:
    """The segmint version."""
    return ok(version=__version__)


@router.get("/options", tags=["fit"])
def options() -> dict[str, Any]:
    """Algorithms and k choices, each with a short explanation."""
    return ok(algorithms=ALGORITHMS, k=K_CHOICES)
