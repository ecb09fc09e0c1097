from fastapi import APIRouter, Depends

from assay.api.auth import MANAGER, store_of
from assay.api.paging import PageQuery, page
from assay.engine import workers
from assay.schemas import (
    Page,
    WorkerCreate,
    WorkerCreated,
    WorkerOut,
    WorkerStats,
    WorkerUpdate,
)
from assay.store.db import Store

router = APIRouter(prefix="/v1/workers", tags=["workers"], dependencies=[MANAGER])


@router.post("", status_code=201, response_model=WorkerCreated)
def create_worker(body: WorkerCreate, store: Store = Depends(store_of)):
    """Create a worker and their API key. The key is in this response only."""
    return workers.create_worker(store, body.name, body.role, body.skills)


@router.get("", response_model=Page[WorkerOut])
def list_workers(paging: PageQuery = Depends(), store: Store = Depends(store_of)):
    return page(workers.list_workers(store, paging.limit, paging.next_token))


@router.get("/{worker_id}", response_model=WorkerOut)
def get_worker(worker_id: str, store: Store = Depends(store_of)):
    return workers.get_worker(store, worker_id)


@router.get("/{worker_id}/stats", response_model=WorkerStats)
def worker_stats(worker_id: str, store: Store = Depends(store_of)):
    """Answers, mean answer time, and accuracy on gold tasks."""
    return workers.worker_stats(store, worker_id)


@router.patch("/{worker_id}", response_model=WorkerOut)
def update_worker(worker_id: str, body: WorkerUpdate, store: Store = Depends(store_of)):
    return workers.update_worker(store, worker_id, body.model_dump(exclude_unset=True))


@router.post("/{worker_id}/block", response_model=WorkerOut)
def block_worker(worker_id: str, store: Store = Depends(store_of)):
    """Stop a worker: their open leases are released and the work endpoints answer 403."""
    return workers.set_active(store, worker_id, False)


@router.post("/{worker_id}/unblock", response_model=WorkerOut)
def unblock_worker(worker_id: str, store: Store = Depends(store_of)):
    return workers.set_active(store, worker_id, True)
