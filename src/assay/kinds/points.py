"""Points: mark every object (or landmark) in an image with a labelled point.

A task carries {image: URL or media path, width, height} (the image's size in pixels;
other keys are kept). Project params: `labels` (distinct, at least one) and `max_distance`
(pixels; two points at most this far apart may be the same object, default 10).

An answer is {"points": [{"x", "y", "label"}, ...]} in pixels from the image's top-left
corner (floats allowed), each inside the image (0 <= x <= width, 0 <= y <= height).

Two points' similarity is their closeness, 1 - distance / max_distance: 1 for the same
spot, 0 at max_distance; they match when their distance is at most max_distance.
Answers consolidate by the scheme in `geometry.py`: points of all workers are clustered
by closeness (Hungarian matching worker after worker, a point joining the cluster it is
closest to on average, labels ignored); a cluster marked by a strict majority of the
workers becomes one point at its members' mean position with the label most of them gave
(ties to the label listed first in params). Each result point carries `support` (share
of workers who marked it) and `distance` (mean pairwise distance of its members, pixels).
confidence = mean over clusters of the share of workers agreeing with the decision, a kept
cluster's share weighted by its mean closeness; all workers marking nothing gives no
points with confidence 1.

An answer matches gold when every gold point is matched one-to-one by a same-label point
within max_distance and no answer point is left over. Agreement ("point_match") is the
mean, over pairs of answers to a task, of 2 x (sum of closeness of matched same-label
pairs) / (points in both answers); two empty answers score 1.

Export: `coco` keypoints: each point is an annotation with keypoints [x, y, 2],
num_keypoints 1, bbox [x, y, 0, 0] and area 0; each category lists one keypoint, "point".
Import: `coco` (every visible keypoint, v > 0, of an annotation becomes a point of its
category's name).
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
    LabelledParams,
    Scheme,
    Similarity,
    image_kind,
    inside_errors,
)
from assay.kinds.labels import Label


class PointsParams(LabelledParams):
    max_distance: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 10.0
    """Pixels; points further apart are never the same object."""


class Point(BaseModel):
    model_config = ConfigDict(extra="forbid")

    x: Coordinate
    y: Coordinate
    label: Label


class PointsResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    points: Annotated[list[Point], Field(max_length=MAX_OBJECTS)]


def _point_errors(
    params: PointsParams, task: ImageTask, path: str, point: Point
) -> list[FieldError]:
    errors = inside_errors(task, f"{path}.x", "x", point.x, "x")
    return errors + inside_errors(task, f"{path}.y", "y", point.y, "y")


def _array(points: Sequence[dict[str, Any]]) -> np.ndarray:
    """(n, 2) x, y."""
    return np.array([[p["x"], p["y"]] for p in points], dtype=float).reshape(-1, 2)


def _closeness(max_distance: float) -> Similarity:
    def closeness(a: Sequence[dict[str, Any]], b: Sequence[dict[str, Any]]) -> np.ndarray:
        distance = np.linalg.norm(_array(a)[:, None] - _array(b)[None], axis=-1)
        return 1 - distance / max_distance

    return closeness


def _mean_point(points: Sequence[dict[str, Any]], _: np.ndarray) -> dict[str, Any]:
    x, y = _array(points).mean(axis=0).tolist()
    return {"x": x, "y": y}


def _scheme(params: PointsParams) -> Scheme:
    return Scheme(
        "points",
        _closeness(params.max_distance),
        0.0,
        _mean_point,
        lambda closeness: {"distance": params.max_distance * (1 - closeness)},
    )


def _coco_fields(point: dict[str, Any]) -> dict[str, Any]:
    x, y = point["x"], point["y"]
    return {"keypoints": [x, y, 2], "num_keypoints": 1, "bbox": [x, y, 0, 0], "area": 0}


def _from_coco(annotation: dict[str, Any]) -> list[dict[str, Any]]:
    values = annotation["keypoints"]
    triples = zip(values[::3], values[1::3], values[2::3], strict=True)
    return [{"x": x, "y": y} for x, y, visible in triples if visible > 0]


KIND = image_kind(
    name="points",
    summary="mark every object or landmark in an image with a labelled point",
    params_model=PointsParams,
    response_model=PointsResponse,
    object_errors=_point_errors,
    scheme=_scheme,
    measure="point_match",
    coco_fields=_coco_fields,
    from_coco=_from_coco,
    coco_category={"keypoints": ["point"], "skeleton": []},
)
