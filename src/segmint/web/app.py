"""The app factory: ``create_app(settings)`` builds the API, the web page and the docs."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from segmint._version import __version__
from segmint.errors import SegmintError
from segmint.web.choices import ALGORITHMS, K_CHOICES
from segmint.web.errors import ApiError, install_error_handlers
from segmint.web.middleware import BodyLimit, SecurityHeaders
from segmint.web.routes import build_router
from segmint.web.service import Service
from segmint.web.settings import Settings

HERE = Path(__file__).parent


def _vendor_dirs() -> dict[str, Path]:
    """Third-party assets shipped by installed packages (served locally, never a CDN)."""
    import plotly
    import swagger_ui_bundle

    return {
        "plotly": Path(plotly.__file__).parent / "package_data",
        "swagger": Path(os.fspath(swagger_ui_bundle.swagger_ui_path)),
    }


def create_app(settings: Settings) -> FastAPI:
    """Build the service for ``settings``: the JSON API under ``/api/v1``, OpenAPI docs at
    ``/docs``, the web app at ``/``.

    Creates the workspace (and its ``service/`` folder for uploads and jobs) when new.
    """
    settings.check_binding()
    service = Service(settings)
    service.open()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Everything loaded so far (the app, pandas, scikit-learn, the serving model) lives
        # as long as the process: out of the collector's reach, a full collection no longer
        # walks it (one took ~200 ms, the p99 of the real-time assignment wants < 10 ms).
        with contextlib.suppress(ApiError, SegmintError):
            service.assigner()
        gc.collect()
        gc.freeze()
        yield
        service.jobs.shutdown()

    app = FastAPI(
        title="segmint",
        version=__version__,
        summary="Customer segmentation service: upload, fit, name, assign.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    # The bundled Swagger UI (4.x) renders OpenAPI 3.0 documents only; the schema FastAPI
    # writes reads the same under that label.
    app.openapi_version = "3.0.3"
    app.state.service = service
    install_error_handlers(app)
    app.include_router(build_router())

    templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for name, folder in _vendor_dirs().items():
        app.mount(f"/vendor/{name}", StaticFiles(directory=str(folder)), name=f"vendor-{name}")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index(request: Request) -> Any:
        return templates.TemplateResponse(
            request,
            "index.html",
            {
                "version": __version__,
                "algorithms": ALGORITHMS,
                "k_choices": K_CHOICES,
                "token_required": settings.api_token is not None,
                "upload_limit_mb": settings.max_upload_bytes // (1024 * 1024),
            },
        )

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs(request: Request) -> Any:
        return templates.TemplateResponse(request, "docs.html", {"version": __version__})

    app.add_middleware(
        BodyLimit, upload_limit=settings.max_upload_bytes, json_limit=settings.max_json_bytes
    )
    app.add_middleware(SecurityHeaders)
    return app
