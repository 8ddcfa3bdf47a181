"""A workspace survives ``kill -9`` at any moment, and readers see one state while a writer works.

Refreshes run in subprocesses (``python -m segmint refresh``, or
:func:`segmint.store.refresh_workspace` whose ``on_stage`` callback stops the process at
one of :data:`segmint.store.STAGES` so it can be killed exactly there); timed kills hit
arbitrary moments as well. All the
refreshes of a test start together to keep the wall time small.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from segmint.store import STAGES, Workspace, fit_workspace, refresh_workspace
from tests.workspace_data import FIT_AS_OF, loaded, shop_log, write_log

CHECKPOINTS = list(STAGES)
# A refresh that stops at one stage: it writes its pid to the marker file and waits there
# to be killed.
PAUSED_REFRESH = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from segmint.io import read_table
    from segmint.store import refresh_workspace

    log, ws, stage, marker = sys.argv[1:]

    def on_stage(name):
        if name == stage:
            Path(marker).write_text(str(os.getpid()), encoding="utf-8")
            time.sleep(600)

    refresh_workspace(ws, read_table(log), on_stage=on_stage)
""")
TIMED_KILLS = [1.8, 2.4, 2.8, 3.2]  # seconds after start; a refresh here takes about 3 s
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "SEGMINT_DB_TIMEOUT": "60"}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("reliable")
    log = write_log(folder, shop_log())
    fit_workspace(folder / "ws", loaded(shop_log()), k=3, as_of=FIT_AS_OF)
    return log, folder / "ws"


def refresh_process(log: Path, ws: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A refresh in a subprocess; its standard error goes to ``<ws>.stderr``."""
    with open(f"{ws}.stderr", "wb") as errors:
        return subprocess.Popen(
            [sys.executable, "-m", "segmint", "refresh", str(log), "--workspace", str(ws)],
            env=env, stdout=subprocess.DEVNULL, stderr=errors,
        )  # fmt: skip


def assert_consistent(ws: Path) -> Workspace:
    """Everything the database says is there, and the serving model loads."""
    workspace = Workspace(ws)
    with workspace.reading() as con:
        state = workspace.state(con)
        counts = dict(
            con.execute("SELECT run_id, count(*) FROM assignments GROUP BY run_id").fetchall()
        )
        runs = con.execute(
            "SELECT run_id, n_customers, serving_version FROM runs ORDER BY seq"
        ).fetchall()
        versions = {v for (v,) in con.execute("SELECT version FROM models").fetchall()}
    assert state.champion in versions
    assert runs[-1][2] == state.champion  # the latest run is served by the champion
    for run_id, n_customers, serving in runs:
        assert counts.get(run_id) == n_customers and serving in versions
        assert (ws / "runs" / run_id / "summary.json").is_file()
    for version in versions:
        assert workspace.load_model(version).fingerprint() == version
    return workspace


def test_refresh_killed_at_every_checkpoint(base: tuple[Path, Path], tmp_path: Path) -> None:
    log, ws = base
    champion = Workspace(ws).state().champion
    started = {}
    for checkpoint in CHECKPOINTS:
        target = tmp_path / checkpoint
        shutil.copytree(ws, target)
        marker = tmp_path / f"{checkpoint}.paused"
        with open(f"{target}.stderr", "wb") as errors:
            process = subprocess.Popen(
                [sys.executable, "-c", PAUSED_REFRESH, str(log), str(target), checkpoint,
                 str(marker)],
                env=ENV, stdout=subprocess.DEVNULL, stderr=errors,
            )  # fmt: skip
        started[checkpoint] = (process, marker, target)
    for checkpoint, (process, marker, target) in started.items():
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert process.poll() is None, Path(f"{target}.stderr").read_text()
            assert time.monotonic() < deadline, f"{checkpoint}: never reached"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        workspace = assert_consistent(target)
        runs = workspace.runs()["run_id"].tolist()
        if checkpoint == "committed":
            assert runs == ["run-0001", "run-0002"]
        else:  # the previous model still serves, untouched
            assert runs == ["run-0001"] and workspace.state().champion == champion
            assert len(workspace.models()) == 1
        # the workspace opens cleanly: the next refresh works and leaves no leftovers
        again = refresh_workspace(target, loaded(shop_log()))
        assert again.run_id == f"run-{len(runs) + 1:04d}"
        stored = assert_consistent(target)
        assert sorted(p.name for p in (target / "models").iterdir()) == sorted(
            stored.models()["version"]
        )
        assert (
            sorted(p.name for p in (target / "runs").iterdir()) == stored.runs()["run_id"].tolist()
        )


def test_refresh_killed_at_arbitrary_moments(base: tuple[Path, Path], tmp_path: Path) -> None:
    log, ws = base
    processes = []
    for delay in TIMED_KILLS:
        target = tmp_path / f"after-{delay}"
        shutil.copytree(ws, target)
        processes.append((time.monotonic() + delay, refresh_process(log, target, ENV), target))
    for when, process, target in processes:
        time.sleep(max(0.0, when - time.monotonic()))
        process.send_signal(signal.SIGKILL)
        process.wait()
        workspace = assert_consistent(target)
        assert workspace.runs()["run_id"].tolist() in (["run-0001"], ["run-0001", "run-0002"])


READER = textwrap.dedent(
    """
    import json, sys, time
    from segmint.store import Workspace
    ws, stop, out = Workspace(sys.argv[1]), sys.argv[2], sys.argv[3]
    import os
    reads, problems, seen = 0, [], set()
    while not os.path.exists(stop):
        try:
            with ws.reading() as con:
                champion = ws.state(con).champion
                runs = con.execute(
                    "SELECT run_id, n_customers, serving_version FROM runs").fetchall()
                counts = dict(con.execute(
                    "SELECT run_id, count(*) FROM assignments GROUP BY run_id").fetchall())
                versions = {v for (v,) in con.execute("SELECT version FROM models").fetchall()}
            for run_id, n, serving in runs:
                if counts.get(run_id) != n or serving not in versions:
                    problems.append(f"{run_id}: {counts.get(run_id)} labels, {n} customers")
            if champion not in versions:
                problems.append(f"champion {champion} not a version")
            ws.load_model(champion)
            seen.add(len(runs))
            reads += 1
        except Exception as exc:
            problems.append(repr(exc))
        time.sleep(0.02)
    json.dump({"reads": reads, "problems": problems, "seen": sorted(seen)}, open(out, "w"))
    """
)
WRITER = textwrap.dedent(
    """
    import sys
    from segmint.store import refresh_workspace
    from tests.workspace_data import loaded, shop_log
    data = loaded(shop_log())
    for _ in range(3):
        refresh_workspace(sys.argv[1], data)
    """
)


def test_readers_see_consistent_data_while_a_writer_works(
    base: tuple[Path, Path], tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(base[1], ws)
    stop = tmp_path / "stop"
    env = {**ENV, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(ws), str(stop), str(tmp_path / f"r{i}.json")],
            env=env,
        )
        for i in range(2)
    ]
    writer = subprocess.run([sys.executable, "-c", WRITER, str(ws)], env=env, capture_output=True,
                            timeout=300)  # fmt: skip
    stop.write_text("done")
    for reader in readers:
        reader.wait(timeout=60)
    assert writer.returncode == 0, writer.stderr.decode()
    for i in range(2):
        report = json.loads((tmp_path / f"r{i}.json").read_text())
        assert report["problems"] == [] and report["reads"] > 10
        assert len(report["seen"]) >= 2  # it read while the writer was adding runs
    assert assert_consistent(ws).runs()["run_id"].tolist() == [f"run-{i:04d}" for i in range(1, 5)]
