"""Uploaded media: images that tasks show, with the pixel size Pillow reads from them.

A task of an image kind refers to an upload by its URL (`/v1/media/<id>`); when the task
leaves out the image's `width` and `height`, they are filled in from the upload, so
answers are checked against the real image. Uploading the same bytes again returns the
same media (the id is the content's SHA-256).
"""

import hashlib
import io
import warnings
from typing import Any

from PIL import Image, UnidentifiedImageError
from sqlalchemy import Connection, select

from assay.errors import AssayError, FieldError, Invalid, NotFound
from assay.ids import utc_now
from assay.store.db import Store
from assay.store.tables import media

MEDIA_PATH = "/v1/media/"
_VIEW_COLUMNS = (media.c.id, media.c.content_type, media.c.width, media.c.height, media.c.size)


def _view(row: dict[str, Any]) -> dict[str, Any]:
    shown = {c.name: row[c.name] for c in _VIEW_COLUMNS}
    return shown | {"url": MEDIA_PATH + row["id"]}


class ImageTooLarge(AssayError):
    """An image whose header claims more pixels than the server takes: a few bytes can
    claim gigabytes of pixels, so the size is refused before any pixel is decoded."""

    def __init__(self, size: str, max_pixels: int):
        message = f"the image is {size} pixels; this server takes at most {max_pixels}"
        super().__init__(
            detail=message,
            code="image_too_large",
            status=422,
            errors=[FieldError("body", message)],
        )


def _read_image(data: bytes, max_pixels: int) -> tuple[str, int, int]:
    """(content type, width, height) of an image; Invalid naming the body if it is none,
    ImageTooLarge past `max_pixels`. Only the header and chunk checksums are read."""
    try:
        with warnings.catch_warnings():
            # Pillow warns past its own limit; the configured one decides here instead.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise ImageTooLarge(f"{width}x{height}", max_pixels)
                image.verify()
                content_type = Image.MIME.get(image.format or "", "application/octet-stream")
                return content_type, width, height
    except Image.DecompressionBombError:  # past Pillow's ceiling, twice its own limit
        ceiling = 2 * (Image.MAX_IMAGE_PIXELS or 0)
        raise ImageTooLarge(f"more than {ceiling}", min(max_pixels, ceiling)) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Invalid([FieldError("body", "not an image that can be read")]) from None


def upload(store: Store, data: bytes, max_pixels: int) -> dict[str, Any]:
    """Store an image (idempotent: the same bytes give the same media) of at most
    `max_pixels` pixels."""
    if not data:
        raise Invalid([FieldError("body", "the upload is empty")])
    content_type, width, height = _read_image(data, max_pixels)
    media_id = hashlib.sha256(data).hexdigest()
    with store.write() as conn:
        found = conn.execute(select(*_VIEW_COLUMNS).where(media.c.id == media_id)).first()
        if found is not None:
            return _view(found._asdict())
        row = {
            "id": media_id,
            "content_type": content_type,
            "width": width,
            "height": height,
            "size": len(data),
            "data": data,
            "created_at": utc_now(),
        }
        conn.execute(media.insert().values(**row))
    return _view(row)


def media_content(store: Store, media_id: str) -> tuple[bytes, str]:
    with store.read() as conn:
        found = conn.execute(
            select(media.c.data, media.c.content_type).where(media.c.id == media_id)
        ).first()
    if found is None:
        raise NotFound("media", media_id)
    return found.data, found.content_type


def with_media_size(conn: Connection, task_params: Any) -> Any:
    """Task params with `width` and `height` filled in from the uploaded `image` they
    refer to, when they leave them out."""
    if not isinstance(task_params, dict):
        return task_params
    image = task_params.get("image")
    if not isinstance(image, str) or not image.startswith(MEDIA_PATH):
        return task_params
    if "width" in task_params and "height" in task_params:
        return task_params
    found = conn.execute(
        select(media.c.width, media.c.height).where(media.c.id == image[len(MEDIA_PATH) :])
    ).first()
    if found is None:
        raise Invalid([FieldError("params.image", "no such uploaded media")])
    return {"width": found.width, "height": found.height} | task_params
