"""The workspace commands of ``segmint``: refresh, rollback, runs, models, rename, monitor,
migration, export (and ``fit --workspace``).

Thin like :mod:`segmint.cli`: parse, call :mod:`segmint.store`, print. Imported by
:mod:`segmint.cli`, which registers these commands on its app.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from segmint.cli.common import (
    AsOfOpt,
    DbOpt,
    DbTableOpt,
    Debug,
    QueryOpt,
    SepOpt,
    SheetOpt,
    SparkMasterOpt,
    app,
    check_as_of,
    counted,
    err_console,
    out_console,
    print_segments,
    progress_bar,
    reported_errors,
)
from segmint.errors import UsageError
from segmint.io import LoadedTable, read_table

WorkspaceOpt = Annotated[
    str, typer.Option("--workspace", help="Workspace folder (runs, models, assignment history).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON to standard output.")]
WorkspaceSaltOpt = Annotated[
    str | None,
    typer.Option(
        "--salt",
        envvar="SEGMINT_ID_SALT",
        help="Salt of a workspace fitted with --hash-ids (never stored in it).",
    ),
]


def _dump(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, default=str) + "\n")


def _print(text: str) -> None:
    out_console.print(text, markup=False)


def _loaded(source: str | LoadedTable, sheet: str | None) -> LoadedTable:
    return source if isinstance(source, LoadedTable) else read_table(source, sheet=sheet)


def _source(
    data: str | None,
    db: str | None,
    query: str | None,
    table: str | None,
    sheet: str | None,
    sep: str | None = None,
) -> LoadedTable:
    from segmint.database import load_source

    return _loaded(load_source(data, db=db, query=query, table=table, sheet=sheet, sep=sep), sheet)


def _print_outcome(outcome: Any, workspace: str) -> None:
    """Segments with what happened to each, the decision and the migration."""
    summary = outcome.summary
    continued = {s["id"]: s for s in outcome.continued}
    new = {s["id"] for s in outcome.new_segments}
    result = outcome.result
    title = f"{outcome.run_id} ({outcome.kind}): {counted(summary['n_customers'], 'customer')}"
    table = Table(title=title)
    for column in ("id", "name", "customers", "share", "status"):
        table.add_column(
            column, justify="right" if column in ("id", "customers", "share") else "left"
        )
    for seg in result.model.segments:
        if seg["id"] in continued:
            c = continued[seg["id"]]
            overlap = "" if c["overlap"] is None else f", overlap {c['overlap']:.2f}"
            status = f"continues (distance {c['distance']:.2f}{overlap})"
            if c.get("suggested_name") and c["suggested_name"] != seg["name"]:
                status += f"; profile now reads {c['suggested_name']!r}"
        elif seg["id"] in new and outcome.previous_champion is not None:
            status = "new"
        else:
            status = "first fit"
        table.add_row(
            str(seg["id"]), seg["name"], f"{seg['size']:,}", f"{seg['share']:.1%}", status
        )
    out_console.print(table)
    for seg in outcome.retired_segments:
        _print(f"  retired: segment {seg['id']} {seg['name']}")
    if outcome.decision is not None:
        verdict = "the new model serves" if outcome.promoted else "the current model keeps serving"
        _print(f"  decision: {verdict} ({outcome.champion})")
        for reason in outcome.decision.reasons:
            _print(f"    - {reason}")
        if outcome.promoted and summary.get("reason"):
            _print(f"    - {summary['reason']}")
    else:
        _print(f"  model {outcome.champion} serves ({summary.get('reason')})")
    mig = outcome.migration
    if mig is not None:
        _print(
            f"  migration from {summary['previous_run']}: {mig.n_both:,} customers in both runs, "
            f"{mig.n_both - mig.n_moved:,} stayed, {mig.n_moved:,} moved; {mig.n_new:,} new, "
            f"{mig.n_gone:,} gone"
        )
        _print(f"  migration chart: {outcome.run_dir / 'migration.html'}")
    _print(f"Recorded {outcome.run_id} in {workspace}/")


def fit_into_workspace_command(
    source: str | LoadedTable,
    workspace: str,
    *,
    out: str | None,
    k: Any,
    customer_col: str | None,
    input_kind: Any,
    sheet: str | None,
    as_of: str | None,
    exclude: tuple[str, ...],
    seed: int,
    as_json: bool,
    salt: str | None = None,
    id_map: str | None = None,
    **fit_options: Any,
) -> None:
    """``segmint fit ... --workspace DIR [--out DIR]`` (called by :func:`segmint.cli.fit.fit`).

    ``fit_options`` go to :func:`segmint.runner.fit_file` with ``--out``; without it, those
    that :func:`segmint.segment` takes go to the fit (the others need an output folder).
    With ``salt`` the customer ids are pseudonymised (``--hash-ids``) before the fit, the
    mapping written to ``id_map`` when given.
    """
    from segmint.io import write_table
    from segmint.pipeline import SEGMENT_OPTIONS
    from segmint.runner import fit_file
    from segmint.store import fit_into_workspace, fit_workspace, pseudonymised

    given = {key: value for key, value in fit_options.items() if value not in (None, False)}
    if salt is not None:
        # fit_workspace pseudonymises the ids itself; the --out path records a fit of
        # data pseudonymised here. Either way the mapping comes from here.
        raw = _loaded(source, sheet)
        hashed, pairs = pseudonymised(raw, salt, customer_col=customer_col, input_kind=input_kind)
        source = raw if out is None else hashed
        if id_map is not None and pairs is not None:
            write_table(pairs, id_map)

    outcomes: list[Any] = []
    with progress_bar(not as_json, 4) as progress:
        if out is None:
            outcomes.append(
                fit_workspace(
                    workspace,
                    _loaded(source, sheet),
                    k=k,
                    customer_col=customer_col,
                    input_kind=input_kind,
                    as_of=as_of,
                    exclude=exclude,
                    seed=seed,
                    progress=progress,
                    salt=salt,
                    **{key: value for key, value in given.items() if key in SEGMENT_OPTIONS},
                )
            )
        else:

            def record(result: Any, loaded: LoadedTable) -> Any:
                outcomes.append(
                    fit_into_workspace(workspace, loaded, result, as_of=as_of, salt=salt)
                )
                return outcomes[-1].result

            run = fit_file(
                source,
                out_dir=out,
                k=k,
                customer_col=customer_col,
                input_kind=input_kind,
                sheet=sheet,
                as_of=as_of,
                exclude=exclude,
                seed=seed,
                progress=progress,
                on_result=record,
                **given,
            )
    outcome = outcomes[-1]
    if as_json:
        _dump(outcome.summary)
        return
    if out is not None:
        print_segments(run.summary, run.out_dir)
    _print_outcome(outcome, workspace)


@app.command()
def refresh(
    data: Annotated[
        str | None, typer.Argument(help="New data, same shape as the model's (or --db).")
    ] = None,
    workspace: WorkspaceOpt = "segmint-workspace",
    as_of: AsOfOpt = None,
    sheet: SheetOpt = None,
    sep: SepOpt = None,
    db: DbOpt = None,
    query: QueryOpt = None,
    table: DbTableOpt = None,
    salt: WorkspaceSaltOpt = None,
    as_json: JsonOpt = False,
    engine: Annotated[
        str, typer.Option("--engine", help="local, or spark (features of a log in Spark SQL).")
    ] = "local",
    spark_master: SparkMasterOpt = "local[*]",
    debug: Debug = False,
) -> None:
    """Refit on new data, keep segment ids and names, and serve the new model only if as good."""
    from segmint.store import refresh_workspace

    with reported_errors(debug):
        check_as_of(as_of)
        features = None
        from segmint.spark.session import check_engine

        check_engine(engine)
        if engine == "spark":
            from segmint.spark.runner import refresh_spark_inputs

            if data is None:
                raise UsageError("--engine spark reads a CSV/TSV/Parquet log (DATA)")
            loaded, features = refresh_spark_inputs(
                workspace, data, as_of=as_of, master=spark_master, sep=sep
            )
        else:
            loaded = _source(data, db, query, table, sheet, sep)
        with progress_bar(not as_json, 4) as progress:
            outcome = refresh_workspace(
                workspace, loaded, as_of=as_of, progress=progress, salt=salt, table=features
            )
        if as_json:
            _dump(outcome.summary)
        else:
            _print_outcome(outcome, workspace)


@app.command()
def rollback(
    to: Annotated[str, typer.Option("--to", help="Model version: v2, 2 or a hash prefix.")],
    workspace: WorkspaceOpt = "segmint-workspace",
    as_json: JsonOpt = False,
    debug: Debug = False,
) -> None:
    """Serve an earlier model version again (relabels the latest customers with it)."""
    from segmint.store import rollback_workspace

    with reported_errors(debug):
        outcome = rollback_workspace(workspace, to)
        if as_json:
            _dump(outcome.summary)
            return
        mig = outcome.migration
        assert mig is not None  # a rollback always relabels the latest customers
        _print(
            f"{outcome.run_id}: model {outcome.champion} serves again "
            f"(was {outcome.previous_champion})"
        )
        _print(f"  {mig.n_both:,} customers relabelled: {mig.n_moved:,} changed segment")
        _print(f"  migration chart: {outcome.run_dir / 'migration.html'}")


def _short(value: Any, width: int = 40) -> str:
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    return text if len(text) <= width else "..." + text[-(width - 3) :]


@app.command()
def runs(
    workspace: WorkspaceOpt = "segmint-workspace", as_json: JsonOpt = False, debug: Debug = False
) -> None:
    """List the runs recorded in a workspace."""
    from segmint.store import Workspace

    with reported_errors(debug):
        ws = Workspace(workspace)
        frame = ws.runs()
        versions = {v: f"v{s}" for v, s in ws.models()[["version", "seq"]].itertuples(index=False)}
        if as_json:
            _dump(frame.to_dict(orient="records"))
            return
        rows = []
        for row in frame.to_dict(orient="records"):
            metrics = row["metrics"] or {}
            sil = metrics.get("silhouette_fit")
            rows.append(
                {
                    "run": row["run_id"],
                    "kind": row["kind"],
                    "created": str(row["created"])[:16].replace("T", " "),
                    "as of": row["as_of"] or "",
                    "customers": f"{row['n_customers']:,}",
                    "k": metrics.get("k", ""),
                    "fitted": versions.get(row["model_version"], "-"),
                    "serving": versions.get(row["serving_version"], "?"),
                    "silhouette": "" if sil is None else f"{sil:.3f}",
                }
            )
        _print(f"runs in {workspace}:")
        _print(pd.DataFrame(rows).to_string(index=False))


@app.command()
def models(
    workspace: WorkspaceOpt = "segmint-workspace", as_json: JsonOpt = False, debug: Debug = False
) -> None:
    """List the model versions of a workspace (the serving one marked)."""
    from segmint.store import Workspace

    with reported_errors(debug):
        frame = Workspace(workspace).models()
        if as_json:
            _dump(frame.to_dict(orient="records"))
            return
        rows = [
            {
                "version": f"v{row['seq']}",
                "hash": row["version"],
                "created": str(row["created"])[:10],
                "run": row["run_id"],
                "k": row["k"],
                "serving": "yes" if row["champion"] else "",
                "segments": ", ".join(f"{s['id']} {s['name']}" for s in row["segments"]),
            }
            for row in frame.to_dict(orient="records")
        ]
        _print(f"model versions in {workspace}:")
        _print(pd.DataFrame(rows).to_string(index=False, justify="left"))


@app.command()
def rename(
    run_dir: Annotated[
        str | None, typer.Argument(help="A fit's output folder (omit to rename in --workspace).")
    ] = None,
    segment: Annotated[int | None, typer.Option("--segment", help="Segment id.")] = None,
    name: Annotated[str | None, typer.Option("--name", help="The new name.")] = None,
    action: Annotated[str | None, typer.Option("--action", help="The recommended action.")] = None,
    names: Annotated[
        str | None,
        typer.Option("--names", help="RUN_DIR: CSV, JSON or TOML of segment, name[, action]."),
    ] = None,
    workspace: WorkspaceOpt = "segmint-workspace",
    debug: Debug = False,
) -> None:
    """Name a segment of a run folder (RUN_DIR) or a workspace; the name survives refits."""
    if run_dir is not None:
        from segmint.cli.report import rename_run_command

        rename_run_command(run_dir, segment, name, action, names, debug)
        return
    from segmint.errors import UsageError
    from segmint.store import rename_segment

    with reported_errors(debug):
        if segment is None or name is None or names is not None:
            raise UsageError("give --segment ID and --name NAME (--names needs a RUN_DIR)")
        done = rename_segment(workspace, segment, name, action)
        _print(
            f"segment {done['id']}: {done['previous_name']!r} -> {done['name']!r}"
            + (f" (action: {done['action']})" if done["action"] else "")
        )


@app.command()
def monitor(
    data: Annotated[
        str | None, typer.Argument(help="New data, same shape as the model's (or --db).")
    ] = None,
    workspace: WorkspaceOpt = "segmint-workspace",
    as_of: AsOfOpt = None,
    sheet: SheetOpt = None,
    db: DbOpt = None,
    query: QueryOpt = None,
    table: DbTableOpt = None,
    salt: WorkspaceSaltOpt = None,
    as_json: JsonOpt = False,
    debug: Debug = False,
) -> None:
    """Drift of new data against the serving model: verdict fine / watch / retrain (exit 0)."""
    from segmint.store import monitor_workspace

    with reported_errors(debug):
        check_as_of(as_of)
        loaded = _source(data, db, query, table, sheet)
        report = monitor_workspace(workspace, loaded, as_of=as_of, salt=salt)
        if as_json:
            _dump(report)
            return
        _print(
            f"verdict: {report['verdict']} (model {report['model']}, trained on "
            f"{report['reference_run']})"
        )
        for finding in report["findings"]:
            _print(f"  {finding['level']}: {finding['message']}")
        c = report["customers"]
        _print(
            f"  customers: {c['current']:,} now, {c['reference']:,} at training; "
            f"{c['new']:,} new ({c['new_share']:.1%}), {c['gone']:,} gone"
        )
        q = report["quality"]
        if q["silhouette_current"] is not None and q["silhouette_reference"] is not None:
            _print(
                f"  silhouette: {q['silhouette_current']:.3f} now, "
                f"{q['silhouette_reference']:.3f} at training"
            )
        features = Table(title="feature drift")
        for column in ("feature", "PSI", "status", "KS", "Wasserstein/sd"):
            features.add_column(
                column, justify="left" if column in ("feature", "status") else "right"
            )
        for f in report["features"]:
            ks = "" if f["ks_statistic"] is None else f"{f['ks_statistic']:.3f}"
            wd = "" if f["wasserstein"] is None else f"{f['wasserstein']:.3f}"
            features.add_row(f["feature"], f"{f['psi']:.3f}", f["status"], ks, wd)
        out_console.print(features)
        segments = Table(title="segments")
        for column in ("id", "name", "share then", "share now", "centre moved", "confidence now"):
            segments.add_column(column, justify="left" if column == "name" else "right")
        for s in report["segments"]:
            shift = "" if s["centroid_shift"] is None else f"{s['centroid_shift']:.2f}"
            conf = (
                ""
                if s["current_mean_confidence"] is None
                else f"{s['current_mean_confidence']:.2f}"
            )
            segments.add_row(
                str(s["id"]),
                s["name"],
                f"{s['reference_share']:.1%}",
                f"{s['current_share']:.1%}",
                shift,
                conf,
            )
        out_console.print(segments)


@app.command()
def migration(
    workspace: WorkspaceOpt = "segmint-workspace",
    from_run: Annotated[
        str | None, typer.Option("--from", help="Earlier run (default: the one before --to).")
    ] = None,
    to_run: Annotated[
        str | None, typer.Option("--to", help="Later run (default: the latest).")
    ] = None,
    out: Annotated[
        str | None, typer.Option("--out", help="Write the matrix here (.csv or .parquet).")
    ] = None,
    moved: Annotated[
        str | None, typer.Option("--moved", help="Write the customers who moved here.")
    ] = None,
    html: Annotated[
        str | None, typer.Option("--html", help="Write the Sankey chart page here.")
    ] = None,
    as_json: JsonOpt = False,
    debug: Debug = False,
) -> None:
    """Segment-to-segment transition matrix between two runs."""
    from segmint.io import write_table
    from segmint.report.migration import render_migration
    from segmint.store import migration_between

    with reported_errors(debug):
        mig, from_id, to_id = migration_between(workspace, from_run, to_run)
        if out is not None:
            write_table(mig.table().reset_index(), out)
        if moved is not None:
            write_table(mig.moved, moved)
        if html is not None:
            page = render_migration(
                mig, title=f"Segment migration {from_id} → {to_id}", before=from_id, after=to_id
            )
            Path(html).write_text(page, encoding="utf-8")
        if as_json:
            _dump({"from": from_id, "to": to_id, **mig.to_dict()})
            return
        table = Table(title=f"migration {from_id} → {to_id} (customers; share of the row)")
        frame = mig.table()
        table.add_column("from \\ to")
        for column in frame.columns:
            table.add_column(str(column), justify="right")
        for label, row in frame.iterrows():
            total = int(row.drop("(gone)").sum())
            cells = []
            for column, value in row.items():
                share = column != "(gone)" and label != "(new customers)" and total
                cells.append(f"{int(value):,}" + (f" ({value / total:.0%})" if share else ""))
            table.add_row(str(label), *cells)
        out_console.print(table)
        _print(
            f"  {mig.n_both:,} customers in both runs: {mig.n_both - mig.n_moved:,} stayed, "
            f"{mig.n_moved:,} moved; {mig.n_new:,} new, {mig.n_gone:,} gone"
        )


@app.command()
def export(
    to: Annotated[
        str, typer.Option("--to", help="Database URL (with --table) or a .csv / .parquet file.")
    ],
    workspace: WorkspaceOpt = "segmint-workspace",
    table: Annotated[
        str | None, typer.Option("--table", help="Database table (created if missing).")
    ] = None,
    run: Annotated[
        str | None, typer.Option("--run", help="Export this run's labels (default: the latest).")
    ] = None,
    debug: Debug = False,
) -> None:
    """Upsert today's labels into a database table by customer id, or write CSV / Parquet."""
    from segmint.store import export_assignments

    with reported_errors(debug):
        rows, where = export_assignments(workspace, to, table=table, run=run)
        err_console.print(f"{rows:,} customers exported to {where}", markup=False)
