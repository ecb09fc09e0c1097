"""Uploaded images: managers upload them, anyone signed in (workers included) reads them."""

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from starlette.concurrency import run_in_threadpool

from assay.api.auth import MANAGER, principal, store_of
from assay.engine import media
from assay.store.db import Store

router = APIRouter(prefix="/v1/media", tags=["media"])


@router.post(
    "",
    status_code=201,
    dependencies=[MANAGER],
    openapi_extra={"requestBody": {"content": {"image/*": {}}, "required": True}},
)
async def upload_media(request: Request, store: Store = Depends(store_of)) -> dict[str, Any]:
    """Upload an image (the raw bytes as the body). Returns its `url`, to put in a task's
    params as `image`, and its pixel `width` and `height`. The same bytes again return
    the same media. An image of more pixels than the server takes (by default 100
    million) is refused with `image_too_large` before it is decoded."""
    body = await request.body()
    max_pixels = request.app.state.settings.max_image_pixels
    return await run_in_threadpool(media.upload, store, body, max_pixels)


@router.get("/{media_id}", dependencies=[Depends(principal)], response_class=Response)
def get_media(media_id: str, store: Store = Depends(store_of)) -> Response:
    data, content_type = media.media_content(store, media_id)
    headers = {"Cache-Control": "private, max-age=31536000, immutable"}
    return Response(data, media_type=content_type, headers=headers)
