"""The workspace's DuckDB file: schema, short connections with retry, the writer lock.

DuckDB locks its file per process: a read-write connection excludes every other process,
read-only connections exclude writers. So nothing here holds a connection for long:
every read or write opens the file, runs one transaction and closes it, retrying with
backoff while another process holds a conflicting lock (:data:`LOCK_TIMEOUT` seconds,
``$SEGMINT_DB_TIMEOUT`` to change). Long work (fitting) happens with the file closed.

Writers of the workspace (fit, refresh, rollback, rename) also take an exclusive
``flock`` on ``.writer.lock`` for their whole run, so two refreshes never interleave;
the kernel drops it when a process dies, even by ``kill -9``.
"""

from __future__ import annotations

import fcntl
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from segmint.errors import SegmintError

DB_FILE = "segmint.duckdb"
LOCK_FILE = ".writer.lock"
SCHEMA_VERSION = 1
LOCK_TIMEOUT = 120.0
WRITER_TIMEOUT = 3600.0

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY, seq INTEGER NOT NULL, kind VARCHAR NOT NULL,
    created VARCHAR NOT NULL, source VARCHAR, data_fingerprint VARCHAR, as_of VARCHAR,
    params VARCHAR, metrics VARCHAR, model_version VARCHAR, serving_version VARCHAR NOT NULL,
    promoted BOOLEAN, decision VARCHAR, n_customers INTEGER, n_excluded INTEGER,
    previous_run VARCHAR
);
CREATE TABLE IF NOT EXISTS models (
    version VARCHAR PRIMARY KEY, seq INTEGER NOT NULL, created VARCHAR NOT NULL,
    run_id VARCHAR NOT NULL, k INTEGER, algorithm VARCHAR, segments VARCHAR, metrics VARCHAR
);
CREATE TABLE IF NOT EXISTS assignments (
    run_id VARCHAR NOT NULL, customer_id VARCHAR NOT NULL, segment INTEGER NOT NULL,
    segment_name VARCHAR, confidence DOUBLE
);
CREATE TABLE IF NOT EXISTS champion_history (
    seq INTEGER NOT NULL, changed_at VARCHAR NOT NULL, version VARCHAR NOT NULL, run_id VARCHAR,
    reason VARCHAR
);
CREATE TABLE IF NOT EXISTS segment_names (
    segment INTEGER PRIMARY KEY, name VARCHAR NOT NULL, action VARCHAR, updated VARCHAR
);
CREATE TABLE IF NOT EXISTS checks (
    checked_at VARCHAR NOT NULL, model_version VARCHAR, source VARCHAR, data_fingerprint VARCHAR,
    verdict VARCHAR, report VARCHAR
);
"""


class WorkspaceBusy(SegmintError):
    """Another process kept the workspace locked for longer than the timeout."""

    exit_code = 1


def _timeout(default: float, name: str) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text or "different configuration" in text


@contextmanager
def connect(path: Path, *, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the DuckDB file, retrying while another process holds a conflicting lock.

    Raises
    ------
    WorkspaceBusy
        Still locked after ``$SEGMINT_DB_TIMEOUT`` (default 120) seconds.
    """
    deadline = time.monotonic() + _timeout(LOCK_TIMEOUT, "SEGMINT_DB_TIMEOUT")
    delay = 0.005
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            if not _is_lock_error(exc) or time.monotonic() > deadline:
                if _is_lock_error(exc):
                    raise WorkspaceBusy(
                        f"{path}: locked by another segmint process for too long; try again"
                    ) from exc
                raise
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.2)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def transaction(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection inside one transaction: committed on success, else rolled back."""
    with connect(path, read_only=False) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")


def create_schema(path: Path) -> None:
    """Create the tables when missing (idempotent, one transaction)."""
    with transaction(path) as con:
        con.execute(SCHEMA)
        con.execute(
            "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
            [str(SCHEMA_VERSION)],
        )
        con.execute("INSERT INTO meta VALUES ('next_segment_id', '0') ON CONFLICT DO NOTHING")


@contextmanager
def writer_lock(folder: Path) -> Iterator[None]:
    """Hold the workspace's writer lock (``flock`` on ``.writer.lock``).

    Waits up to ``$SEGMINT_WRITER_TIMEOUT`` (default 3600) seconds for another writer.
    """
    path = folder / LOCK_FILE
    handle = open(path, "a+")  # noqa: SIM115 - held for the block, closed in finally
    try:
        deadline = time.monotonic() + _timeout(WRITER_TIMEOUT, "SEGMINT_WRITER_TIMEOUT")
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "unknown"
                    raise WorkspaceBusy(
                        f"{folder}: another segmint process (pid {holder}) is writing the "
                        "workspace; try again when it has finished"
                    ) from None
                time.sleep(0.1)
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield
    finally:
        handle.close()  # releases the flock
