"""Boxes: draw a labelled rectangle around every object in an image.

A task carries {image: URL or media path, width, height} (the image's size in pixels;
other keys are kept). Project params: `labels` (distinct, at least one), `min_size` (least
box width and height in pixels, default 0) and `iou_threshold` (least IoU of two boxes
taken for the same object, default 0.5).

An answer is {"boxes": [{"x", "y", "width", "height", "label"}, ...]} in pixels from the
image's top-left corner (floats allowed): every box inside the image (0 <= x, x + width <=
image width, likewise y and height), width and height > 0 and >= min_size.

Answers consolidate by the scheme in `geometry.py`: boxes of all workers are clustered by
IoU at iou_threshold (Hungarian matching worker after worker, labels ignored); a cluster
drawn by a strict majority of the workers becomes one box with the mean of its members'
coordinates and the label most of them gave (ties to the label listed first in params).
Each result box carries `support` (share of workers who drew it) and `iou` (mean pairwise
IoU of its members, 1 for a lone box). confidence = mean over clusters of the share of
workers agreeing with the decision, a kept cluster's share weighted by its mean IoU; all
workers drawing nothing gives no boxes with confidence 1.

An answer matches gold when every gold box is matched one-to-one by a same-label box with
IoU >= iou_threshold and no answer box is left over. Agreement ("box_iou") is the mean,
over pairs of answers to a task, of their matched IoU (same-label matches; unmatched boxes
count 0; two empty answers score 1).

Exports: `coco` (bbox [x, y, w, h], area w * h) and `yolo` ("class cx cy w h" normalised).
Import: `coco` (each annotation's bbox becomes a box of its category's name).
"""

from collections.abc import Sequence
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from assay.errors import FieldError
from assay.kinds.geometry import (
    MAX_OBJECTS,
    Coordinate,
    ImageTask,
    RegionParams,
    Scheme,
    box_iou,
    image_kind,
    inside_errors,
)
from assay.kinds.labels import Label

SIDES = ("x", "y", "width", "height")


class BoxesParams(RegionParams):
    """min_size is the least width and height of a box, in pixels."""


class Box(BaseModel):
    model_config = ConfigDict(extra="forbid")

    x: Annotated[Coordinate, Field(ge=0)]
    y: Annotated[Coordinate, Field(ge=0)]
    width: Annotated[Coordinate, Field(gt=0)]
    height: Annotated[Coordinate, Field(gt=0)]
    label: Label


class BoxesResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    boxes: Annotated[list[Box], Field(max_length=MAX_OBJECTS)]


def _box_errors(params: BoxesParams, task: ImageTask, path: str, box: Box) -> list[FieldError]:
    errors = inside_errors(task, f"{path}.width", "x + width", box.x + box.width, "x")
    errors += inside_errors(task, f"{path}.height", "y + height", box.y + box.height, "y")
    for side in ("width", "height"):
        size = getattr(box, side)
        if size < params.min_size:
            errors.append(
                FieldError(
                    f"{path}.{side}",
                    f"{side} {size:g} is below the project's min_size {params.min_size:g}",
                )
            )
    return errors


def _array(boxes: Sequence[dict[str, Any]]) -> np.ndarray:
    """(n, 4) x, y, width, height."""
    return np.array([[b[side] for side in SIDES] for b in boxes], dtype=float).reshape(-1, 4)


def _iou(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> np.ndarray:
    return box_iou(_array(a), _array(b))


def _mean_box(boxes: Sequence[dict[str, Any]], _: np.ndarray) -> dict[str, Any]:
    return dict(zip(SIDES, _array(boxes).mean(axis=0).tolist(), strict=True))


def _scheme(params: BoxesParams) -> Scheme:
    return Scheme("boxes", _iou, params.iou_threshold, _mean_box, lambda iou: {"iou": iou})


def _coco_fields(box: dict[str, Any]) -> dict[str, Any]:
    return {"bbox": [box[side] for side in SIDES], "area": box["width"] * box["height"]}


def _yolo_numbers(box: dict[str, Any], width: int, height: int) -> list[float]:
    return [
        (box["x"] + box["width"] / 2) / width,
        (box["y"] + box["height"] / 2) / height,
        box["width"] / width,
        box["height"] / height,
    ]


def _from_coco(annotation: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(zip(SIDES, annotation["bbox"], strict=True))]


KIND = image_kind(
    name="boxes",
    summary="draw a labelled bounding box around every object in an image",
    params_model=BoxesParams,
    response_model=BoxesResponse,
    object_errors=_box_errors,
    scheme=_scheme,
    measure="box_iou",
    coco_fields=_coco_fields,
    from_coco=_from_coco,
    yolo_numbers=_yolo_numbers,
)
