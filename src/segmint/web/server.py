"""Running the service with Uvicorn (``segmint serve``)."""

from __future__ import annotations

import sys
from pathlib import Path

from pydantic import SecretStr

from segmint.web.app import create_app
from segmint.web.settings import Settings


def run_server(
    *,
    workspace: str | Path,
    host: str,
    port: int,
    api_token: str | None = None,
    max_upload_bytes: int = 200 * 1024 * 1024,
) -> None:
    """Build the app from settings and serve it until interrupted.

    Raises
    ------
    UsageError
        ``host`` is not a loopback address and no API token is set.
    """
    import uvicorn

    settings = Settings(
        workspace=Path(workspace),
        host=host,
        port=port,
        api_token=SecretStr(api_token) if api_token else None,
        max_upload_bytes=max_upload_bytes,
    )
    app = create_app(settings)
    where = f"[{host}]" if ":" in host else host
    sys.stderr.write(
        f"segmint serving {settings.workspace} on http://{where}:{port}/ "
        f"(API /api/v1, docs /docs){'; API token required' if api_token else ''}\n"
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
