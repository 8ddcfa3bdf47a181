"""The workspace commands in-process: fit --workspace, refresh, runs, models, rename, monitor,
migration, export, rollback, and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from segmint.cli import app
from segmint.store import Workspace
from tests.workspace_data import FIT_AS_OF, write_log

runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A log file and a workspace fitted on it as of mid-2024, then refreshed."""
    folder = tmp_path_factory.mktemp("cli")
    log = write_log(folder)
    ws = folder / "ws"
    fitted = run(
        "fit", log, "--workspace", ws, "--as-of", FIT_AS_OF, "--k", "3", "--out", folder / "out"
    )
    assert fitted.exit_code == 0, fitted.output
    assert "Recorded run-0001" in fitted.output and "Outputs in" in fitted.output
    refreshed = run("refresh", log, "--workspace", ws)
    assert refreshed.exit_code == 0, refreshed.output
    return log, ws


def test_fit_with_out_and_workspace_agree(workspace: tuple[Path, Path]) -> None:
    _, ws = workspace
    out = ws.parent / "out"
    labels = pd.read_csv(out / "segments.csv", dtype={"customer_id": str})
    recorded = Workspace(ws).assignments("run-0001")
    merged = labels.merge(recorded, on="customer_id")
    assert len(merged) == len(labels) == len(recorded)
    assert (merged["segment_x"] == merged["segment_y"]).all()
    version = Workspace(ws).models()["version"].iloc[0]
    assert json.loads((out / "model" / "model.json").read_text())["fingerprint"] == version


def test_refresh_output_and_json(workspace: tuple[Path, Path], tmp_path: Path) -> None:
    log, ws = workspace
    summary = json.loads((ws / "runs" / "run-0002" / "summary.json").read_text())
    assert summary["kind"] == "refresh" and summary["previous_run"] == "run-0001"
    assert {c["id"] for c in summary["continued_segments"]} == {0, 1, 2}
    shutil_ws = tmp_path / "ws"
    import shutil

    shutil.copytree(ws, shutil_ws)
    again = run("refresh", log, "--workspace", shutil_ws, "--json")
    assert again.exit_code == 0, again.output
    document = json.loads(again.stdout)
    assert document["run_id"] == "run-0003" and document["migration"]["n_new"] == 0
    text = run("refresh", log, "--workspace", shutil_ws)
    assert "continues (distance" in text.output and "decision:" in text.output
    assert "migration from run-0003" in text.output and "migration.html" in text.output


def test_runs_and_models(workspace: tuple[Path, Path]) -> None:
    _, ws = workspace
    listed = run("runs", "--workspace", ws)
    assert listed.exit_code == 0 and "run-0001" in listed.output and "refresh" in listed.output
    runs = json.loads(run("runs", "--workspace", ws, "--json").stdout)
    assert [r["run_id"] for r in runs] == ["run-0001", "run-0002"]
    assert runs[0]["as_of"] == FIT_AS_OF
    models = json.loads(run("models", "--workspace", ws, "--json").stdout)
    assert [m["seq"] for m in models] == [1, 2] and sum(m["champion"] for m in models) == 1
    table = run("models", "--workspace", ws)
    assert "v2" in table.output and "yes" in table.output


def test_monitor_json_exits_zero_on_retrain(workspace: tuple[Path, Path]) -> None:
    log, ws = workspace
    result = run("monitor", log, "--workspace", ws, "--as-of", "2025-06-30", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["verdict"] == "retrain" and report["reasons"]
    assert report["model"] == "v2" and report["data"]["as_of"] == "2025-06-30"
    text = run("monitor", log, "--workspace", ws)
    assert text.exit_code == 0 and text.output.startswith("verdict: fine")
    assert "feature drift" in text.output


def test_migration_outputs(workspace: tuple[Path, Path], tmp_path: Path) -> None:
    _, ws = workspace
    result = run(
        "migration",
        "--workspace",
        ws,
        "--out",
        tmp_path / "m.csv",
        "--moved",
        tmp_path / "moved.csv",
        "--html",
        tmp_path / "m.html",
    )
    assert result.exit_code == 0, result.output
    assert "migration run-0001 → run-0002" in result.output and "(new customers)" in result.output
    matrix = pd.read_csv(tmp_path / "m.csv")
    document = json.loads(run("migration", "--workspace", ws, "--json").stdout)
    assert document["from"] == "run-0001" and document["to"] == "run-0002"
    core = matrix.iloc[:-1, 1:-1].to_numpy().sum()
    assert core == document["n_both"]
    assert len(pd.read_csv(tmp_path / "moved.csv")) == document["n_moved"]
    assert "sankey" in (tmp_path / "m.html").read_text()
    same = json.loads(
        run("migration", "--workspace", ws, "--from", "1", "--to", "latest", "--json").stdout
    )
    assert same["counts"] == document["counts"]


def test_rename_export_and_rollback(workspace: tuple[Path, Path], tmp_path: Path) -> None:
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(workspace[1], ws)
    renamed = run(
        "rename", "--workspace", ws, "--segment", "2", "--name", "Watch list", "--action", "Call"
    )
    assert renamed.exit_code == 0 and "-> 'Watch list' (action: Call)" in renamed.output
    exported = run("export", "--workspace", ws, "--to", tmp_path / "labels.csv")
    assert exported.exit_code == 0 and "customers exported to" in exported.output
    labels = pd.read_csv(tmp_path / "labels.csv")
    assert set(labels.loc[labels["segment"] == 2, "segment_name"]) == {"Watch list"}
    rolled = run("rollback", "--workspace", ws, "--to", "v1")
    assert rolled.exit_code == 0 and "serves again" in rolled.output
    assert Workspace(ws).runs()["kind"].tolist()[-1] == "rollback"


def test_assign_with_a_workspace(workspace: tuple[Path, Path], tmp_path: Path) -> None:
    log, ws = workspace
    result = run("assign", ws, log, "--out", tmp_path / "labels.csv")
    assert result.exit_code == 0, result.output
    labels = pd.read_csv(tmp_path / "labels.csv", dtype={"customer_id": str})
    served = Workspace(ws).assignments("run-0002")
    merged = labels.merge(served, on="customer_id")
    assert len(merged) == len(served) and (merged["segment_x"] == merged["segment_y"]).all()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["refresh", "{log}", "--workspace", "{tmp}/none"], 2, "not a segmint workspace"),
        (["runs", "--workspace", "{tmp}/none"], 2, "not a segmint workspace"),
        (["refresh", "--workspace", "{ws}"], 2, "give a DATA file, or --db URL"),
        (
            ["refresh", "{log}", "--db", "sqlite://", "--table", "t", "--workspace", "{ws}"],
            2,
            "not both",
        ),
        (["fit", "{log}", "--query", "SELECT 1"], 2, "give --db URL too"),
        (["refresh", "--db", "sqlite://", "--workspace", "{ws}"], 2, "exactly one of --query"),
        (
            ["refresh", "--db", "nonsense", "--table", "t", "--workspace", "{ws}"],
            2,
            "not a database URL",
        ),
        (
            ["refresh", "--db", "sqlite://", "--table", "t", "--workspace", "{ws}"],
            2,
            "no table 't'",
        ),
        (["rollback", "--to", "v7", "--workspace", "{ws}"], 2, "'v7' is not a model version"),
        (["migration", "--from", "9", "--workspace", "{ws}"], 2, "no run '9'"),
        (["export", "--to", "{tmp}/x.xlsx", "--workspace", "{ws}"], 2, ".csv / .parquet"),
        (["export", "--to", "sqlite://", "--workspace", "{ws}"], 2, "needs --table"),
        (["refresh", "{log}", "--as-of", "June", "--workspace", "{ws}"], 2, "not a date"),
        (["rename", "--segment", "42", "--name", "x", "--workspace", "{ws}"], 2, "no segment 42"),
    ],
)
def test_errors(
    workspace: tuple[Path, Path], tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    log, ws = workspace
    filled = [a.format(log=log, ws=ws, tmp=tmp_path) for a in args]
    result = run(*filled)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1 and result.output.startswith("error: ")
