from fastapi import APIRouter, Depends

from assay.api.auth import MANAGER, outbound_of, store_of
from assay.api.paging import PageQuery, page
from assay.engine import audits, batches
from assay.outbound import OutboundPolicy
from assay.schemas import BatchAccuracy, BatchCreate, BatchOut, BatchStatusOut, Page
from assay.store.db import Store

router = APIRouter(prefix="/v1/batches", tags=["batches"], dependencies=[MANAGER])


@router.post("", status_code=201, response_model=BatchOut)
def create_batch(
    body: BatchCreate,
    store: Store = Depends(store_of),
    outbound: OutboundPolicy = Depends(outbound_of),
):
    """Create a staging batch. A name already used in the project is a 409 with its id."""
    return batches.create_batch(store, body.model_dump(mode="json"), outbound)


@router.get("", response_model=Page[BatchOut])
def list_batches(
    project: str | None = None,
    paging: PageQuery = Depends(),
    store: Store = Depends(store_of),
):
    return page(batches.list_batches(store, project, paging.limit, paging.next_token))


@router.get("/{batch_id}", response_model=BatchOut)
def get_batch(batch_id: str, store: Store = Depends(store_of)):
    return batches.get_batch(store, batch_id)


@router.post("/{batch_id}/finalize", response_model=BatchOut)
def finalize_batch(batch_id: str, store: Store = Depends(store_of)):
    """Release the batch's tasks to workers (staging -> in_progress); safe to repeat."""
    return batches.finalize_batch(store, batch_id)


@router.get("/{batch_id}/status", response_model=BatchStatusOut)
def batch_status(batch_id: str, store: Store = Depends(store_of)):
    return batches.batch_status(store, batch_id)


@router.get("/{batch_id}/accuracy", response_model=BatchAccuracy)
def batch_accuracy(batch_id: str, store: Store = Depends(store_of)):
    """Measured accuracy: the share of the batch's audited results that were correct,
    with an exact (Clopper-Pearson) 95% interval."""
    return audits.batch_accuracy(store, batch_id)
