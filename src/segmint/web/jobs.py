"""Background jobs: a fit or a refresh runs in its own process, polled and cancellable.

A job is a folder ``<service>/jobs/<id>/`` with ``request.json``, ``log.jsonl`` (one line
per progress step, written by the job), then ``result.json`` or ``error.json``, and
``out/`` (a fit's outputs: segments, profiles, report, model). A separate process (spawned,
not forked: the server runs threads) keeps the server responsive and makes cancelling
real: the process is terminated; the workspace's writes are atomic, so a cancelled job
leaves it as it was.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import secrets
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segmint.errors import SegmintError
from segmint.web.errors import ApiError, status_of

# Steps the jobs report, in order; the progress bar is the share of steps reached.
FIT_STEPS = (
    "reading data",
    "deriving features, choosing k and fitting",
    "matching segments and deciding who serves",
    "writing the run",
    "writing outputs",
)
REFRESH_STEPS = (
    "reading data",
    "deriving features and refitting",
    "matching segments and deciding who serves",
    "writing the run",
)
_FINAL = ("done", "failed", "cancelled")


def _append(log: Path, step: str) -> None:
    with log.open("a", encoding="utf-8") as out:
        out.write(json.dumps({"at": time.time(), "step": step}) + "\n")


def run_job(folder: str) -> None:
    """Body of a job process: run the request in ``folder`` and write its outcome."""
    job_dir = Path(folder)
    request = json.loads((job_dir / "request.json").read_text())
    log = job_dir / "log.jsonl"

    def progress(step: str, *_: Any) -> None:
        _append(log, step)

    try:
        result = (
            _fit(job_dir, request, progress)
            if request["kind"] == "fit"
            else _refresh(request, progress)
        )
        (job_dir / "result.json").write_text(json.dumps(result, default=str))
    except SegmintError as exc:
        message = str(exc).replace(request["data"], request["data_name"])
        (job_dir / "error.json").write_text(
            json.dumps({"error": message, "status": status_of(exc)})
        )
    except BaseException as exc:  # a bug: keep the traceback for the log, one line for the user
        (job_dir / "error.json").write_text(
            json.dumps(
                {
                    "error": f"internal error ({type(exc).__name__}: {exc})",
                    "status": 500,
                    "traceback": traceback.format_exc(),
                }
            )
        )


def _fit(job_dir: Path, request: dict[str, Any], progress: Any) -> dict[str, Any]:
    from segmint.features.spec import FeatureSpec
    from segmint.runner import fit_file
    from segmint.store import fit_into_workspace

    options = request["options"]
    roles = options.get("roles") or {}
    spec = None
    if options.get("input") != "customers" and roles.get("time"):
        keys = ("customer", "time", "amount", "quantity", "price", "order")
        columns: dict[str, Any] = {key: roles.get(key) for key in keys}
        spec = FeatureSpec(**columns)
    outcomes: list[Any] = []

    def record(result: Any, loaded: Any) -> Any:
        outcomes.append(
            fit_into_workspace(
                request["workspace"], loaded, result, as_of=options.get("as_of"), progress=progress
            )
        )
        return outcomes[-1].result

    k = options.get("k", "auto")
    run = fit_file(
        request["data"],
        out_dir=job_dir / "out",
        k=tuple(k) if isinstance(k, list) else k,
        customer_col=roles.get("customer"),
        input_kind=options.get("input", "auto"),
        as_of=options.get("as_of"),
        exclude=tuple(options.get("exclude") or ()),
        keep=tuple(options.get("keep") or ()),
        seed=options.get("seed", 0),
        progress=progress,
        on_result=record,
        spec=spec,
        outcome=options.get("outcome"),
        algorithm=options.get("algorithm", "auto"),
    )
    outcome = outcomes[-1]
    return {
        "run_id": outcome.run_id,
        "champion": outcome.champion,
        "k": run.summary["k"],
        "n_customers": run.summary["n_customers"],
        "n_excluded": run.summary["n_excluded"],
    }


def _refresh(request: dict[str, Any], progress: Any) -> dict[str, Any]:
    from segmint.io import read_table
    from segmint.store import refresh_workspace

    progress("reading data")
    loaded = read_table(request["data"])
    outcome = refresh_workspace(
        request["workspace"], loaded, as_of=request["options"].get("as_of"), progress=progress
    )
    return {
        "run_id": outcome.run_id,
        "champion": outcome.champion,
        "promoted": outcome.promoted,
        "n_customers": outcome.summary.get("n_customers"),
        "n_excluded": outcome.summary.get("n_excluded"),
        "decision": None if outcome.decision is None else outcome.decision.reasons,
    }


@dataclass
class Job:
    """A job the server started."""

    id: str
    kind: str
    folder: Path
    dataset: str
    created: float
    process: Any = None
    cancelled: bool = False
    finished: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def status(self) -> str:
        """queued, running, done, failed or cancelled."""
        if self.cancelled:
            return "cancelled"
        if (self.folder / "result.json").is_file():
            return "done"
        if (self.folder / "error.json").is_file():
            return "failed"
        if self.process is not None and self.process.exitcode is not None:
            return "failed"
        return "running" if self.process is not None else "queued"

    def view(self) -> dict[str, Any]:
        """The job as the API shows it."""
        steps = FIT_STEPS if self.kind == "fit" else REFRESH_STEPS
        log_file = self.folder / "log.jsonl"
        lines = log_file.read_text(encoding="utf-8").splitlines() if log_file.is_file() else []
        log = [json.loads(line) for line in lines if line.strip()]
        reached = [steps.index(e["step"]) + 1 for e in log if e["step"] in steps]
        status = self.status()
        progress = (
            1.0 if status == "done" else (max(reached) / (len(steps) + 1) if reached else 0.0)
        )
        view: dict[str, Any] = {
            "id": self.id,
            "kind": self.kind,
            "status": status,
            "dataset": self.dataset,
            "progress": round(progress, 3),
            "step": log[-1]["step"] if log else None,
            "log": [{"seconds": round(e["at"] - self.created, 2), "step": e["step"]} for e in log],
            "elapsed_seconds": round((self.finished or time.time()) - self.created, 2),
            "result": None,
            "error": None,
        }
        if status == "done":
            view["result"] = json.loads((self.folder / "result.json").read_text())
        elif status == "failed":
            error_file = self.folder / "error.json"
            error = (
                json.loads(error_file.read_text())
                if error_file.is_file()
                else {
                    "error": "the job process ended unexpectedly "
                    f"(exit code {self.process.exitcode})",
                    "status": 500,
                }
            )
            view["error"] = {"error": error["error"], "status": error["status"]}
        return view


class JobManager:
    """Starts, tracks and cancels jobs; one writer job at a time (the workspace has one writer)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._context = multiprocessing.get_context("spawn")

    def start(self, kind: str, request: dict[str, Any], dataset: str) -> Job:
        """Start a job in a new process (409 while another one runs)."""
        with self._lock:
            busy = [j for j in self.jobs.values() if j.status() in ("queued", "running")]
            if busy:
                raise ApiError(
                    409, f"job {busy[0].id} ({busy[0].kind}) is still running; wait or cancel it"
                )
            job = Job(secrets.token_hex(8), kind, self.root / "", dataset, time.time())
            job.folder = self.root / job.id
            job.folder.mkdir(parents=True)
            (job.folder / "request.json").write_text(json.dumps({"kind": kind, **request}))
            job.process = self._context.Process(
                target=run_job, args=(os.fspath(job.folder),), daemon=True
            )
            job.process.start()
            self.jobs[job.id] = job
        threading.Thread(target=self._wait, args=(job,), daemon=True).start()
        return job

    def _wait(self, job: Job) -> None:
        job.process.join()
        job.finished = time.time()

    def get(self, job_id: str) -> Job:
        """A job, or a 404."""
        job = self.jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"no job {job_id!r}")
        return job

    def cancel(self, job_id: str) -> Job:
        """Stop a running job (its process is terminated); a finished job is a 409."""
        job = self.get(job_id)
        with job.lock:
            if job.status() in _FINAL:
                raise ApiError(409, f"job {job_id} is already {job.status()}")
            job.cancelled = True
            job.process.terminate()
            job.process.join(timeout=10)
            if job.process.exitcode is None:
                job.process.kill()
            job.finished = time.time()
        return job

    def shutdown(self) -> None:
        """Terminate every running job (the server is stopping)."""
        for job in list(self.jobs.values()):
            if job.process is not None and job.process.exitcode is None:
                job.cancelled = True
                job.process.terminate()
                job.process.join(timeout=5)
