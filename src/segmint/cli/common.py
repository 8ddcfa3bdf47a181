"""What every ``segmint`` command shares: the app, the consoles, the common options,
one-line errors, the progress bar and the printed segment table.

Exit codes: 0 success, 1 a data or model problem, 2 a usage problem (bad option, missing
file). Errors are one line on standard error; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import datetime as dt
import enum
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
def reported_errors(debug: bool) -> Iterator[None]:
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


def check_as_of(value: str | None) -> None:
    """A bad --as-of is a usage problem (exit 2), found before any data is read."""
    if value is None:
        return
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--as-of {value!r} is not a date (YYYY-MM-DD)") from None


@contextmanager
def progress_bar(enabled: bool, steps: int) -> Iterator[Callable[[str], None]]:
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


def counted(n: int, noun: str) -> str:
    """``1 customer``, ``4,338 customers``."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def print_segments(summary: dict[str, Any], out_dir: Path) -> None:
    table = Table(
        title=f"{counted(summary['k'], 'segment')} of {counted(summary['n_customers'], 'customer')}"
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
            f"  excluded: {counted(summary['n_excluded'], 'customer')} ({reasons}); "
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


def feature_options(
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
