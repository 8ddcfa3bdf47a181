"""The one error body of the service: ``{"ok": false, "error", "errors", "status"}``.

Every error — a segmint error, a validation error, a 404 of an unknown route, a 405, a
413, a 429, a bug (500) — goes through :func:`error_response`.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from segmint.errors import DataError, ModelError, SegmintError, UsageError

log = logging.getLogger("segmint.web")


class ApiError(Exception):
    """An error with an HTTP status, raised by routes and dependencies."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or []
        self.headers = headers


def error_body(status: int, message: str, errors: list[Any] | None = None) -> dict[str, Any]:
    """The error body."""
    return {"ok": False, "error": message, "errors": errors or [], "status": status}


def error_response(
    status: int,
    message: str,
    errors: list[Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A JSON response with the error body."""
    return JSONResponse(error_body(status, message, errors), status_code=status, headers=headers)


def status_of(exc: SegmintError) -> int:
    """HTTP status of a segmint error: usage 400, data 422, a missing model 409, else 500."""
    if isinstance(exc, UsageError):
        return 400
    if isinstance(exc, DataError):
        return 422
    if isinstance(exc, ModelError):
        return 409
    return 500


_REASONS = {404: "not found", 405: "method not allowed", 401: "unauthorized"}


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through :func:`error_response`."""

    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.message, exc.errors, exc.headers)

    @app.exception_handler(SegmintError)
    async def _segmint(_: Request, exc: SegmintError) -> JSONResponse:
        return error_response(status_of(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": [str(part) for part in e.get("loc", ())],
                "msg": e.get("msg", ""),
                "type": e.get("type", ""),
            }
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(p for p in first["loc"] if p not in ("body", "query", "path")) or "request"
        return error_response(422, f"{where}: {first['msg']}", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = (
            exc.detail if isinstance(exc.detail, str) else _REASONS.get(exc.status_code, "error")
        )
        return error_response(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error")
        return error_response(500, f"internal error ({type(exc).__name__})")
