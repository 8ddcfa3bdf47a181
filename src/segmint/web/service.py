"""The state one service holds: the workspace, uploads, jobs, the serving model, limits."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import defaultdict, deque
from pathlib import Path
from typing import Any

from segmint.store import Workspace
from segmint.web.assigner import FastAssigner
from segmint.web.datasets import DatasetStore
from segmint.web.errors import ApiError
from segmint.web.jobs import JobManager
from segmint.web.settings import Settings


class RateLimit:
    """At most ``per_minute`` calls per client in any 60 seconds (sliding window)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._calls: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, client: str, what: str) -> None:
        """Count a call; a 429 with ``Retry-After`` when over the limit."""
        now = time.monotonic()
        with self._lock:
            calls = self._calls[client]
            while calls and now - calls[0] >= 60.0:
                calls.popleft()
            if len(calls) >= self.per_minute:
                wait = max(1, int(60.0 - (now - calls[0])) + 1)
                raise ApiError(
                    429,
                    f"too many {what} calls: at most {self.per_minute} per minute; "
                    f"retry in {wait} s",
                    headers={"Retry-After": str(wait)},
                )
            calls.append(now)


class Service:
    """Everything the routes share (built by :func:`segmint.web.create_app`)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.workspace = Workspace(settings.workspace)
        self.datasets = DatasetStore(settings.service_dir / "datasets")
        self.jobs = JobManager(settings.service_dir / "jobs")
        self.limit = RateLimit(settings.expensive_per_minute)
        self._assigner: FastAssigner | None = None
        self._assigner_key: tuple[Any, ...] | None = None
        self._lock = threading.Lock()
        db = self.workspace.db
        self._db_files = (os.fspath(db), os.fspath(db.with_name(db.name + ".wal")))

    def open(self) -> None:
        """Create the workspace when new (so uploads can live in it) and the service folders."""
        if not self.workspace.exists():
            with self.workspace.writer():
                pass
        self.datasets.root.mkdir(parents=True, exist_ok=True)
        self.jobs.root.mkdir(parents=True, exist_ok=True)

    def _db_key(self) -> tuple[Any, ...]:
        # Checked on every assignment: one stat per file.
        key: list[tuple[int, int] | None] = []
        for path in self._db_files:
            try:
                stat = os.stat(path)
            except OSError:
                key.append(None)
            else:
                key.append((stat.st_mtime_ns, stat.st_size))
        return tuple(key)

    def assigner(self) -> FastAssigner:
        """The serving model, precomputed; rebuilt when the workspace database changes."""
        key = self._db_key()
        current = self._assigner
        if current is not None and key == self._assigner_key:
            return current
        with self._lock:
            if self._assigner is not None and key == self._assigner_key:
                return self._assigner
            state = self.workspace.state()
            if state.champion is None:
                raise ApiError(
                    409,
                    f"{self.workspace.path.name}: no model yet; fit one first (POST /api/v1/fit)",
                )
            model = self.workspace.load_model(state.champion)
            names = {s: o["name"] for s, o in state.overrides.items() if o.get("name")}
            self._assigner = FastAssigner(model, names)
            self._assigner_key = key
            return self._assigner

    def job_out(self, run_id: str) -> Path | None:
        """The output folder (report, profiles) of the fit job that made ``run_id``, if any."""
        for job in self.jobs.root.iterdir() if self.jobs.root.is_dir() else ():
            result = job / "result.json"
            if result.is_file() and json.loads(result.read_text()).get("run_id") == run_id:
                return job / "out"
        return None

    def scrub(self, value: Any) -> Any:
        """``value`` with the server paths of uploads replaced by their file names."""
        text = json.dumps(value, default=str)
        root = str(self.datasets.root)
        if root not in text:
            return value
        for dataset in self.datasets.list():
            text = text.replace(json.dumps(str(dataset.path))[1:-1], dataset.name)
        return json.loads(text)
