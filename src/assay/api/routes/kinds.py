"""The task kinds this server knows: what each takes and the formats it reads and writes."""

from typing import Any

from fastapi import APIRouter, Depends

from assay.api.auth import principal
from assay.errors import NotFound
from assay.kinds import KINDS, describe

router = APIRouter(prefix="/v1/kinds", tags=["kinds"], dependencies=[Depends(principal)])


@router.get("")
def list_kinds() -> dict[str, Any]:
    """Every kind with its params, task and response JSON schemas and file formats."""
    return {"items": [describe(name) for name in KINDS]}


@router.get("/{name}")
def get_kind(name: str) -> dict[str, Any]:
    if name not in KINDS:
        raise NotFound("kind", name)
    return describe(name)
