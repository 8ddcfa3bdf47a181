"""The serving model's segments: list them, rename one."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import APIRouter

from segmint.errors import SegmintError
from segmint.web.routes.common import (
    ServiceDep,
    named,
    ok,
)
from segmint.web.schemas import (
    RenameRequest,
)

router = APIRouter()


@router.get("/segments", tags=["segments"])
def segments(service: ServiceDep) -> dict[str, Any]:
    """The serving model's segments with today's names and actions."""
    state = service.workspace.state()
    if state.champion is None:
        return ok(champion=None, segments=[])
    model = service.workspace.load_model(state.champion)
    return ok(champion=state.champion, segments=named(model.segments, state.overrides))


@router.patch("/segments/{segment_id}", tags=["segments"])
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
    return ok(segment=changed)
