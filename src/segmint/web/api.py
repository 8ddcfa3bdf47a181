"""The JSON API under ``/api/v1`` (every error: the one body of :mod:`segmint.web.errors`)."""

from __future__ import annotations

import contextlib
import hmac
import json
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from fastapi import APIRouter, BackgroundTasks, Depends, File, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from segmint._version import __version__
from segmint.errors import SegmintError, UsageError
from segmint.web.datasets import check_id, inspect_dataset, rename_errors, suffix_of
from segmint.web.errors import ApiError
from segmint.web.schemas import (
    ERRORS,
    AssignRequest,
    AssignResponse,
    DataRequest,
    FitRequest,
    Health,
    RenameRequest,
)
from segmint.web.service import Service

# The registry's families (segmint.algorithms), each with one line for the page.
ALGORITHMS = [
    {
        "id": "auto",
        "name": "auto (recommended)",
        "explanation": "Compares k-means, Gaussian mixture, Ward and Genie on your customers and "
        "keeps the one whose segments are best separated (and stable).",
    },
    {
        "id": "kmeans",
        "name": "k-means",
        "explanation": "Groups customers around k average profiles; fast, and each segment is "
        "described by its centre. Best when segments are roughly round and of similar spread.",
    },
    {
        "id": "gmm",
        "name": "Gaussian mixture",
        "explanation": "Soft groups of different sizes and shapes; the confidence is the "
        "probability that a customer belongs to the segment.",
    },
    {
        "id": "ward",
        "name": "Ward (hierarchical)",
        "explanation": "Merges similar customers step by step into compact segments; the tree "
        "shows which segments are close to each other.",
    },
    {
        "id": "genie",
        "name": "Genie",
        "explanation": "Follows gaps in the data, so segments need not be round; new customers "
        "join the segment of their nearest typical customer.",
    },
    {
        "id": "birch",
        "name": "BIRCH",
        "explanation": "Summarises customers in one pass into many small groups, then forms k "
        "segments from them; suits very large data.",
    },
    {
        "id": "hdbscan",
        "name": "HDBSCAN",
        "explanation": "Finds dense groups and the number of segments itself (k must stay auto); "
        "customers in no dense group are kept apart as 'Unassigned'.",
    },
    {
        "id": "dbscan",
        "name": "DBSCAN",
        "explanation": "Finds groups of customers packed closer than one distance (read from "
        "the data) and the number of segments itself (k must stay auto); customers in no "
        "dense group are kept apart as 'Unassigned'.",
    },
    {
        "id": "consensus",
        "name": "consensus",
        "explanation": "Combines many runs of several methods and keeps the segments they agree "
        "on; slower, and the most robust.",
    },
]
K_CHOICES = [
    {
        "id": "auto",
        "explanation": "segmint tries 1 to 10 segments, keeps the smallest k the gap statistic "
        "supports among the stable ones, and says so when there are no distinct segments.",
    },
    {"id": "N", "explanation": "Exactly N segments, e.g. 4 when you plan four campaigns."},
    {"id": "MIN-MAX", "explanation": "Let segmint choose within a range, e.g. 3-6."},
]


def get_service(request: Request) -> Service:
    """The app's :class:`Service`."""
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]
FromRun = Annotated[
    str | None,
    Query(alias="from", max_length=40, description="The earlier run (default: the one before)."),
]


async def require_token(request: Request) -> None:
    """With an API token configured, every API route needs ``Authorization: Bearer <token>``."""
    token = request.app.state.service.settings.api_token
    if token is None:
        return
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        value.strip().encode(), token.get_secret_value().encode()
    ):
        raise ApiError(
            401,
            "missing or wrong API token (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _ok(**values: Any) -> dict[str, Any]:
    return {"ok": True, **values}


def _frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records", date_format="iso", default_handler=str))


def build_router() -> APIRouter:
    """The ``/api/v1`` routes."""
    api = APIRouter(prefix="/api/v1", dependencies=[Depends(require_token)], responses=ERRORS)

    # ---------------------------------------------------------------- assignment
    # First: routes are matched in order, and this is the real-time one.
    @api.post("/assign", response_model=AssignResponse, tags=["assign"])
    async def assign(request: Request, body: AssignRequest) -> JSONResponse:
        """The segment of one customer, with the serving model (same missing and unseen rules
        as ``segmint assign``)."""
        service: Service = request.app.state.service
        assigner = service.assigner()
        label = assigner.assign(str(body.customer_id), body.features)
        return JSONResponse(
            {
                "ok": True,
                "customer_id": label.customer_id,
                "segment": label.segment,
                "segment_name": label.segment_name,
                "confidence": label.confidence,
                "probabilities": label.probabilities,
                "model_version": assigner.version,
                "notes": label.notes,
            }
        )

    @api.post("/assign/batch", tags=["assign"], response_class=FileResponse)
    def assign_batch(
        service: ServiceDep,
        request: Request,
        background: BackgroundTasks,
        file: Annotated[UploadFile, File(description="customers to label: CSV or Parquet")],
        format: Annotated[Literal["csv", "parquet"] | None, Query()] = None,
    ) -> FileResponse:
        """Label a file of customers (CSV / Parquet); the labels come back as a file
        (``X-Segmint-Excluded``: customers that could not be labelled)."""
        from segmint.runner import assign_file

        service.limit.check(_client(request), "batch")
        state = service.workspace.state()
        if state.champion is None:
            raise ApiError(409, "no model yet; fit one first (POST /api/v1/fit)")
        model = service.assigner().model  # the serving model, loaded once per workspace change
        names = {s: o["name"] for s, o in state.overrides.items() if o.get("name")}
        suffix = suffix_of(file.filename or "")
        work = Path(tempfile.mkdtemp(prefix="batch-", dir=service.settings.service_dir))
        background.add_task(shutil.rmtree, work, True)
        try:
            data = work / f"data{suffix}"
            with data.open("wb") as out:
                shutil.copyfileobj(file.file, out, 1024 * 1024)
            kind = format or ("parquet" if suffix.startswith(".parquet") else "csv")
            target = work / f"labels.{kind}"
            result = assign_file(model, data, out=target, names=names)
        except SegmintError as exc:
            shutil.rmtree(work, ignore_errors=True)
            raise type(exc)(
                str(exc).replace(str(work / f"data{suffix}"), file.filename or "upload")
            ) from None
        media = "application/vnd.apache.parquet" if kind == "parquet" else "text/csv"
        return FileResponse(
            target,
            media_type=media,
            filename=f"labels.{kind}",
            headers={
                "X-Segmint-Excluded": str(len(result.assignment.excluded)),
                "X-Segmint-Labelled": str(len(result.assignment.assignments)),
            },
        )

    # ---------------------------------------------------------------- service
    @api.get("/health", response_model=Health, tags=["service"])
    def health(service: ServiceDep) -> dict[str, Any]:
        """Liveness, version and the serving model."""
        state = service.workspace.state()
        return {
            "ok": True,
            "status": "ok",
            "version": __version__,
            "champion": state.champion,
            "runs": state.next_run_seq - 1,
        }

    @api.get("/version", tags=["service"])
    def version() -> dict[str, Any]:
        """The segmint version."""
        return _ok(version=__version__)

    @api.get("/options", tags=["fit"])
    def options() -> dict[str, Any]:
        """Algorithms and k choices, each with a short explanation."""
        return _ok(algorithms=ALGORITHMS, k=K_CHOICES)

    # ---------------------------------------------------------------- datasets
    @api.post("/datasets", status_code=201, tags=["datasets"])
    def upload(
        service: ServiceDep,
        file: Annotated[UploadFile, File(description="CSV, TSV, Excel, Parquet or JSON")],
    ) -> dict[str, Any]:
        """Upload a data file (multipart, field ``file``; size limit in the settings)."""
        dataset = service.datasets.save(
            file.file, file.filename, limit=service.settings.max_upload_bytes
        )
        return _ok(dataset=dataset.to_dict())

    @api.get("/datasets", tags=["datasets"])
    def datasets(service: ServiceDep) -> dict[str, Any]:
        """Uploaded datasets, newest first."""
        return _ok(datasets=[d.to_dict() for d in service.datasets.list()])

    @api.get("/datasets/{dataset_id}", tags=["datasets"])
    def dataset(service: ServiceDep, dataset_id: str) -> dict[str, Any]:
        """Columns, detected roles (customer id, time, amount, ...) and preview rows."""
        return _ok(dataset=inspect_dataset(service.datasets.get(dataset_id)))

    @api.delete("/datasets/{dataset_id}", tags=["datasets"])
    def delete_dataset(service: ServiceDep, dataset_id: str) -> dict[str, Any]:
        """Remove an uploaded dataset."""
        service.datasets.delete(dataset_id)
        return _ok(deleted=dataset_id)

    # ---------------------------------------------------------------- jobs
    @api.post("/fit", status_code=202, tags=["fit"])
    def fit(service: ServiceDep, body: FitRequest, request: Request) -> dict[str, Any]:
        """Start a fit job (runs in the background; poll ``/jobs/{id}``)."""
        service.limit.check(_client(request), "fit")
        data = service.datasets.get(body.dataset_id)
        options = body.model_dump(exclude={"dataset_id"})
        options["roles"] = _changed_roles(data, body)
        job = service.jobs.start(
            "fit",
            {
                "data": str(data.path),
                "data_name": data.name,
                "workspace": str(service.workspace.path),
                "options": options,
            },
            data.name,
        )
        return _ok(job=job.view())

    @api.post("/refresh", status_code=202, tags=["lifecycle"])
    def refresh(service: ServiceDep, body: DataRequest, request: Request) -> dict[str, Any]:
        """Start a refresh job: refit on new data, keep ids, decide who serves."""
        service.limit.check(_client(request), "refresh")
        service.workspace.require()
        data = service.datasets.get(body.dataset_id)
        job = service.jobs.start(
            "refresh",
            {
                "data": str(data.path),
                "data_name": data.name,
                "workspace": str(service.workspace.path),
                "options": {"as_of": body.as_of},
            },
            data.name,
        )
        return _ok(job=job.view())

    @api.get("/jobs", tags=["fit"])
    def jobs(service: ServiceDep) -> dict[str, Any]:
        """Jobs started by this server, newest first."""
        views = [j.view() for j in sorted(service.jobs.jobs.values(), key=lambda j: -j.created)]
        return _ok(jobs=views)

    @api.get("/jobs/{job_id}", tags=["fit"])
    def job(service: ServiceDep, job_id: str) -> dict[str, Any]:
        """A job's status, progress (0..1), current step and log."""
        return _ok(job=service.jobs.get(check_id(job_id, "job")).view())

    @api.post("/jobs/{job_id}/cancel", tags=["fit"])
    def cancel(service: ServiceDep, job_id: str) -> dict[str, Any]:
        """Cancel a running job (the workspace stays as it was)."""
        return _ok(job=service.jobs.cancel(check_id(job_id, "job")).view())

    # ---------------------------------------------------------------- runs, models, segments
    @api.get("/runs", tags=["runs"])
    def runs(service: ServiceDep) -> dict[str, Any]:
        """Every run of the workspace, oldest first."""
        if not service.workspace.exists():
            return _ok(runs=[])
        frame = service.workspace.runs()
        records = [
            dict(r, report=service.job_out(r["run_id"]) is not None)
            for r in frame.to_dict(orient="records")
        ]
        return _ok(runs=service.scrub(records))

    @api.get("/runs/{run_id}", tags=["runs"])
    def run(service: ServiceDep, run_id: str) -> dict[str, Any]:
        """One run: its record, summary and segments (with today's names)."""
        run_id = _run_id(service, run_id)
        record = service.workspace.run(run_id)
        summary_file = service.workspace.runs_dir / run_id / "summary.json"
        summary = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
        return _ok(
            run=service.scrub(record),
            summary=service.scrub(summary),
            segments=_segments(service, run_id),
            report=service.job_out(run_id) is not None,
        )

    @api.get("/runs/{run_id}/segments.csv", tags=["runs"], response_class=Response)
    def run_segments(service: ServiceDep, run_id: str) -> Response:
        """``customer_id, segment, segment_name, confidence`` of every segmented customer."""
        from segmint.store import current_assignments

        labels = current_assignments(service.workspace, _run_id(service, run_id))
        body = labels[["customer_id", "segment", "segment_name", "confidence"]].to_csv(index=False)
        return _csv(body, f"{run_id}-segments.csv")

    @api.get("/runs/{run_id}/excluded.csv", tags=["runs"], response_class=Response)
    def run_excluded(service: ServiceDep, run_id: str) -> Response:
        """``customer_id, reason, detail`` of every customer that could not be segmented."""
        path = service.workspace.runs_dir / _run_id(service, run_id) / "excluded.csv"
        return _file(path, f"{run_id}-excluded.csv", "text/csv")

    @api.get("/runs/{run_id}/profiles", tags=["runs"])
    def run_profiles(service: ServiceDep, run_id: str) -> dict[str, Any]:
        """Segment profiles: size, share, action, mean and median of every feature."""
        path = service.workspace.runs_dir / _run_id(service, run_id) / "profiles.csv"
        if not path.is_file():
            raise ApiError(404, f"{run_id}: no profiles")
        return _ok(profiles=_frame_records(pd.read_csv(path)))

    @api.get("/runs/{run_id}/profiles.csv", tags=["runs"], response_class=Response)
    def run_profiles_csv(service: ServiceDep, run_id: str) -> Response:
        """The profiles as CSV."""
        path = service.workspace.runs_dir / _run_id(service, run_id) / "profiles.csv"
        return _file(path, f"{run_id}-profiles.csv", "text/csv")

    @api.get("/runs/{run_id}/report.html", tags=["runs"], response_class=Response)
    def run_report(service: ServiceDep, run_id: str) -> Response:
        """The run's report (runs fitted through the service)."""
        out = service.job_out(_run_id(service, run_id))
        if out is None:
            raise ApiError(
                404, f"{run_id}: no report (only runs fitted through the service have one)"
            )
        return _file(
            out / "report.html", f"{run_id}-report.html", "text/html; charset=utf-8", inline=True
        )

    @api.get("/runs/{run_id}/migration", tags=["lifecycle"])
    def run_migration(service: ServiceDep, run_id: str, from_run: FromRun = None) -> dict[str, Any]:
        """Who moved where between two runs: ``from`` (default: the run before ``run_id``)
        and ``run_id``."""
        migration, before, after = _migration(service, run_id, from_run)
        return _ok(from_run=before, to_run=after, migration=migration.to_dict())

    @api.get("/runs/{run_id}/migration.html", tags=["lifecycle"], response_class=HTMLResponse)
    def run_migration_page(service: ServiceDep, run_id: str, from_run: FromRun = None) -> Response:
        """The migration between two runs as a Sankey chart (the page of ``segmint migration
        --html``)."""
        from segmint.report.migration import render_migration

        migration, before, after = _migration(service, run_id, from_run)
        page = render_migration(
            migration, title=f"Segment migration {before} → {after}", before=before, after=after
        )
        return HTMLResponse(page)

    @api.get("/models", tags=["runs"])
    def models(service: ServiceDep) -> dict[str, Any]:
        """Every model version, with the serving one flagged."""
        if not service.workspace.exists():
            return _ok(models=[])
        return _ok(models=_frame_records(service.workspace.models()))

    @api.get("/segments", tags=["segments"])
    def segments(service: ServiceDep) -> dict[str, Any]:
        """The serving model's segments with today's names and actions."""
        state = service.workspace.state()
        if state.champion is None:
            return _ok(champion=None, segments=[])
        model = service.workspace.load_model(state.champion)
        return _ok(champion=state.champion, segments=_named(model.segments, state.overrides))

    @api.patch("/segments/{segment_id}", tags=["segments"])
    def rename(service: ServiceDep, segment_id: int, body: RenameRequest) -> dict[str, Any]:
        """Rename a serving segment (and set its action); kept through refreshes."""
        from segmint.rundir import NameChange, rename_run
        from segmint.store import rename_segment

        changed = rename_segment(service.workspace, segment_id, body.name, body.action)
        # The report and files of the latest service fit follow the name; a segment that fit
        # does not have (a refresh made it) is named in the workspace only.
        outs = (service.job_out(r) for r in reversed(service.workspace.runs()["run_id"].tolist()))
        out = next((o for o in outs if o is not None and (o / "summary.json").is_file()), None)
        if out is not None:
            with contextlib.suppress(SegmintError):
                rename_run(out, [NameChange(segment_id, body.name, body.action)])
        return _ok(segment=changed)

    # ---------------------------------------------------------------- monitor
    @api.post("/monitor", tags=["lifecycle"])
    def monitor(service: ServiceDep, body: DataRequest, request: Request) -> dict[str, Any]:
        """Drift of new data against the serving model's training data: fine / watch / retrain."""
        from segmint.io import read_table
        from segmint.store import monitor_workspace

        service.limit.check(_client(request), "monitor")
        data = service.datasets.get(body.dataset_id)
        try:
            report = monitor_workspace(service.workspace, read_table(data.path), as_of=body.as_of)
        except SegmintError as exc:
            raise rename_errors(exc, data) from None
        return _ok(monitor=service.scrub(json.loads(json.dumps(report, default=str))))

    return api


def _changed_roles(data: Any, body: FitRequest) -> dict[str, Any] | None:
    """The roles the person set, when they differ from the detected ones (else detect again)."""
    if body.roles is None:
        return None
    given = body.roles.model_dump(exclude={"kind"})
    detected = inspect_dataset(data).get("roles") or {}
    if all(given.get(k) == detected.get(k) for k in given):
        return None
    return given


def _migration(service: Service, run_id: str, from_run: str | None) -> tuple[Any, str, str]:
    from segmint.store import migration_between

    after = _run_id(service, run_id)
    before = None if from_run is None else _run_id(service, from_run)
    if before == after:
        raise ApiError(400, f"from and to are the same run ({after}); choose two runs")
    return migration_between(service.workspace, before, after)


def _run_id(service: Service, text: str) -> str:
    with service.workspace.reading() as con:
        try:
            return service.workspace.resolve_run(text, con)
        except UsageError as exc:
            raise ApiError(404, str(exc)) from None


def _named(
    segments: list[dict[str, Any]], overrides: dict[int, dict[str, str]]
) -> list[dict[str, Any]]:
    out = []
    for seg in segments:
        override = overrides.get(int(seg["id"]), {})
        out.append(
            {
                **seg,
                "name": override.get("name") or seg["name"],
                "action": override.get("action") or seg.get("action", ""),
            }
        )
    return out


def _segments(service: Service, run_id: str) -> list[dict[str, Any]]:
    summary_file = service.workspace.runs_dir / run_id / "summary.json"
    if not summary_file.is_file():
        return []
    summary = json.loads(summary_file.read_text())
    fit = summary.get("fit") or {}
    return _named(fit.get("segments", []), service.workspace.state().overrides)


def _csv(body: str, name: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _file(path: Path, name: str, media: str, *, inline: bool = False) -> Response:
    if not path.is_file():
        raise ApiError(404, f"{name}: not available")
    disposition = "inline" if inline else "attachment"
    return FileResponse(path, media_type=media, filename=name, content_disposition_type=disposition)
