"""Reading a workspace: today's labels, migration between runs, drift checks, exports."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from segmint.customers import customer_table
from segmint.errors import UsageError
from segmint.io import LoadedTable, write_table
from segmint.monitor import Migration, MonitorThresholds, migration, monitor
from segmint.store._lifecycle import (
    check_salt,
    data_fingerprint,
    feature_options,
    pseudonymised,
    with_names,
)
from segmint.store._workspace import Workspace

_FILE_SUFFIXES = (".csv", ".parquet", ".pq")


def _ws(workspace: str | os.PathLike[str] | Workspace) -> Workspace:
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    ws.require()
    return ws


def current_assignments(
    workspace: str | os.PathLike[str] | Workspace, run: str | None = None
) -> pd.DataFrame:
    """The labels served by a run (default: the latest), with today's segment names.

    Returns
    -------
    DataFrame
        ``customer_id, segment, segment_name, confidence, run_id, assigned_at`` (the run's
        time, UTC).
    """
    ws = _ws(workspace)
    with ws.reading() as con:
        run_id = ws.resolve_run(run or "latest", con)
        record = ws.run(run_id, con)
        state = ws.state(con)
        labels = ws.assignments(run_id, con)
    labels = with_names(labels, state.overrides)
    labels["run_id"] = run_id
    labels["assigned_at"] = pd.Timestamp(record["created"]).tz_convert("UTC").tz_localize(None)
    return labels


def migration_between(
    workspace: str | os.PathLike[str] | Workspace,
    from_run: str | None = None,
    to_run: str | None = None,
) -> tuple[Migration, str, str]:
    """Transition matrix between two runs (default: the previous and the latest).

    Returns
    -------
    (Migration, from_run_id, to_run_id)
    """
    ws = _ws(workspace)
    with ws.reading() as con:
        to_id = ws.resolve_run(to_run or "latest", con)
        if from_run is None:
            previous = ws.run(to_id, con)["previous_run"]
            if previous is None:
                raise UsageError(f"{ws.path}: {to_id} is the first run; give --from and --to")
            from_id = previous
        else:
            from_id = ws.resolve_run(from_run, con)
        before = ws.assignments(from_id, con)
        after = ws.assignments(to_id, con)
    return migration(before, after), from_id, to_id


def monitor_workspace(
    workspace: str | os.PathLike[str] | Workspace,
    data: LoadedTable,
    *,
    as_of: str | None = None,
    thresholds: MonitorThresholds | None = None,
    record: bool = True,
    salt: str | None = None,
) -> dict[str, Any]:
    """Drift of new data against the data the serving model was trained on, with a verdict.

    Returns
    -------
    dict
        ``verdict`` (fine / watch / retrain), ``reasons``, then the details of
        :meth:`segmint.monitor.MonitorReport.to_dict` and the context (model version,
        reference run, data). Recorded in the workspace's ``checks`` table unless
        ``record`` is false.
    """
    ws = _ws(workspace)
    with ws.reading() as con:
        state = ws.state(con)
        if state.champion is None:
            raise UsageError(
                f"{ws.path}: no model yet; run `segmint fit DATA --workspace {ws.path}`"
            )
        row = con.execute(
            "SELECT seq, run_id FROM models WHERE version = ?", [state.champion]
        ).fetchone()
        assert row is not None
        seq, reference_run = int(row[0]), str(row[1])
    check = check_salt(ws, state, salt)
    model = ws.load_model(state.champion)
    if check is not None and salt:
        data, _ = pseudonymised(data, salt, roles=model.roles)
    reference = ws.features(reference_run)
    table = customer_table(
        data.frame, model.roles, source=data.source, as_of=as_of, **feature_options(model)
    )
    if len(table.frame) == 0:
        raise UsageError(
            f"{data.source}: no customer could be given features ({len(table.excluded)} excluded)"
        )
    report = monitor(model, reference, table.frame, thresholds=thresholds).to_dict()
    fingerprint = data_fingerprint(data.frame)
    out = {
        "verdict": report.pop("verdict"),
        "reasons": report.pop("reasons"),
        "model_version": state.champion,
        "model": f"v{seq}",
        "reference_run": reference_run,
        "data": {
            "source": data.source,
            "fingerprint": fingerprint,
            "as_of": table.account.get("as_of", as_of),
            "customers": len(table.frame),
            "excluded": len(table.excluded),
        },
        **report,
    }
    if record:
        ws.record_check(out, version=state.champion, source=data.source, fingerprint=fingerprint)
    return out


def export_assignments(
    workspace: str | os.PathLike[str] | Workspace,
    to: str,
    *,
    table: str | None = None,
    run: str | None = None,
) -> tuple[int, str]:
    """Write today's labels to a database table (upsert) or to a CSV / Parquet file.

    Parameters
    ----------
    workspace : path or Workspace
    to : str
        A SQLAlchemy URL (then ``table`` is required) or a file ending in ``.csv`` or
        ``.parquet`` (written atomically).
    table : str, optional
        Database table, ``name`` or ``schema.name``.
    run : str, optional
        Export this run's labels instead of the latest.

    Returns
    -------
    (rows, where)
    """
    labels = current_assignments(workspace, run)
    if "://" in to:
        if not table:
            raise UsageError("--to a database URL needs --table NAME")
        from segmint.database import redact, upsert_assignments

        rows = upsert_assignments(to, table, labels)
        return rows, f"{redact(to)} table {table}"
    if table:
        raise UsageError("--table applies only when --to is a database URL")
    target = Path(to)
    if target.suffix.lower() not in _FILE_SUFFIXES:
        raise UsageError(f"{to}: --to must be a database URL or a .csv / .parquet file")
    write_table(labels, target)
    return len(labels), str(target)
