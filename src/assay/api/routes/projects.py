from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from assay.api.auth import MANAGER, outbound_of, store_of
from assay.api.paging import PageQuery, page
from assay.engine import (
    automation,
    automation_report,
    dashboard,
    exports,
    imports,
    projects,
    quality,
    removals,
    workers,
)
from assay.engine.keys import Principal
from assay.exchange.task_writers import FORMATS
from assay.outbound import OutboundPolicy
from assay.schemas import (
    CallbackSecret,
    Consolidation,
    Dashboard,
    ImportReport,
    Leaderboard,
    Members,
    MembersOut,
    Page,
    ProjectCreate,
    ProjectCreated,
    ProjectOut,
    ProjectQuality,
    ProjectUpdate,
    TaskStatus,
    WorkerRemoval,
)
from assay.store.db import Store

router = APIRouter(prefix="/v1/projects", tags=["projects"], dependencies=[MANAGER])


@router.post("", status_code=201, response_model=ProjectCreated)
def create_project(
    body: ProjectCreate,
    store: Store = Depends(store_of),
    outbound: OutboundPolicy = Depends(outbound_of),
):
    """Create a project. `callback_secret` signs its callbacks and is shown only here."""
    spec = body.model_dump(mode="json", exclude_unset=True)
    return projects.create_project(store, spec, outbound)


@router.get("", response_model=Page[ProjectOut])
def list_projects(
    paging: PageQuery = Depends(),
    store: Store = Depends(store_of),
):
    return page(projects.list_projects(store, paging.limit, paging.next_token))


@router.get("/{project_id}", response_model=ProjectOut)
def get_project(project_id: str, store: Store = Depends(store_of)):
    return projects.get_project(store, project_id)


@router.post("/{project_id}/callback_secret:rotate", response_model=CallbackSecret)
def rotate_callback_secret(project_id: str, store: Store = Depends(store_of)):
    """Replace the secret that signs the project's callbacks, shown only in this answer.
    Every delivery from now on, retries of earlier ones included, is signed with it."""
    return projects.rotate_callback_secret(store, project_id)


@router.patch("/{project_id}", response_model=ProjectOut)
def update_project(
    project_id: str,
    body: ProjectUpdate,
    store: Store = Depends(store_of),
    outbound: OutboundPolicy = Depends(outbound_of),
):
    """Change any setting; absent fields are left alone. `max_overlap` and
    `target_confidence` set to null turn adaptive overlap off."""
    changes = body.model_dump(mode="json", exclude_unset=True)
    return projects.update_project(store, project_id, changes, outbound)


@router.post("/{project_id}/members", response_model=MembersOut)
def add_members(project_id: str, body: Members, store: Store = Depends(store_of)):
    """Let these workers take a members-only project's tasks (adding twice is harmless)."""
    return {"project": project_id, "workers": workers.add_members(store, project_id, body.workers)}


@router.get("/{project_id}/members", response_model=MembersOut)
def list_members(project_id: str, store: Store = Depends(store_of)):
    return {"project": project_id, "workers": workers.members(store, project_id)}


@router.get("/{project_id}/quality", response_model=ProjectQuality)
def project_quality(
    project_id: str,
    method: Consolidation | None = None,
    store: Store = Depends(store_of),
):
    """Agreement between workers (Krippendorff's alpha, Fleiss' kappa, with bootstrap 95%
    intervals) and each worker's scores: agreement with the others, model-based quality
    from truth inference (`method`; by default Dawid-Skene once there are enough
    overlapping answers, majority vote before), and accuracy on gold."""
    return quality.project_quality(store, project_id, method)


@router.get("/{project_id}/dashboard", response_model=Dashboard)
def project_dashboard(
    project_id: str,
    batch: str | None = None,
    since: Annotated[datetime | None, Query(description="completed / answered at or after")] = None,
    until: Annotated[datetime | None, Query(description="completed / answered before")] = None,
    store: Store = Depends(store_of),
):
    """Progress by status and batch, completions per hour, the distribution of results,
    the least sure results, the answers and their pace, and the estimated time left.
    Gold tasks are left out; times without a zone are UTC. Each figure's definition is
    in `assay.engine.dashboard`."""
    return dashboard.project_dashboard(store, project_id, batch, since, until)


@router.get("/{project_id}/leaderboard", response_model=Leaderboard)
def project_leaderboard(
    project_id: str, batch: str | None = None, store: Store = Depends(store_of)
):
    """The models the project's completed comparisons pit against each other, scored by
    Bradley-Terry (a log-strength: model a beats b with probability
    1 / (1 + exp(score_b - score_a))), best first. 409 for kinds that compare no models."""
    return exports.project_leaderboard(store, project_id, batch)


@router.get("/{project_id}/automation")
def project_automation(project_id: str, store: Store = Depends(store_of)) -> dict:
    """Model in the loop: the share of tasks the model completed and people did (overall
    and per batch), the model's certified accuracy above its threshold and audits of its
    results, people's accuracy, and the human hours saved."""
    return automation_report.automation_report(store, project_id)


@router.post("/{project_id}/automation:run")
async def run_automation(
    project_id: str,
    store: Store = Depends(store_of),
    outbound: OutboundPolicy = Depends(outbound_of),
) -> dict:
    """Run a model-in-the-loop cycle now (the server also runs one by itself whenever the
    project's tasks or answers change): fit, predict, certify, route. Returns what it did;
    409 `automation_running` while another cycle (a fit can take minutes) is under way."""
    return await run_in_threadpool(
        automation.run_cycle, store, project_id, wait=False, outbound=outbound
    )


@router.get("/{project_id}/removals", response_model=list[WorkerRemoval])
def list_removals(project_id: str, store: Store = Depends(store_of)):
    """Workers taken off this project's queue for low quality, restored ones included."""
    projects.get_project(store, project_id)  # 404 for an unknown project
    return removals.list_removals(store, project_id)


@router.post("/{project_id}/removals/{worker_id}/restore", response_model=WorkerRemoval)
def restore_worker(
    project_id: str, worker_id: str, who: Principal = MANAGER, store: Store = Depends(store_of)
):
    """Put a removed worker back on the queue; they will not be removed automatically again."""
    return removals.restore_worker(store, project_id, worker_id, who.key_id)


IMPORT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-ndjson": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
        },
    }
}


@router.post("/{project_id}/tasks:import", response_model=ImportReport, openapi_extra=IMPORT_BODY)
async def import_tasks(
    project_id: str,
    request: Request,
    batch: str | None = None,
    store: Store = Depends(store_of),
    outbound: OutboundPolicy = Depends(outbound_of),
):
    """Bulk-create tasks from NDJSON (one task object a line) or a JSON array.

    Valid rows are stored in one transaction; rejected rows are listed by line and field;
    rows whose unique_id already exists count as duplicates and change nothing.
    """
    body = await request.body()
    return await run_in_threadpool(imports.import_tasks, store, project_id, batch, body, outbound)


@router.get(
    "/{project_id}/export",
    response_class=StreamingResponse,
    responses={200: {"content": {t: {} for t in FORMATS.values()}}},
)
def export_tasks(
    project_id: str,
    format: Annotated[
        str,
        Query(
            max_length=32,
            description="jsonl, csv or parquet (every task as stored), or a format of the "
            "project's kind (completed tasks' results), e.g. conll, coco, yolo, trl",
        ),
    ] = "jsonl",
    status: TaskStatus | None = None,
    batch: str | None = None,
    include_gold: bool = False,
    store: Store = Depends(store_of),
):
    """Stream the project's tasks (with results once completed) in id order."""
    plan = exports.plan_export(store, project_id, format)
    filename = f"{project_id}.{plan.suffix}"
    return StreamingResponse(
        exports.export_tasks(store, plan, status, batch, include_gold),
        media_type=plan.media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
