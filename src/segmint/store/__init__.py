"""The workspace: segments that stay alive.

A workspace folder (``--workspace DIR``, default ``./segmint-workspace``) keeps, in an
embedded DuckDB file, every run (when, data fingerprint, parameters, metrics), every model
version (immutable, content-hashed, stored as JSON + arrays under ``models/``), which
version serves (the *champion*), the names people gave segments, the drift checks, and
the assignment history of every customer in every run.

::

    fit_workspace(ws, data)                fit and record (first model, or explicit replace)
    fit_into_workspace(ws, data, result)   record a fit already made
    refresh_workspace(ws, data)            refit, keep ids, champion or challenger
    rollback_workspace(ws, "v2")           serve an earlier version again
    rename_segment(ws, 3, "VIPs")          a name that persists through refreshes
    monitor_workspace(ws, data)            drift and a fine / watch / retrain verdict
    migration_between(ws)                  transition matrix between two runs
    current_assignments(ws)                today's labels
    export_assignments(ws, to, table=...)  upsert into a database table, or CSV / Parquet

A write passes the stages of ``STAGES`` (fitted, model-written, run-folder-written,
before-commit, committed); the writers' ``on_stage`` callback is told each one.

Concurrency: writers take the workspace's writer lock for their whole run and open the
database only for short transactions; readers open it read-only, retrying while a
writer commits (see :mod:`segmint.store._db`).
"""

from segmint.store._db import WorkspaceBusy
from segmint.store._lifecycle import (
    STAGES,
    RunOutcome,
    data_fingerprint,
    fit_into_workspace,
    fit_workspace,
    pseudonymised,
    refresh_workspace,
    rename_segment,
    rollback_workspace,
    salt_check,
)
from segmint.store._queries import (
    current_assignments,
    export_assignments,
    migration_between,
    monitor_workspace,
)
from segmint.store._workspace import DEFAULT_WORKSPACE, Workspace

__all__ = [
    "DEFAULT_WORKSPACE",
    "STAGES",
    "RunOutcome",
    "Workspace",
    "WorkspaceBusy",
    "current_assignments",
    "data_fingerprint",
    "export_assignments",
    "fit_into_workspace",
    "fit_workspace",
    "migration_between",
    "monitor_workspace",
    "pseudonymised",
    "refresh_workspace",
    "rename_segment",
    "rollback_workspace",
    "salt_check",
]
