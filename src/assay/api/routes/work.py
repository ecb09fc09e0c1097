"""The worker's side: who am I, the next task, heartbeats, skips and answers."""

from fastapi import APIRouter, Depends, Response
from starlette.concurrency import run_in_threadpool

from assay.api.auth import WORKER_ROLE, principal, store_of
from assay.engine import work, workers
from assay.engine.keys import Principal
from assay.schemas import AnnotationOut, Assignment, LeaseOut, Me, Submission, WorkRequest
from assay.store.db import Store

router = APIRouter(tags=["work"])


def current_worker(who: Principal = WORKER_ROLE) -> workers.Worker:
    return workers.working(who)


@router.get("/v1/me", response_model=Me)
def me(who: Principal = Depends(principal), store: Store = Depends(store_of)):
    """Who this key is: its role and, for annotators and reviewers, the worker record."""
    worker = None
    if who.role in ("annotator", "reviewer"):
        worker = workers.get_worker(store, who.key_id)
    return {"key_id": who.key_id, "role": who.role, "name": who.name, "worker": worker}


@router.post(
    "/v1/work/next",
    response_model=Assignment,
    responses={204: {"description": "Nothing to do for this worker now"}},
)
async def next_task(
    body: WorkRequest | None = None,
    worker: workers.Worker = Depends(current_worker),
    store: Store = Depends(store_of),
):
    """Lease the next task: highest priority first, then oldest. 204 when there is none."""
    project = body.project if body else None
    assignment = await run_in_threadpool(work.next_assignment, store, worker, project)
    if assignment is None:
        return Response(status_code=204)
    return assignment


@router.post("/v1/assignments/{assignment_id}/heartbeat", response_model=LeaseOut)
def heartbeat(
    assignment_id: str,
    worker: workers.Worker = Depends(current_worker),
    store: Store = Depends(store_of),
):
    """Extend the lease by the project's lease length."""
    return work.heartbeat(store, worker, assignment_id)


@router.post("/v1/assignments/{assignment_id}/skip", response_model=LeaseOut)
def skip(
    assignment_id: str,
    worker: workers.Worker = Depends(current_worker),
    store: Store = Depends(store_of),
):
    """Give the task back; it will not be offered to this worker again."""
    return work.skip(store, worker, assignment_id)


@router.post("/v1/assignments/{assignment_id}/submit", response_model=AnnotationOut)
def submit(
    assignment_id: str,
    body: Submission,
    worker: workers.Worker = Depends(current_worker),
    store: Store = Depends(store_of),
):
    """Answer the task. Sending the same answer again returns it; a different one is 409."""
    return work.submit(store, worker, assignment_id, body.response, body.duration_ms)
