from fastapi import APIRouter, Depends

from assay.api.auth import MANAGER, outbound_of, store_of
from assay.api.paging import PageQuery, page
from assay.api.responses import OrjsonResponse
from assay.engine import audits, tasks
from assay.engine.keys import Principal
from assay.outbound import OutboundPolicy
from assay.schemas import AuditIn, AuditOut, Page, TaskCreate, TaskOut, TaskStatus
from assay.store.db import Store

router = APIRouter(prefix="/v1/tasks", tags=["tasks"], dependencies=[MANAGER])


@router.post("", status_code=201, response_model=TaskOut)
def create_task(
    body: TaskCreate,
    store: Store = Depends(store_of),
    outbound: OutboundPolicy = Depends(outbound_of),
):
    """Create a task. A unique_id already used in the project is a 409 with `task_id`."""
    return tasks.create_task(store, body.model_dump(mode="json", exclude_unset=True), outbound)


@router.get("", response_model=Page[TaskOut])
def list_tasks(
    project: str | None = None,
    batch: str | None = None,
    status: TaskStatus | None = None,
    unique_id: str | None = None,
    paging: PageQuery = Depends(),
    store: Store = Depends(store_of),
):
    """Tasks in creation order; follow `next_token` for the next page."""
    found = tasks.list_tasks(
        store,
        project=project,
        batch=batch,
        status=status,
        unique_id=unique_id,
        limit=paging.limit,
        next_token=paging.next_token,
    )
    # Rows come straight from the engine in the documented shape; skip re-validation.
    return OrjsonResponse(page(found))


@router.get("/{task_id}", response_model=TaskOut)
def get_task(task_id: str, store: Store = Depends(store_of)):
    return tasks.get_task(store, task_id)


@router.post("/{task_id}/audit", response_model=AuditOut)
def audit_task(
    task_id: str, body: AuditIn, who: Principal = MANAGER, store: Store = Depends(store_of)
):
    """Mark a completed task's result correct or incorrect (a customer audit). Auditing
    again replaces the verdict. Verdicts feed batch accuracy and worker scores."""
    return audits.audit_task(store, task_id, body.correct, body.note, who.key_id)


@router.post("/{task_id}/cancel", response_model=TaskOut)
def cancel_task(task_id: str, store: Store = Depends(store_of)):
    """Cancel a pending task (repeating it is harmless); other states are a 409."""
    return tasks.cancel_task(store, task_id)
