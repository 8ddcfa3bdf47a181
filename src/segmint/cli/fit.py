"""``segmint fit``, ``assign``, ``demo`` and ``serve``: fit a model, use it, try it, serve it."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from segmint.cli.common import (
    AsOfOpt,
    DbOpt,
    DbTableOpt,
    Debug,
    HashIdsOpt,
    IdMapOpt,
    InputShape,
    KeepPiiOpt,
    QueryOpt,
    SaltOpt,
    SepOpt,
    SheetOpt,
    SparkMasterOpt,
    SpecOpt,
    app,
    check_as_of,
    counted,
    err_console,
    feature_options,
    out_console,
    print_segments,
    progress_bar,
    reported_errors,
)
from segmint.errors import UsageError


@app.command()
def fit(
    data: Annotated[
        str | None, typer.Argument(help="Data file: CSV, TSV, Excel, JSON or Parquet (or --db).")
    ] = None,
    out: Annotated[
        str | None,
        typer.Option(
            "--out", help="Output folder [default: segmint-output, none with --workspace]."
        ),
    ] = None,
    k: Annotated[str, typer.Option("--k", help="Number of segments: auto, N or MIN-MAX.")] = "auto",
    id_col: Annotated[
        str | None, typer.Option("--id", help="Customer id column (detected if not given).")
    ] = None,
    input_shape: Annotated[
        InputShape, typer.Option("--input", help="Shape of the data.")
    ] = InputShape.auto,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    sheet: SheetOpt = None,
    sep: SepOpt = None,
    as_of: AsOfOpt = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="Column never used as a feature (repeatable)."),
    ] = None,
    keep: Annotated[
        list[str] | None,
        typer.Option(
            "--keep",
            help=(
                "Column kept as a feature even when the segments are only its levels "
                "(by default such a column is left out and the fit done again; repeatable)."
            ),
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print summary.json to standard output.")
    ] = False,
    outcome: Annotated[
        str | None,
        typer.Option(
            "--outcome", help="Column reported per segment (rate or mean), never a feature."
        ),
    ] = None,
    compare: Annotated[
        bool, typer.Option("--compare", help="Fit and profile every k of the range side by side.")
    ] = False,
    workspace: Annotated[
        str | None, typer.Option("--workspace", help="Record the run and model in this workspace.")
    ] = None,
    db: DbOpt = None,
    query: QueryOpt = None,
    table: DbTableOpt = None,
    spec_file: SpecOpt = None,
    hash_ids: HashIdsOpt = False,
    salt: SaltOpt = None,
    id_map: IdMapOpt = None,
    keep_pii: KeepPiiOpt = False,
    engine: Annotated[
        str,
        typer.Option("--engine", help="local (DuckDB, scikit-learn) or spark (Spark SQL, MLlib)."),
    ] = "local",
    spark_master: SparkMasterOpt = "local[*]",
    algorithm: Annotated[
        str,
        typer.Option(
            "--algorithm",
            help=(
                "auto (compares k-means, gmm, ward, genie), kmeans, gmm, ward, genie, birch, "
                "hdbscan, dbscan or consensus."
            ),
        ),
    ] = "auto",
    within: Annotated[
        str | None,
        typer.Option(
            "--within",
            help="Segment each value of this column (plan, region, ...) separately, k per tier.",
        ),
    ] = None,
    keep_sentinels: Annotated[
        bool,
        typer.Option(
            "--keep-sentinels",
            help="Keep placeholder and impossible values (income 999999, birth year 1893).",
        ),
    ] = False,
    debug: Debug = False,
) -> None:
    """Segment the customers in DATA and write segments, profiles, report and model."""
    from segmint.algorithms import check_algorithm
    from segmint.database import load_source
    from segmint.model import parse_k
    from segmint.runner import fit_file

    with reported_errors(debug):
        check_as_of(as_of)
        from segmint.spark.session import check_engine

        check_engine(engine)
        mode, bounds = parse_k(k)
        k_spec: Any = "auto" if mode == "auto" else bounds[0] if mode == "fixed" else bounds
        algorithm = check_algorithm(algorithm)
        if engine == "spark":
            from segmint.spark.runner import fit_spark_file

            if data is None:
                raise UsageError("--engine spark reads a CSV/TSV/Parquet file (DATA)")
            if algorithm not in ("auto", "kmeans", "gmm"):
                raise UsageError(f"--engine spark fits kmeans or gmm (MLlib), not {algorithm}")
            fitted = fit_spark_file(
                data,
                out_dir=out or "segmint-output",
                k=k_spec,
                seed=seed,
                as_of=as_of,
                master=spark_master,
                algorithm="kmeans" if algorithm == "auto" else algorithm,
                sep=sep,
            )
            print_segments(fitted.result.summary, Path(out or "segmint-output"))
            return
        source = load_source(data, db=db, query=query, table=table, sheet=sheet, sep=sep)
        privacy = feature_options(spec_file, hash_ids, salt, id_map, keep_pii)
        if workspace is not None:
            from segmint.cli.workspace import fit_into_workspace_command

            if hash_ids and not salt:
                raise UsageError(
                    "--hash-ids with --workspace needs --salt (or SEGMINT_ID_SALT): every "
                    "later refresh and monitor must pseudonymise the ids the same way"
                )
            fit_into_workspace_command(
                source,
                workspace,
                out=out,
                k=k_spec,
                customer_col=id_col,
                input_kind=input_shape.value,
                sheet=sheet,
                as_of=as_of,
                exclude=tuple(exclude or ()),
                keep=tuple(keep or ()),
                seed=seed,
                as_json=as_json,
                salt=salt if hash_ids else None,
                id_map=id_map,
                outcome=outcome,
                compare=compare,
                algorithm=algorithm,
                within=within,
                spec=privacy["spec"],
            )
            return
        with progress_bar(not as_json, 3) as progress:
            run = fit_file(
                source,
                out_dir=out or "segmint-output",
                k=k_spec,
                customer_col=id_col,
                input_kind=input_shape.value,
                sheet=sheet,
                as_of=as_of,
                exclude=tuple(exclude or ()),
                keep=tuple(keep or ()),
                seed=seed,
                progress=progress,
                outcome=outcome,
                compare=compare,
                detail=getattr(progress, "detail", None),
                algorithm=algorithm,
                within=within,
                keep_sentinels=keep_sentinels,
                **privacy,
            )
        if as_json:
            sys.stdout.write(json.dumps(run.summary, indent=2, default=str) + "\n")
        else:
            print_segments(run.summary, run.out_dir)


@app.command()
def assign(
    model_dir: Annotated[
        str, typer.Argument(help="A fit's output folder, its model/ folder, or a workspace.")
    ],
    data: Annotated[
        str | None,
        typer.Argument(help="Customers to label (same shape of data as for fit; or --db)."),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option(
            "--out", help="Write labels here (.csv or .parquet); default: standard output."
        ),
    ] = None,
    sheet: SheetOpt = None,
    sep: SepOpt = None,
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    query: QueryOpt = None,
    table: DbTableOpt = None,
    hash_ids: HashIdsOpt = False,
    salt: SaltOpt = None,
    keep_pii: KeepPiiOpt = False,
    engine: Annotated[
        str, typer.Option("--engine", help="local or spark (features and labels in Spark).")
    ] = "local",
    spark_master: SparkMasterOpt = "local[*]",
    debug: Debug = False,
) -> None:
    """Label new customers with a saved model (or a workspace's serving model)."""
    from segmint.database import load_source
    from segmint.runner import assign_file

    with reported_errors(debug):
        check_as_of(as_of)
        from segmint.spark.session import check_engine

        if check_engine(engine) == "spark":
            from segmint.spark.runner import assign_spark_file

            if data is None or out is None:
                raise UsageError("--engine spark needs DATA (CSV/TSV/Parquet) and --out")
            rows = assign_spark_file(
                model_dir, data, out=out, as_of=as_of, master=spark_master, sep=sep
            )
            err_console.print(f"{rows:,} customers labelled in {out}", markup=False)
            return
        source = load_source(data, db=db, query=query, table=table, sheet=sheet, sep=sep)
        with progress_bar(out is not None, 4) as progress:
            run = assign_file(
                model_dir, source, out=out, sheet=sheet, as_of=as_of, progress=progress,
                ids=feature_options(None, hash_ids, salt, None, keep_pii)["ids"],
            )  # fmt: skip
        labelled = run.assignment.assignments
        if run.out is None:
            from segmint.customers import output_table

            written = output_table(labelled, run.assignment.account)
            sys.stdout.write(written.to_csv(index=False))
        for note in run.assignment.notes:
            err_console.print(f"note: {note}", markup=False)
        excluded = run.assignment.excluded
        if len(excluded):
            where = f"; listed in {run.excluded_out}" if run.excluded_out else ""
            counts = ", ".join(
                f"{n:,} {r.replace('_', ' ')}" for r, n in excluded["reason"].value_counts().items()
            )
            err_console.print(
                f"excluded: {counted(len(excluded), 'customer')} ({counts}){where}", markup=False
            )
        if run.out is not None:
            err_console.print(f"{len(labelled):,} customers labelled in {run.out}", markup=False)


@app.command()
def demo(
    out: Annotated[str, typer.Option("--out", help="Output folder.")] = "segmint-demo",
    customers: Annotated[
        int, typer.Option("--customers", min=10, help="Customers to generate.")
    ] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
    debug: Debug = False,
) -> None:
    """Generate a demo transaction log and segment it (the quick start)."""
    from segmint.datasets import make_transactions
    from segmint.io import write_table
    from segmint.runner import fit_file

    with reported_errors(debug):
        log = make_transactions(customers, seed=seed)
        assert not isinstance(log, tuple)
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "demo_transactions.csv"
            write_table(log, data)
            with progress_bar(True, 3) as progress:
                run = fit_file(data, out_dir=out, seed=seed, progress=progress)
            write_table(log, run.out_dir / "demo_transactions.csv")
        out_console.print(
            f"Demo data: {len(log):,} transactions of {customers:,} customers "
            f"(generated; saved as {run.out_dir / 'demo_transactions.csv'})",
            markup=False,
        )
        print_segments(run.summary, run.out_dir)


@app.command()
def serve(
    workspace: Annotated[
        str, typer.Option("--workspace", help="Workspace the service serves (created when new).")
    ] = "segmint-workspace",
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on; not loopback needs SEGMINT_API_TOKEN."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    max_upload_mb: Annotated[
        int, typer.Option("--max-upload-mb", min=1, help="Largest upload in MB.")
    ] = 200,
    debug: Debug = False,
) -> None:
    """Serve the JSON API (/api/v1, docs at /docs) and the web app (/) over a workspace."""
    import os

    from segmint.web.server import run_server

    with reported_errors(debug):
        run_server(
            workspace=workspace,
            host=host,
            port=port,
            api_token=os.environ.get("SEGMINT_API_TOKEN"),
            max_upload_bytes=max_upload_mb * 1024 * 1024,
        )
