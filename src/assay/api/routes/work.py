"""The worker's side: who am I, the next task, heartbeats, skips and answers.

These are the most frequent requests, so they skip FastAPI's dependency injection and
response-model serialization (each costs more than the database work here): the key is
checked on the database thread together with the work (`as_worker`), and the engine's
result, which already has the documented shape, is encoded as it is.
"""

from fastapi import APIRouter, Depends, Request, Response

from assay.api.auth import as_worker, principal, store_of
from assay.api.responses import OrjsonResponse
from assay.engine import review, work, workers
from assay.engine.keys import Principal
from assay.enums import REVIEWER_ROLES, WORKER_ROLES
from assay.errors import AssayError
from assay.schemas import (
    AnnotationOut,
    Assignment,
    LeaseOut,
    Me,
    OpenLeases,
    ReviewAssignment,
    ReviewIn,
    ReviewOut,
    Stage,
    Submission,
    WorkerStats,
    WorkRequest,
)
from assay.store.db import Store

router = APIRouter(tags=["work"])
# The worker routes check the key themselves; this declares it in the API docs.
BEARER = {"security": [{"HTTPBearer": []}]}


@router.get("/v1/me", response_model=Me)
def me(who: Principal = Depends(principal), store: Store = Depends(store_of)):
    """Who this key is: its role and, for annotators and reviewers, the worker record."""
    worker = None
    if who.role in WORKER_ROLES:
        worker = workers.get_worker(store, who.key_id)
    return {"key_id": who.key_id, "role": who.role, "name": who.name, "worker": worker}


@router.get("/v1/me/stats", response_model=WorkerStats)
def my_stats(who: Principal = Depends(principal), store: Store = Depends(store_of)):
    """A worker's own figures: answers, active time and accuracy on gold (a figure only:
    never which tasks were gold; it is updated every 20 answers and daily, never by one)."""
    if who.role not in WORKER_ROLES:
        raise AssayError("only workers have stats", "forbidden", 403)
    return workers.worker_stats(store, who.key_id, own=True)


@router.post(
    "/v1/work/next",
    response_model=Assignment | ReviewAssignment,
    responses={204: {"description": "Nothing to do for this worker now"}},
    openapi_extra=BEARER,
)
async def next_task(request: Request, body: WorkRequest | None = None, stage: Stage = "label"):
    """Lease the next task: highest priority first, then oldest. 204 when there is none.
    With `stage=review` (reviewers only): the next result to judge, with its answers."""
    project = body.project if body else None
    if stage == "review":
        assignment = await as_worker(request, review.next_review, project, roles=REVIEWER_ROLES)
    else:
        assignment = await as_worker(request, work.next_assignment, project)
    if assignment is None:
        return Response(status_code=204)
    return OrjsonResponse(assignment)


@router.get("/v1/work/current", response_model=OpenLeases, openapi_extra=BEARER)
async def current_work(request: Request, stage: Stage = "label"):
    """The caller's leases still running (oldest first), in the shape `work/next` gave
    them: a client that lost its state (a reloaded page) picks its tasks up again."""
    if stage == "review":
        items = await as_worker(request, review.open_reviews, roles=REVIEWER_ROLES)
    else:
        items = await as_worker(request, work.open_leases)
    return OrjsonResponse({"items": items})


@router.post(
    "/v1/assignments/{assignment_id}/heartbeat", response_model=LeaseOut, openapi_extra=BEARER
)
async def heartbeat(request: Request, assignment_id: str):
    """Extend the lease by the project's lease length."""
    return OrjsonResponse(await as_worker(request, work.heartbeat, assignment_id))


@router.post("/v1/assignments/{assignment_id}/skip", response_model=LeaseOut, openapi_extra=BEARER)
async def skip(request: Request, assignment_id: str):
    """Give the task back; it will not be offered to this worker again."""
    return OrjsonResponse(await as_worker(request, work.skip, assignment_id))


@router.post(
    "/v1/assignments/{assignment_id}/submit", response_model=AnnotationOut, openapi_extra=BEARER
)
async def submit(request: Request, assignment_id: str, body: Submission):
    """Answer the task. Sending the same answer again returns it; a different one is 409."""
    answer = await as_worker(request, work.submit, assignment_id, body.response, body.duration_ms)
    return OrjsonResponse(answer)


@router.post(
    "/v1/assignments/{assignment_id}/review", response_model=ReviewOut, openapi_extra=BEARER
)
async def review_result(request: Request, assignment_id: str, body: ReviewIn):
    """Judge the result of a review assignment: accept it, fix it (the corrected response
    becomes the result) or reject it (the task is labelled afresh). Repeating the same
    verdict returns it; a different one is 409."""
    verdict = await as_worker(
        request,
        review.review,
        assignment_id,
        body.verdict,
        body.response,
        body.reason,
        roles=REVIEWER_ROLES,
    )
    return OrjsonResponse(verdict)
