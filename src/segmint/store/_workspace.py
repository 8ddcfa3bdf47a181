"""The workspace folder: the DuckDB store plus immutable model and run folders.

Layout::

    WORKSPACE/
      segmint.duckdb          runs, models, assignment history, champion, names, checks
      models/<version>/       model.json + arrays.npz; <version> is the model fingerprint
      runs/<run_id>/          features.parquet, excluded.csv, summary.json, migration.*

Every write is atomic: a model or run folder is built under a hidden name and renamed
into place, and only then is the run recorded in the database, in one transaction with
its assignments and the champion pointer. A process killed at any moment leaves either
the state before or the state after; folders nothing refers to (a killed writer's
leftovers) are removed by the next writer.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from segmint.artifacts import load_model, save_model
from segmint.errors import ModelError, UsageError
from segmint.pipeline import SegmentationModel
from segmint.store._db import DB_FILE, connect, create_schema, transaction, writer_lock

DEFAULT_WORKSPACE = "segmint-workspace"
_HIDDEN = ".tmp-"


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _json(value: Any) -> str:
    return json.dumps(value, default=str, sort_keys=True)


def _parse(text: str | None) -> Any:
    return None if text is None else json.loads(text)


@dataclass(frozen=True)
class RunRecord:
    """Everything one run writes to the database, in one transaction."""

    run_id: str
    seq: int
    kind: str
    source: str
    data_fingerprint: str | None
    as_of: str | None
    params: dict[str, Any]
    metrics: dict[str, Any]
    model_version: str | None
    serving_version: str
    promoted: bool
    decision: dict[str, Any]
    assignments: pd.DataFrame
    n_excluded: int
    previous_run: str | None
    new_model: SegmentationModel | None = None
    model_metrics: dict[str, Any] = field(default_factory=dict)
    champion_reason: str | None = None
    next_segment_id: int | None = None
    id_salt_check: str | None = None
    created: str = field(default_factory=now)


@dataclass(frozen=True)
class WorkspaceState:
    """What a refresh or a reader needs to know first."""

    champion: str | None
    next_segment_id: int
    latest_run: dict[str, Any] | None
    overrides: dict[int, dict[str, str]]
    next_run_seq: int
    id_salt_check: str | None = None


class Workspace:
    """A workspace folder (see the module docstring).

    Parameters
    ----------
    path : str or os.PathLike
        The folder; created by the first writer.
    """

    def __init__(self, path: str | os.PathLike[str] = DEFAULT_WORKSPACE) -> None:
        self.path = Path(path)
        self.db = self.path / DB_FILE
        self.models_dir = self.path / "models"
        self.runs_dir = self.path / "runs"

    # ------------------------------------------------------------------ reading

    def exists(self) -> bool:
        """Whether the workspace has been created."""
        return self.db.is_file()

    def require(self) -> None:
        """Raise a usage error unless the workspace exists."""
        if self.path.exists() and not self.path.is_dir():
            raise UsageError(f"{self.path}: --workspace must be a folder, and this is a file")
        if not self.exists():
            raise UsageError(
                f"{self.path}: not a segmint workspace (no {DB_FILE}); create one with "
                f"`segmint fit DATA --workspace {self.path}`"
            )

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short read-only connection: everything read through it is one consistent state."""
        self.require()
        with connect(self.db, read_only=True) as con:
            yield con

    def state(self, con: duckdb.DuckDBPyConnection | None = None) -> WorkspaceState:
        """Champion, next segment id, the latest run and the name overrides."""
        if con is None:
            with self.reading() as own:
                return self.state(own)
        meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
        latest = _rows(con, "SELECT * FROM runs ORDER BY seq DESC LIMIT 1")
        seq = con.execute("SELECT coalesce(max(seq), 0) + 1 FROM runs").fetchone()
        names = con.execute("SELECT segment, name, action FROM segment_names").fetchall()
        return WorkspaceState(
            champion=meta.get("champion"),
            next_segment_id=int(meta.get("next_segment_id", 0)),
            latest_run=latest[0] if latest else None,
            overrides={int(s): {"name": n, "action": a or ""} for s, n, a in names},
            next_run_seq=int(seq[0]) if seq else 1,
            id_salt_check=meta.get("id_salt_check"),
        )

    def runs(self) -> pd.DataFrame:
        """Every run, oldest first, with parameters and metrics as dicts."""
        with self.reading() as con:
            rows = _rows(con, "SELECT * FROM runs ORDER BY seq")
        return pd.DataFrame(rows, columns=_RUN_COLUMNS)

    def models(self) -> pd.DataFrame:
        """Every model version, oldest first, with a ``champion`` flag."""
        with self.reading() as con:
            champion = self.state(con).champion
            rows = _rows(con, "SELECT * FROM models ORDER BY seq")
        frame = pd.DataFrame(rows, columns=_MODEL_COLUMNS)
        frame["champion"] = frame["version"] == champion
        return frame

    def run(self, run_id: str, con: duckdb.DuckDBPyConnection | None = None) -> dict[str, Any]:
        """One run's record."""
        if con is None:
            with self.reading() as own:
                return self.run(run_id, own)
        rows = _rows(con, "SELECT * FROM runs WHERE run_id = ?", [run_id])
        if not rows:
            raise UsageError(f"{self.path}: no run {run_id!r} (see `segmint runs`)")
        return rows[0]

    def assignments(
        self, run_id: str, con: duckdb.DuckDBPyConnection | None = None
    ) -> pd.DataFrame:
        """The labels a run served: ``customer_id, segment, segment_name, confidence``."""
        if con is None:
            with self.reading() as own:
                return self.assignments(run_id, own)
        frame = con.execute(
            "SELECT customer_id, segment, segment_name, confidence FROM assignments "
            "WHERE run_id = ? ORDER BY customer_id",
            [run_id],
        ).df()
        return frame.astype({"customer_id": "string", "segment": "int64"})

    def resolve_run(self, text: str, con: duckdb.DuckDBPyConnection) -> str:
        """A run id from ``run-0003``, ``3`` or ``latest`` / ``previous``."""
        ids = [r[0] for r in con.execute("SELECT run_id FROM runs ORDER BY seq").fetchall()]
        if not ids:
            raise UsageError(f"{self.path}: the workspace has no runs yet")
        key = text.strip()
        if key == "latest":
            return str(ids[-1])
        if key == "previous":
            if len(ids) < 2:
                raise UsageError(f"{self.path}: only one run; nothing before it")
            return str(ids[-2])
        if key.isdigit():
            key = run_id_for(int(key))
        if key not in ids:
            raise UsageError(f"{self.path}: no run {text!r} (runs: {', '.join(ids)})")
        return key

    def resolve_version(self, text: str, con: duckdb.DuckDBPyConnection) -> str:
        """A model version from ``v3``, ``3`` or a prefix (4+ characters) of its hash."""
        rows = con.execute("SELECT version, seq FROM models ORDER BY seq").fetchall()
        key = text.strip().lower()
        if key.lstrip("v").isdigit():
            found = [v for v, s in rows if s == int(key.lstrip("v"))]
        elif len(key) >= 4:
            found = [v for v, _ in rows if v.startswith(key)]
        else:
            found = []
        if len(found) != 1:
            known = ", ".join(f"v{s} ({v})" for v, s in rows) or "none"
            why = "is ambiguous" if found else "is not a model version"
            raise UsageError(f"{self.path}: {text!r} {why} (versions: {known})")
        return str(found[0])

    def model_dir(self, version: str) -> Path:
        """Folder of a model version."""
        return self.models_dir / version

    def load_model(self, version: str) -> SegmentationModel:
        """Load a stored model version (its arrays checked against their hash)."""
        folder = self.model_dir(version)
        model = load_model(folder)
        if model.fingerprint() != version:
            raise ModelError(f"{folder}: content does not match its version {version}")
        return model

    def features(self, run_id: str) -> pd.DataFrame:
        """The customer table a run was computed on."""
        path = self.runs_dir / run_id / "features.parquet"
        if not path.is_file():
            raise ModelError(f"{path}: missing; the run's features were not kept")
        frame = pd.read_parquet(path)
        return frame.astype({"customer_id": "string"})

    # ------------------------------------------------------------------ writing

    @contextmanager
    def writer(self) -> Iterator[Workspace]:
        """Hold the writer lock; create the workspace if new; remove a killed writer's leftovers."""
        if self.path.exists() and not self.path.is_dir():
            raise UsageError(f"{self.path}: --workspace must be a folder, and this is a file")
        own = {".writer.lock", "models", "runs", f"{DB_FILE}.wal"}
        if (
            self.path.is_dir()
            and not self.exists()
            and any(p.name not in own for p in self.path.iterdir())
        ):
            raise UsageError(
                f"{self.path}: folder exists and is not a segmint workspace; choose another"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        with writer_lock(self.path):
            self.models_dir.mkdir(exist_ok=True)
            self.runs_dir.mkdir(exist_ok=True)
            create_schema(self.db)
            self.collect_garbage()
            yield self

    def collect_garbage(self) -> list[Path]:
        """Remove folders no record refers to (a killed writer's); call under the writer lock."""
        with connect(self.db, read_only=True) as con:
            versions = {r[0] for r in con.execute("SELECT version FROM models").fetchall()}
            runs = {r[0] for r in con.execute("SELECT run_id FROM runs").fetchall()}
        removed = []
        for folder, keep in ((self.models_dir, versions), (self.runs_dir, runs)):
            for entry in folder.iterdir():
                if entry.name not in keep:
                    shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink()
                    removed.append(entry)
        return removed

    def store_model(self, model: SegmentationModel) -> str:
        """Write a model version folder (atomically; kept as it is when already there)."""
        version = model.fingerprint()
        target = self.model_dir(version)
        if target.is_dir():
            try:
                self.load_model(version)
                return version
            except ModelError:
                shutil.rmtree(target)

        def write(staging: Path) -> None:
            save_model(model, staging)

        self._write_folder(target, write)
        return version

    def store_run_folder(self, run_id: str, write: Callable[[Path], None]) -> Path:
        """Build a run folder under a hidden name and rename it into place."""
        target = self.runs_dir / run_id
        if target.exists():  # a killed writer's leftover: not in the database
            shutil.rmtree(target)
        self._write_folder(target, write)
        return target

    def _write_folder(self, target: Path, write: Callable[[Path], None]) -> None:
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f"{_HIDDEN}{target.name}-"))
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)
        try:
            write(staging)
            os.replace(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def commit(self, record: RunRecord, before_commit: Callable[[], None] | None = None) -> None:
        """Record a run, its model, its assignments and the champion in one transaction."""
        frame = record.assignments[["customer_id", "segment", "segment_name", "confidence"]].copy()
        frame.insert(0, "run_id", record.run_id)
        frame = frame.astype({"customer_id": "string", "segment": "int64", "confidence": "float64"})
        with transaction(self.db) as con:
            if record.new_model is not None and record.model_version is not None:
                exists = con.execute(
                    "SELECT count(*) FROM models WHERE version = ?", [record.model_version]
                ).fetchone()
                if not exists or not exists[0]:
                    model = record.new_model
                    con.execute(
                        "INSERT INTO models SELECT ?, coalesce(max(seq), 0) + 1, ?, ?, ?, ?, ?, ? "
                        "FROM models",
                        [
                            record.model_version,
                            record.created,
                            record.run_id,
                            model.k,
                            str(
                                model.params.get("algorithm_used")
                                or model.params.get("algorithm", "kmeans")
                            ),
                            _json(model.segments),
                            _json(record.model_metrics),
                        ],
                    )
            con.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    record.run_id,
                    record.seq,
                    record.kind,
                    record.created,
                    record.source,
                    record.data_fingerprint,
                    record.as_of,
                    _json(record.params),
                    _json(record.metrics),
                    record.model_version,
                    record.serving_version,
                    record.promoted,
                    _json(record.decision),
                    len(frame),
                    record.n_excluded,
                    record.previous_run,
                ],
            )
            con.register("new_assignments", frame)
            con.execute("INSERT INTO assignments SELECT * FROM new_assignments")
            con.unregister("new_assignments")
            if record.champion_reason is not None:
                con.execute(
                    "INSERT INTO meta VALUES ('champion', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [record.serving_version],
                )
                con.execute(
                    "INSERT INTO champion_history SELECT coalesce(max(seq), 0) + 1, ?, ?, ?, ? "
                    "FROM champion_history",
                    [record.created, record.serving_version, record.run_id, record.champion_reason],
                )
            if record.next_segment_id is not None:
                con.execute(
                    "UPDATE meta SET value = ? WHERE key = 'next_segment_id'",
                    [str(record.next_segment_id)],
                )
            if record.id_salt_check is not None:
                con.execute(
                    "INSERT INTO meta VALUES ('id_salt_check', ?) ON CONFLICT DO NOTHING",
                    [record.id_salt_check],
                )
            if before_commit is not None:
                before_commit()

    def set_name(self, segment: int, name: str, action: str | None) -> None:
        """Record a person's name (and action) for a segment id."""
        with transaction(self.db) as con:
            con.execute(
                "INSERT INTO segment_names VALUES (?, ?, ?, ?) ON CONFLICT (segment) DO UPDATE "
                "SET name = excluded.name, updated = excluded.updated, "
                "action = coalesce(excluded.action, segment_names.action)",
                [segment, name, action, now()],
            )

    def record_check(
        self, report: dict[str, Any], *, version: str, source: str, fingerprint: str
    ) -> None:
        """Keep a monitor verdict in the history (``checks`` table)."""
        with transaction(self.db) as con:
            con.execute(
                "INSERT INTO checks VALUES (?, ?, ?, ?, ?, ?)",
                [now(), version, source, fingerprint, report["verdict"], _json(report)],
            )

    def checks(self) -> pd.DataFrame:
        """Every recorded monitor verdict, oldest first."""
        with self.reading() as con:
            return con.execute(
                "SELECT checked_at, model_version, source, data_fingerprint, verdict "
                "FROM checks ORDER BY checked_at"
            ).df()


_RUN_COLUMNS = [
    "run_id",
    "seq",
    "kind",
    "created",
    "source",
    "data_fingerprint",
    "as_of",
    "params",
    "metrics",
    "model_version",
    "serving_version",
    "promoted",
    "decision",
    "n_customers",
    "n_excluded",
    "previous_run",
]
_MODEL_COLUMNS = ["version", "seq", "created", "run_id", "k", "algorithm", "segments", "metrics"]
_JSON_COLUMNS = {"params", "metrics", "decision", "segments"}


def _rows(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [
        {n: (_parse(v) if n in _JSON_COLUMNS else v) for n, v in zip(names, row, strict=True)}
        for row in cursor.fetchall()
    ]


def run_id_for(seq: int) -> str:
    """The id of the ``seq``-th run: ``run-0001``."""
    return f"run-{seq:04d}"
