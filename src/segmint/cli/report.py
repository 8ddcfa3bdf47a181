"""The ``segmint report`` command and the run-folder side of ``segmint rename``.

Thin like :mod:`segmint.cli`: parse, call :mod:`segmint.rundir` and
:mod:`segmint.report.export`, print. Imported by :mod:`segmint.cli`, which
registers the command on its app.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from segmint.cli.common import Debug, app, err_console, out_console, reported_errors
from segmint.errors import UsageError


class ReportFormat(enum.StrEnum):
    """Output format of ``segmint report``."""

    html = "html"
    pdf = "pdf"
    png = "png"


@app.command()
def report(
    run_dir: Annotated[str, typer.Argument(help="A fit's output folder.")],
    fmt: Annotated[
        ReportFormat, typer.Option("--format", help="html, pdf or png.")
    ] = ReportFormat.html,
    out: Annotated[
        str | None,
        typer.Option("--out", help="File to write (default: RUN_DIR/report.FORMAT)."),
    ] = None,
    debug: Debug = False,
) -> None:
    """Write a run's report as HTML, PDF or PNG (PDF and PNG through headless Chromium)."""
    from segmint.io import replace_file
    from segmint.report.export import export_report
    from segmint.rundir import render_run

    with reported_errors(debug):
        folder = Path(run_dir)
        page = render_run(folder)
        target = Path(out) if out else folder / f"report.{fmt.value}"
        if target.is_dir():
            raise UsageError(f"{target}: --out must be a file name, and this is a folder")
        if fmt is ReportFormat.html:
            replace_file(target, page.encode("utf-8"))
            written = [target]
        else:
            html_path = folder / "report.html"
            if not html_path.is_file() or html_path.read_text(encoding="utf-8") != page:
                replace_file(html_path, page.encode("utf-8"))
            written = export_report(html_path, target, fmt.value)
        for path in written:
            out_console.print(f"Report: {path}", markup=False)


def rename_run_command(
    run_dir: str,
    segment: int | None,
    name: str | None,
    action: str | None,
    names: str | None,
    debug: bool,
) -> None:
    """``segmint rename RUN_DIR ...``: rename segments of a run folder."""
    from segmint.rundir import NameChange, read_names_file, rename_run

    with reported_errors(debug):
        changes = read_names_file(names) if names else []
        if segment is not None or name is not None:
            if segment is None or name is None:
                raise UsageError("give both --segment ID and --name NAME (or a --names file)")
            changes.append(NameChange(segment, name, action))
        elif action is not None:
            raise UsageError("--action goes with --segment ID and --name NAME")
        if not changes:
            raise UsageError("give --segment ID --name NAME, or --names FILE")
        profiles = rename_run(run_dir, changes)
        changed = {c.segment for c in changes}
        for p in profiles:
            if p.id in changed:
                out_console.print(f"segment {p.id}: {p.name}", markup=False)
                out_console.print(f"  action: {p.action}", markup=False)
        err_console.print(
            f"{Path(run_dir)}: names stored in model/overrides.json; a refit into this folder "
            "keeps them on the segments they match",
            markup=False,
        )
