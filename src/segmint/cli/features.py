"""``segmint features``: the customer feature table of a transaction log (thin CLI layer).

Registered on :data:`segmint.cli.common.app` when :mod:`segmint.cli` is imported.  The work is
done by :func:`segmint.featurize.log_features`, the same code path as ``segmint fit``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from segmint.cli.common import (
    Debug,
    SepOpt,
    SheetOpt,
    SparkMasterOpt,
    app,
    check_as_of,
    err_console,
    out_console,
    reported_errors,
)
from segmint.errors import UsageError


@contextmanager
def feature_progress(enabled: bool) -> Iterator[Callable[[str, float | None], None] | None]:
    """A progress bar of the feature steps on standard error (None off a terminal)."""
    if not enabled or not err_console.is_terminal:
        yield None
        return
    columns = (
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
    )  # fmt: skip
    with Progress(*columns, console=err_console, transient=True) as bar:
        task = bar.add_task("starting", total=100)

        def update(step: str, percent: float | None) -> None:
            bar.update(task, description=step, completed=percent if percent is not None else 0)

        yield update


def parse_families(value: str | None) -> tuple[str, ...] | None:
    """``--families rfm,trend`` -> ("rfm", "trend"); ``all`` -> every family."""
    from segmint.features.spec import FAMILIES

    if value is None:
        return None
    if value.strip().lower() == "all":
        return FAMILIES
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = [n for n in names if n not in FAMILIES]
    if unknown or not names:
        bad = unknown[0] if unknown else value
        raise UsageError(f"--families: unknown family {bad!r}; known: {', '.join(FAMILIES)}")
    return names


def _print_summary(summary: dict[str, Any], target: Path, excluded_out: Path | None) -> None:
    data = summary["data"]
    cleaning = data.get("cleaning", {}).get("lines", {})
    out_console.print(
        f"{summary['customers']:,} customers, {len(summary['features'])} features "
        f"(as of {data['as_of']}) written to {target}",
        markup=False,
    )
    out_console.print(
        f"  rows read {data['rows_read']:,}; "
        f"duplicates dropped {data['duplicate_rows_dropped']:,}; "
        f"without customer id {data['rows_without_customer_id']:,}; "
        f"unparseable dates {data['rows_with_unparseable_time']:,}",
        markup=False,
    )
    kept = {k: v for k, v in cleaning.items() if v}
    if kept:
        out_console.print(
            "  lines: " + ", ".join(f"{k.replace('_', ' ')} {v:,}" for k, v in kept.items()),
            markup=False,
        )
    quality = data.get("quality", {})
    if quality:
        out_console.print(
            f"  data quality: mean {quality['mean_score']:.3f}, "
            f"{quality['customers_with_issues']:,} customers with issues",
            markup=False,
        )
    for warning in summary.get("warnings", []):
        out_console.print(f"  warning: {warning}", markup=False)
    if summary["excluded"]:
        reasons = ", ".join(
            f"{n:,} {r.replace('_', ' ')}" for r, n in summary["excluded_by_reason"].items()
        )
        where = f"; listed in {excluded_out}" if excluded_out else ""
        out_console.print(
            f"  excluded: {summary['excluded']:,} customers ({reasons}){where}", markup=False
        )
    for pii in summary["personal_data"]:
        out_console.print(
            f"  personal data: {pii['column']!r} ({pii['kind']}) is never a feature", markup=False
        )
    if summary["ids"].get("pseudonymised"):
        out_console.print(
            f"  customer ids pseudonymised ({summary['ids']['reason']})", markup=False
        )


@app.command()
def features(
    data: Annotated[
        str, typer.Argument(help="Transaction log: CSV, TSV, Parquet (streamed), Excel or JSON.")
    ],
    out: Annotated[str, typer.Option("--out", help="Feature table to write (.csv or .parquet).")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Only transactions before this date (YYYY-MM-DD).")
    ] = None,
    spec_file: Annotated[
        str | None,
        typer.Option("--spec", help="Feature spec (.toml or .yaml): columns, families, cleaning."),
    ] = None,
    id_col: Annotated[
        str | None, typer.Option("--id", help="Customer id column (detected if not given).")
    ] = None,
    families: Annotated[
        str | None,
        typer.Option(
            "--families",
            help="Comma-separated families, or 'all' (default: all whose columns exist).",
        ),
    ] = None,
    sheet: SheetOpt = None,
    sep: SepOpt = None,
    hash_ids: Annotated[
        bool, typer.Option("--hash-ids", help="Replace customer ids by salted hashes.")
    ] = False,
    salt: Annotated[
        str | None,
        typer.Option(
            "--salt", envvar="SEGMINT_ID_SALT", help="Salt of --hash-ids (default: random)."
        ),
    ] = None,
    id_map: Annotated[
        str | None, typer.Option("--id-map", help="With --hash-ids: write id -> pseudonym here.")
    ] = None,
    keep_pii: Annotated[
        bool,
        typer.Option(
            "--keep-pii", help="Write ids that are personal data (e-mails...) as they are."
        ),
    ] = False,
    memory_limit: Annotated[
        str | None,
        typer.Option(
            "--memory-limit",
            help="DuckDB memory limit when streaming (e.g. 1GB). Default: the log is kept in "
            "memory when it fits a quarter of the machine's memory (at most 4 GiB), else it "
            "is worked on from a temporary database file under 1GB.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    engine: Annotated[
        str, typer.Option("--engine", help="local (DuckDB) or spark (Spark SQL, CSV/TSV/Parquet).")
    ] = "local",
    spark_master: SparkMasterOpt = "local[*]",
    debug: Debug = False,
) -> None:
    """Write one row of behavioural features per customer of a transaction log.

    Beside --out: <name>.summary.json (cleaning, data quality, spec and its hash) and
    <name>.excluded.csv (customers without an order, with the reason).
    """
    from segmint.features.spec import FAMILIES
    from segmint.featurize import (
        IdPolicy,
        check_not_empty,
        features_summary,
        load_spec,
        log_features,
        write_features,
    )

    with reported_errors(debug):
        check_as_of(as_of)
        target = Path(out)
        if target.suffix.lower() not in (".csv", ".parquet", ".pq"):
            raise UsageError(f"{target}: --out must end in .csv or .parquet")
        if id_map is not None and not hash_ids:
            raise UsageError("--id-map needs --hash-ids")
        spec = load_spec(spec_file) if spec_file else None
        chosen = parse_families(families)
        if chosen is not None:
            from dataclasses import replace

            from segmint.features.spec import FeatureSpec

            spec = replace(spec or FeatureSpec(), families=chosen)
        ids = IdPolicy(hash_ids=hash_ids, salt=salt, keep_pii=keep_pii)
        from segmint.spark.session import check_engine

        if check_engine(engine) == "spark":
            from segmint.spark import spark_log_features, spark_session

            run = spark_log_features(
                spark_session(spark_master), data, spec=spec, customer_col=id_col, as_of=as_of,
                families=FAMILIES, ids=ids, sep=sep,
            )  # fmt: skip
        else:
            with feature_progress(not as_json) as progress:
                run = log_features(
                    data, spec=spec, customer_col=id_col, as_of=as_of, families=FAMILIES,
                    sheet=sheet, ids=ids, progress=progress, memory_limit=memory_limit,
                    sep=sep,
                )  # fmt: skip
        check_not_empty(run, str(data))  # before anything is written
        written = write_features(run, target, id_map=id_map)
        summary = features_summary(run)
        summary["outputs"] = {"features": str(written)}
        excluded_out = None
        beside = target.with_name(f"{target.stem}.excluded.csv")
        if len(run.result.excluded):
            from segmint.io import write_table

            write_table(run.result.excluded, beside)
            excluded_out = beside
            summary["outputs"]["excluded"] = str(beside)
        elif beside.is_file():
            beside.unlink()
        summary_path = target.with_name(f"{target.stem}.summary.json")
        summary["outputs"]["summary"] = str(summary_path)
        summary_path.write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
        if as_json:
            sys.stdout.write(json.dumps(summary, indent=2, default=str) + "\n")
        else:
            _print_summary(summary, written, excluded_out)
