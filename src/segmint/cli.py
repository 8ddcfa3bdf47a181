"""The ``segmint`` command: thin, it parses, calls the library, prints and maps errors.

Exit codes: 0 success, 1 a data or model problem, 2 a usage problem (bad option, missing
file). Errors are one line on standard error; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from segmint._version import __version__
from segmint.errors import SegmintError, UsageError

app = typer.Typer(
    name="segmint",
    help="Customer segmentation: from a data file to named customer segments.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out_console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


class InputShape(enum.StrEnum):
    """Shape of the input data."""

    auto = "auto"
    customers = "customers"
    transactions = "transactions"


Debug = Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors.")]
DbOpt = Annotated[
    str | None, typer.Option("--db", help="Read the data from a database (SQLAlchemy URL).")
]
QueryOpt = Annotated[str | None, typer.Option("--query", help="With --db: the SELECT to run.")]
DbTableOpt = Annotated[str | None, typer.Option("--table", help="With --db: read this table.")]
SpecOpt = Annotated[
    str | None, typer.Option("--spec", help="Transactions: feature spec file (.toml or .yaml).")
]
HashIdsOpt = Annotated[
    bool, typer.Option("--hash-ids", help="Replace customer ids by salted hashes in every output.")
]
SaltOpt = Annotated[
    str | None,
    typer.Option(
        "--salt", envvar="SEGMINT_ID_SALT", help="Salt of --hash-ids (default: random per run)."
    ),
]
IdMapOpt = Annotated[
    str | None,
    typer.Option("--id-map", help="With --hash-ids: write id -> pseudonym to this file."),
]
KeepPiiOpt = Annotated[
    bool,
    typer.Option("--keep-pii", help="Write ids that are personal data (e-mails, ...) as they are."),
]
SparkMasterOpt = Annotated[
    str, typer.Option("--spark-master", help="Spark master URL for --engine spark.")
]
SheetOpt = Annotated[str | None, typer.Option("--sheet", help="Excel: read only this sheet.")]
SepOpt = Annotated[
    str | None,
    typer.Option(
        "--sep",
        help="Text tables: the delimiter when detection cannot decide: "
        "',', ';', '|', '\\t', or ' ' / whitespace (runs of spaces or tabs).",
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option("--as-of", help="Transactions: features as of this date (YYYY-MM-DD)."),
]


@contextmanager
def _errors(debug: bool) -> Iterator[None]:
    try:
        yield
    except SegmintError as exc:
        if debug:
            traceback.print_exc()
        err_console.print(f"error: {exc}", markup=False)
        raise typer.Exit(exc.exit_code) from None
    except (typer.Exit, typer.Abort, KeyboardInterrupt):
        raise
    except Exception as exc:  # a bug, not the user's fault: still one line unless --debug
        if debug:
            traceback.print_exc()
        err_console.print(
            f"error: internal error ({type(exc).__name__}: {exc}); run with --debug for details",
            markup=False,
        )
        raise typer.Exit(1) from None


def _check_as_of(value: str | None) -> None:
    """A bad --as-of is a usage problem (exit 2), found before any data is read."""
    if value is None:
        return
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--as-of {value!r} is not a date (YYYY-MM-DD)") from None


@contextmanager
def _progress(enabled: bool, steps: int) -> Iterator[Callable[[str], None]]:
    if not enabled or not err_console.is_terminal:
        # Off a terminal the transient bar still leaves a blank line on standard error.
        yield lambda _: None
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("starting", total=steps)
        done = -1
        current = "starting"

        def advance(step: str) -> None:
            nonlocal done, current
            done += 1
            current = step
            bar.update(task, description=step, completed=done)

        def detail(step: str, percent: float | None) -> None:
            # within a long step (streaming a transaction log): what it is doing now
            suffix = f" {percent:.0f}%" if percent is not None else ""
            bar.update(task, description=f"{current}: {step}{suffix}")

        advance.detail = detail  # type: ignore[attr-defined]
        yield advance
        bar.update(task, completed=steps)


def _count(n: int, noun: str) -> str:
    """``1 customer``, ``4,338 customers``."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _print_segments(summary: dict[str, Any], out_dir: Path) -> None:
    table = Table(
        title=f"{_count(summary['k'], 'segment')} of {_count(summary['n_customers'], 'customer')}"
    )
    for column in ("id", "name", "customers", "share", "recommended action"):
        table.add_column(
            column, justify="right" if column in ("id", "customers", "share") else "left"
        )
    for seg in summary["segments"]:
        table.add_row(
            str(seg["id"]), seg["name"], f"{seg['size']:,}", f"{seg['share']:.1%}", seg["action"]
        )
    out_console.print(table)
    for line in _choice_lines(summary):
        out_console.print(f"  {line}", markup=False)
    if summary["n_excluded"]:
        reasons = ", ".join(
            f"{n:,} {r.replace('_', ' ')}" for r, n in summary["excluded_by_reason"].items()
        )
        out_console.print(
            f"  excluded: {_count(summary['n_excluded'], 'customer')} ({reasons}); "
            "see excluded.csv",
            markup=False,
        )
    rows_without_id = summary["data"].get("rows_without_customer_id", 0)
    if rows_without_id and summary["input_kind"] == "transactions":
        out_console.print(
            f"  {rows_without_id:,} rows have no customer id and cannot be attributed", markup=False
        )
    if summary.get("outcome"):
        out_console.print(f"  outcome: {summary['outcome']['conclusion']}", markup=False)
    if summary.get("comparison"):
        ks = summary["comparison"]["ks"]
        out_console.print(
            f"  compared k = {ks[0]}..{ks[-1]} side by side (report: Comparing k); "
            f"`segmint fit ... --out {out_dir} --k N` reuses a candidate",
            markup=False,
        )
    out_console.print(
        f"Outputs in {out_dir}/ (segments.csv, profiles.csv, summary.json, model/)", markup=False
    )
    out_console.print(f"Report: {out_dir / 'report.html'}", markup=False)


def _choice_lines(summary: dict[str, Any]) -> list[str]:
    """How k and the family were chosen, stability and warnings, one line each."""
    selection = summary.get("selection") or {}
    lines = [f"k: {reason}" for reason in selection.get("reasons", [])]
    if summary.get("headline"):
        lines.insert(0, summary["headline"])
    if summary.get("message"):
        if summary["k"] == 1 and selection.get("continuum_k"):
            lines.insert(
                0,
                f"NO DISTINCT SEGMENTS (k = 1): for a partition of the continuum use --k N "
                f"(suggested --k {selection['continuum_k']})",
            )
        else:
            lines.insert(0, f"NOTE: {summary['message']}")
    choice = selection.get("algorithm_choice")
    if choice:
        lines += [
            f"algorithm: {choice['algorithm']}: {reason}" for reason in choice.get("reasons", [])
        ]
    elif summary.get("algorithm"):
        lines.append(f"algorithm: {summary['algorithm']}")
    stability = summary.get("stability")
    if isinstance(stability, dict) and stability.get("bootstrap_ari") is not None:
        verdict = "stable" if stability.get("stable") else "unstable"
        lines.append(
            f"stability: {verdict}, mean adjusted Rand index {stability['bootstrap_ari']:.2f} over "
            f"{stability['rounds']} bootstrap refits"
        )
    discriminant = selection.get("discriminant") or {}
    if discriminant.get("accuracy") is not None:
        lines.append(
            f"discriminant check: a {discriminant['classifier']} recovers the segments with "
            f"{discriminant['accuracy']:.0%} accuracy "
            f"({discriminant['folds']}-fold cross-validated)"
        )
    lines += [f"warning: {w}" for w in summary.get("warnings", []) if w != summary.get("message")]
    return lines


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

    with _errors(debug):
        _check_as_of(as_of)
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
            _print_segments(fitted.result.summary, Path(out or "segmint-output"))
            return
        source = load_source(data, db=db, query=query, table=table, sheet=sheet, sep=sep)
        privacy = _feature_options(spec_file, hash_ids, salt, id_map, keep_pii)
        if workspace is not None:
            from segmint.cli_workspace import fit_into_workspace_command

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
        with _progress(not as_json, 3) as progress:
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
            _print_segments(run.summary, run.out_dir)


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

    with _errors(debug):
        _check_as_of(as_of)
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
        with _progress(out is not None, 4) as progress:
            run = assign_file(
                model_dir, source, out=out, sheet=sheet, as_of=as_of, progress=progress,
                ids=_feature_options(None, hash_ids, salt, None, keep_pii)["ids"],
            )  # fmt: skip
        labelled = run.assignment.assignments
        if run.out is None:
            from segmint.pipeline import output_table

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
                f"excluded: {_count(len(excluded), 'customer')} ({counts}){where}", markup=False
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

    with _errors(debug):
        log = make_transactions(customers, seed=seed)
        assert not isinstance(log, tuple)
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "demo_transactions.csv"
            write_table(log, data)
            with _progress(True, 3) as progress:
                run = fit_file(data, out_dir=out, seed=seed, progress=progress)
            write_table(log, run.out_dir / "demo_transactions.csv")
        out_console.print(
            f"Demo data: {len(log):,} transactions of {customers:,} customers "
            f"(generated; saved as {run.out_dir / 'demo_transactions.csv'})",
            markup=False,
        )
        _print_segments(run.summary, run.out_dir)


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

    with _errors(debug):
        run_server(
            workspace=workspace,
            host=host,
            port=port,
            api_token=os.environ.get("SEGMINT_API_TOKEN"),
            max_upload_bytes=max_upload_mb * 1024 * 1024,
        )


def _feature_options(
    spec_file: str | None, hash_ids: bool, salt: str | None, id_map: str | None, keep_pii: bool
) -> dict[str, Any]:
    """fit_file's feature-spec and id options from the command line."""
    from segmint.featurize import IdPolicy, load_spec

    if id_map is not None and not hash_ids:
        raise UsageError("--id-map needs --hash-ids")
    return {
        "spec": load_spec(spec_file) if spec_file else None,
        "ids": IdPolicy(hash_ids=hash_ids, salt=salt, keep_pii=keep_pii),
        "id_map": id_map,
    }


def _version(value: bool) -> None:
    if value:
        out_console.print(f"segmint {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Customer segmentation: from a data file to named customer segments."""


def main() -> None:
    """Entry point of the ``segmint`` console script."""
    app()


from segmint import cli_features as _cli_features  # noqa: E402, F401  registers `segmint features`
from segmint import cli_report as _cli_report  # noqa: E402, F401  registers `segmint report`
from segmint import cli_workspace as _cli_workspace  # noqa: E402, F401  registers the workspace commands
