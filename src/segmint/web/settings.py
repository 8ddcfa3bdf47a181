"""Settings of the service: one pydantic model, built by the caller (never at import)."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from segmint.errors import UsageError

LOOPBACK_NAMES = {"localhost", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (``127.0.0.0/8``, ``::1``, ``localhost``)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Settings(BaseModel):
    """Configuration of :func:`segmint.web.create_app`.

    Attributes
    ----------
    workspace : Path
        The workspace the service serves (created on start when new).
    host, port : str, int
        Where ``segmint serve`` listens. Any host other than a loopback address needs
        ``api_token``.
    api_token : SecretStr, optional
        Bearer token every ``/api/v1`` route requires (``$SEGMINT_API_TOKEN``).
    max_upload_bytes : int
        Largest request body of an upload (dataset or batch), default 200 MB.
    max_json_bytes : int
        Largest body of any other request, default 1 MB.
    expensive_per_minute : int
        Fit, batch-assignment, refresh and monitor calls allowed per client per minute.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    workspace: Path = Path("segmint-workspace")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    api_token: SecretStr | None = None
    max_upload_bytes: int = Field(default=200 * 1024 * 1024, ge=1)
    max_json_bytes: int = Field(default=1024 * 1024, ge=1)
    expensive_per_minute: int = Field(default=30, ge=1)

    def check_binding(self) -> None:
        """Refuse to serve off loopback without a token (a usage error)."""
        if not is_loopback(self.host) and not (
            self.api_token and self.api_token.get_secret_value()
        ):
            raise UsageError(
                f"--host {self.host} is not a loopback address: set SEGMINT_API_TOKEN so the API "
                "requires a bearer token"
            )

    @property
    def service_dir(self) -> Path:
        """Where uploads and fit jobs live: ``<workspace>/service``."""
        return self.workspace / "service"
