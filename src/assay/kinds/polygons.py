"""Polygons: outline every object in an image with a labelled polygon.

A task carries {image: URL or media path, width, height} (the image's size in pixels;
other keys are kept). Project params: `labels` (distinct, at least one), `min_size` (least
polygon area in square pixels, default 0) and `iou_threshold` (least IoU of two polygons
taken for the same object, default 0.5).

An answer is {"polygons": [{"points": [[x, y], ...], "label"}, ...]}: at least 3 vertices
in pixels from the image's top-left corner, each inside the image (0 <= x <= width,
0 <= y <= height), enclosing an area (shoelace formula) > 0 and >= min_size. Whether the
outline crosses itself is not checked.

IoU of two polygons is measured by drawing both (Pillow ImageDraw) on one grid of 512
cells along the longer side of their joint bounding box, so it is exact for identical
polygons and otherwise good to about a percent; pairs whose bounding boxes do not touch
are 0 without drawing.

Answers consolidate by the scheme in `geometry.py`: polygons of all workers are clustered
by IoU at iou_threshold (Hungarian matching worker after worker, labels ignored); a cluster
drawn by a strict majority of the workers becomes its medoid (the member with the highest
mean IoU to the others, the earliest worker's on ties) with the label most of them gave
(ties to the label listed first in params). Each result polygon carries `support` (share
of workers who drew it) and `iou` (mean pairwise IoU of its members). confidence = mean
over clusters of the share of workers agreeing with the decision, a kept cluster's share
weighted by its mean IoU; all workers drawing nothing gives no polygons, confidence 1.

An answer matches gold when every gold polygon is matched one-to-one by a same-label
polygon with IoU >= iou_threshold and no answer polygon is left over. Agreement
("polygon_iou") is the mean, over pairs of answers to a task, of their matched IoU
(same-label matches; unmatched polygons count 0; two empty answers score 1).

Exports: `coco` (segmentation [[x1, y1, x2, y2, ...]], bbox of the vertices, area by the
shoelace formula) and `yolo` (segmentation lines "class x1 y1 x2 y2 ..." normalised).
Import: `coco` (each polygon of an annotation's segmentation becomes a polygon of its
category's name; RLE masks cannot be read).
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
    image_kind,
    inside_errors,
    medoid,
    polygon_area,
    polygon_iou,
)
from assay.kinds.labels import Label

Vertex = Annotated[list[Coordinate], Field(min_length=2, max_length=2)]


class PolygonsParams(RegionParams):
    """min_size is the least area of a polygon, in square pixels."""


class Polygon(BaseModel):
    model_config = ConfigDict(extra="forbid")

    points: Annotated[list[Vertex], Field(min_length=3, max_length=MAX_OBJECTS)]
    label: Label


class PolygonsResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    polygons: Annotated[list[Polygon], Field(max_length=MAX_OBJECTS)]


def _area_errors(params: PolygonsParams, path: str, points: np.ndarray) -> list[FieldError]:
    area = polygon_area(points)
    if area <= 0:
        return [FieldError(path, "the points enclose no area; give at least 3 not in a line")]
    if area < params.min_size:
        return [
            FieldError(
                path,
                f"the polygon's area {area:g} is below the project's min_size {params.min_size:g}",
            )
        ]
    return []


def _polygon_errors(
    params: PolygonsParams, task: ImageTask, path: str, polygon: Polygon
) -> list[FieldError]:
    errors = []
    for j, (x, y) in enumerate(polygon.points):
        errors += inside_errors(task, f"{path}.points[{j}]", "x", x, "x")
        errors += inside_errors(task, f"{path}.points[{j}]", "y", y, "y")
    return errors + _area_errors(params, f"{path}.points", np.array(polygon.points))


def _arrays(polygons: Sequence[dict[str, Any]]) -> list[np.ndarray]:
    return [np.array(p["points"], dtype=float) for p in polygons]


def _iou(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> np.ndarray:
    """Polygon IoU; the same list on both sides draws each pair once."""
    first = _arrays(a)
    return polygon_iou(first, first if b is a else _arrays(b))


def _scheme(params: PolygonsParams) -> Scheme:
    return Scheme("polygons", _iou, params.iou_threshold, medoid, lambda iou: {"iou": iou})


def _coco_fields(polygon: dict[str, Any]) -> dict[str, Any]:
    points = np.array(polygon["points"], dtype=float)
    lo, hi = points.min(axis=0), points.max(axis=0)
    return {
        "segmentation": [points.ravel().tolist()],
        "bbox": [*lo.tolist(), *(hi - lo).tolist()],
        "area": polygon_area(points),
    }


def _yolo_numbers(polygon: dict[str, Any], width: int, height: int) -> list[float]:
    return (np.array(polygon["points"], dtype=float) / [width, height]).ravel().tolist()


def _from_coco(annotation: dict[str, Any]) -> list[dict[str, Any]]:
    parts = annotation["segmentation"]
    if not isinstance(parts, list):
        raise ValueError(f"annotation {annotation.get('id')}: an RLE mask is not a polygon")
    for part in parts:
        if len(part) % 2:
            raise ValueError(f"annotation {annotation.get('id')}: odd number of coordinates")
    return [{"points": [list(xy) for xy in zip(p[::2], p[1::2], strict=True)]} for p in parts]


KIND = image_kind(
    name="polygons",
    summary="outline every object in an image with a labelled polygon",
    params_model=PolygonsParams,
    response_model=PolygonsResponse,
    object_errors=_polygon_errors,
    scheme=_scheme,
    measure="polygon_iou",
    coco_fields=_coco_fields,
    from_coco=_from_coco,
    yolo_numbers=_yolo_numbers,
)
