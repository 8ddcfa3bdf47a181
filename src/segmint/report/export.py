"""PDF and PNG of a report through headless Chromium (Debian's ``chromium`` package).

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
JSON messages separated by NUL bytes on file descriptors 3 and 4), so no port is opened,
no extra Python package is needed, and the export waits until every chart is drawn.
Chromium runs with a fresh profile in a temporary folder and with background networking,
component updates, sync and QUIC off; the report itself makes no network request.

* PDF: A4 landscape (the report's print style), backgrounds printed.
* PNG: the whole page at 1280 pixels wide; a page taller than :data:`MAX_PNG_HEIGHT`
  is cut into several images (``report.png``, ``report-2.png``, ...).

Chromium is found as ``$SEGMINT_CHROMIUM``, ``chromium`` or ``chromium-browser`` on the
``PATH``, or ``/usr/bin/chromium``; ``make chromium`` installs it on Debian/Ubuntu.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, cast

from segmint.errors import ExternalToolError
from segmint.io import replace_file

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
WIDTH = 1280
HEIGHT = 800
MAX_PNG_HEIGHT = 16_000
TIMEOUT_SECONDS = 120.0
_CANDIDATES = ("chromium", "chromium-browser", "/usr/bin/chromium")

# Resolves once every chart has been drawn (plotly adds .main-svg when it has rendered).
_WAIT_FOR_CHARTS = """
new Promise(function(done){
  var started = Date.now();
  (function check(){
    var charts = Array.from(document.querySelectorAll('.chart .plotly-graph-div'));
    var drawn = charts.every(function(d){ return d.querySelector('.main-svg'); });
    if ((drawn && document.readyState === 'complete') ||
        Date.now() - started > 30000) {
      requestAnimationFrame(function(){ setTimeout(function(){ done(charts.length); }, 200); });
    } else { setTimeout(check, 100); }
  })();
})
"""


def find_chromium(explicit: str | None = None) -> str:
    """The Chromium executable to use.

    Raises
    ------
    ExternalToolError
        When no Chromium is installed.
    """
    chosen = explicit or os.environ.get("SEGMINT_CHROMIUM")
    if chosen:
        found = shutil.which(chosen)
        if not found:
            raise ExternalToolError(f"{chosen}: Chromium not found there (SEGMINT_CHROMIUM)")
        return found
    for candidate in _CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    raise ExternalToolError(
        "headless Chromium is needed for --format pdf/png and was not found; install it with "
        "`make chromium` (Debian/Ubuntu: apt-get install chromium) or set SEGMINT_CHROMIUM"
    )


class _Browser:
    """A headless Chromium speaking the DevTools protocol over a pipe."""

    def __init__(self, executable: str, timeout: float) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="segmint-chromium-")
        to_read, self._to_write = os.pipe()
        self._from_read, from_write = os.pipe()

        def wire() -> None:  # in the child: the protocol expects fds 3 (in) and 4 (out)
            # Lift both ends above 10 first so that neither dup2 overwrites the other.
            high_in = fcntl.fcntl(to_read, fcntl.F_DUPFD, 10)
            high_out = fcntl.fcntl(from_write, fcntl.F_DUPFD, 10)
            os.dup2(high_in, 3)
            os.dup2(high_out, 4)

        try:
            self.process = subprocess.Popen(
                [
                    executable, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}",
                    "--remote-debugging-pipe", f"--window-size={WIDTH},{HEIGHT}",
                    "--hide-scrollbars", "about:blank",
                ],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(3, 4), preexec_fn=wire,
            )  # fmt: skip
        except OSError as exc:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise ExternalToolError(f"{executable}: cannot start Chromium ({exc})") from exc
        finally:
            os.close(to_read)
            os.close(from_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_write, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise ExternalToolError(
                        f"Chromium: {method} failed: {reply['error'].get('message')}"
                    )
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for_event(self, method: str) -> dict[str, Any]:
        while True:
            for index, event in enumerate(self.events):
                if event.get("method") == method:
                    return self.events.pop(index)
            self.events.append(self._receive())

    def _receive(self) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_read], [], [], max(0.0, left))
            if not ready:
                raise ExternalToolError(
                    f"Chromium did not answer within {self.timeout:.0f} seconds"
                )
            chunk = os.read(self._from_read, 1 << 20)
            if not chunk:
                raise ExternalToolError("Chromium stopped unexpectedly")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return cast(dict[str, Any], json.loads(raw))

    def close(self) -> None:
        try:
            if self.process.poll() is None:
                os.write(
                    self._to_write,
                    json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0",
                )
                self.process.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        finally:
            for fd in (self._to_write, self._from_read):
                with contextlib.suppress(OSError):
                    os.close(fd)
            shutil.rmtree(self.profile, ignore_errors=True)


def _open(browser: _Browser, html_path: Path) -> str:
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session: str = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    browser.send("Page.enable", session=session)
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
        session=session,
    )
    browser.send("Page.navigate", {"url": html_path.resolve().as_uri()}, session=session)
    browser.wait_for_event("Page.loadEventFired")
    browser.send(
        "Runtime.evaluate", {"expression": _WAIT_FOR_CHARTS, "awaitPromise": True}, session=session
    )
    return session


def export_report(
    html_path: str | os.PathLike[str],
    out: str | os.PathLike[str],
    fmt: str,
    *,
    chromium: str | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> list[Path]:
    """Write ``html_path`` as PDF or PNG to ``out``.

    Parameters
    ----------
    html_path : path
        A report page.
    out : path
        The file to write (PNG: further parts get ``-2``, ``-3``, ... before the suffix).
    fmt : {"pdf", "png"}
    chromium : str, optional
        The Chromium executable (see :func:`find_chromium`).
    timeout : float
        Seconds to wait for any one answer of Chromium.

    Returns
    -------
    list of Path
        The files written.
    """
    if fmt not in ("pdf", "png"):
        raise ValueError(f"format must be pdf or png, not {fmt!r}")
    executable = find_chromium(chromium)
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    browser = _Browser(executable, timeout)
    try:
        session = _open(browser, Path(html_path))
        if fmt == "pdf":
            result = browser.send(
                "Page.printToPDF",
                {"printBackground": True, "landscape": True, "preferCSSPageSize": True},
                session=session,
            )
            replace_file(target, base64.b64decode(result["data"]))
            return [target]
        metrics = browser.send("Page.getLayoutMetrics", session=session)
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        height = int(size["height"]) + 1
        written = []
        for part, top in enumerate(range(0, height, MAX_PNG_HEIGHT), start=1):
            clip = {
                "x": 0,
                "y": top,
                "width": WIDTH,
                "height": min(MAX_PNG_HEIGHT, height - top),
                "scale": 1,
            }
            shot = browser.send(
                "Page.captureScreenshot",
                {"format": "png", "captureBeyondViewport": True, "clip": clip},
                session=session,
            )
            path = target if part == 1 else target.with_name(f"{target.stem}-{part}{target.suffix}")
            replace_file(path, base64.b64decode(shot["data"]))
            written.append(path)
        return written
    finally:
        browser.close()
