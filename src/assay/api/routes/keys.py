from fastapi import APIRouter, Depends

from assay.api.auth import ADMIN, store_of
from assay.api.paging import PageQuery, page
from assay.engine import keys
from assay.schemas import KeyCreate, KeyCreated, KeyOut, Page
from assay.store.db import Store

router = APIRouter(prefix="/v1/keys", tags=["keys"], dependencies=[ADMIN])


@router.post("", status_code=201, response_model=KeyCreated)
def create_key(body: KeyCreate, store: Store = Depends(store_of)):
    """Create an API key. The secret is in this response only; store it now."""
    return keys.create_key(store, body.role, body.name)


@router.get("", response_model=Page[KeyOut])
def list_keys(
    paging: PageQuery = Depends(),
    store: Store = Depends(store_of),
):
    return page(keys.list_keys(store, paging.limit, paging.next_token))


@router.post("/{key_id}/revoke", response_model=KeyOut)
def revoke_key(key_id: str, store: Store = Depends(store_of)):
    return keys.revoke_key(store, key_id)
