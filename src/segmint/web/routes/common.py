"""What every route shares: the service, the API token, and small response helpers."""

from __future__ import annotations

import hmac
import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.responses import FileResponse, Response

from segmint.errors import UsageError
from segmint.web.errors import ApiError
from segmint.web.service import Service


def get_service(request: Request) -> Service:
    """The app's :class:`Service`."""
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]
FromRun = Annotated[
    str | None,
    Query(alias="from", max_length=40, description="The earlier run (default: the one before)."),
]


async def require_token(request: Request) -> None:
    """With an API token configured, every API route needs ``Authorization: Bearer <token>``."""
    token = request.app.state.service.settings.api_token
    if token is None:
        return
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        value.strip().encode(), token.get_secret_value().encode()
    ):
        raise ApiError(
            401,
            "missing or wrong API token (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )


def client_of(request: Request) -> str:
    """The client address the rate limits count by."""
    return request.client.host if request.client else "unknown"


def ok(**values: Any) -> dict[str, Any]:
    """A success body: ``{"ok": true, ...values}``."""
    return {"ok": True, **values}


def run_id_of(service: Service, text: str) -> str:
    """The run ``text`` names (an id or ``latest``); 404 when there is none."""
    with service.workspace.reading() as con:
        try:
            return service.workspace.resolve_run(text, con)
        except UsageError as exc:
            raise ApiError(404, str(exc)) from None


def named(
    segments: list[dict[str, Any]], overrides: dict[int, dict[str, str]]
) -> list[dict[str, Any]]:
    """Segments with the names and actions people gave them in place of the generated ones."""
    out = []
    for seg in segments:
        override = overrides.get(int(seg["id"]), {})
        out.append(
            {
                **seg,
                "name": override.get("name") or seg["name"],
                "action": override.get("action") or seg.get("action", ""),
            }
        )
    return out


def named_segments(service: Service, run_id: str) -> list[dict[str, Any]]:
    """A run's segments with today's names and actions."""
    summary_file = service.workspace.runs_dir / run_id / "summary.json"
    if not summary_file.is_file():
        return []
    summary = json.loads(summary_file.read_text())
    fit = summary.get("fit") or {}
    return named(fit.get("segments", []), service.workspace.state().overrides)


def csv_response(body: str, name: str) -> Response:
    """CSV text as a download named ``name``."""
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def file_response(path: Path, name: str, media: str, *, inline: bool = False) -> Response:
    """A file as a download (or shown inline); 404 when it does not exist."""
    if not path.is_file():
        raise ApiError(404, f"{name}: not available")
    disposition = "inline" if inline else "attachment"
    return FileResponse(path, media_type=media, filename=name, content_disposition_type=disposition)
