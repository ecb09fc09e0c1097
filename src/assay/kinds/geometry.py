"""Geometry shared by the image kinds (boxes, polygons, points); not a kind itself.

Every image kind compares objects by a pairwise *similarity* (IoU for boxes and polygons,
closeness `1 - distance / max_distance` for points) and a *threshold* a pair must reach to
match. On that one idea rest:

- `match`: one-to-one matching of two object lists by Hungarian assignment
  (`assay.kinds.assignment`, SciPy's algorithm): the most pairs at or above the threshold,
  then the highest total similarity.
- `consolidate_objects`: clusters built worker by worker in the order the answers come:
  each worker's objects are matched to the clusters so far, an object's similarity to a
  cluster being its mean similarity to the cluster's members, labels ignored; objects left
  unmatched start new clusters (in the worker's object order). A worker adds at most one
  object to a cluster; an exact tie goes to the larger, then the older, cluster. A cluster
  is kept when a strict majority of the task's workers drew it (its *support* = members /
  workers). The kept object's geometry comes from the kind's `merge`, its label by vote
  (ties to the label listed first in params). Results list kept objects in cluster order
  and carry `support` and the kind's report of the cluster's mean pairwise similarity
  (1 for a lone member).
  Confidence = mean over all clusters of the share of workers that agree with the decision:
  for a kept cluster, (workers who drew it with the winning label / workers) x its mean
  similarity clipped to [0, 1]; for a dropped one, 1 - support. No clusters (every worker
  drew nothing): an empty result with confidence 1.
- `agreement_score`: for two answers, same-label objects matched as above; score =
  2 x (sum of matched similarities) / (objects in both), unmatched objects counting 0;
  1 when both are empty. Symmetric, in [0, 1].
- `matches_gold`: every gold object matched by a same-label answer object at the threshold,
  and no answer object left over.

`image_kind` wires these into a kind: every image kind takes an `ImageTask`, distinct
labels, answers listing labelled objects under the kind's name (each object's label one of
the project's, then the kind's own geometry checks), and COCO (optionally YOLO) files.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from math import ceil
from typing import Annotated, Any, Literal

import numpy as np
from PIL import Image, ImageDraw
from pydantic import BaseModel, ConfigDict, Field

from assay.errors import FieldError
from assay.exchange.image_formats import coco_reader, coco_writer, yolo_writer
from assay.kinds.assignment import linear_sum_assignment
from assay.kinds.base import Agreement, Answer, Export, Import, Kind, pairwise_agreement
from assay.kinds.labels import Label, label_errors, repeats, vote
from assay.text import Text

Coordinate = Annotated[float, Field(allow_inf_nan=False)]
MAX_OBJECTS = 10_000
RASTER = 512
"""Grid cells along the longer side of a polygon pair's bounding box when rasterising."""


class LabelledParams(BaseModel):
    """Project params every image kind has: the label set."""

    model_config = ConfigDict(extra="forbid")

    labels: Annotated[list[Label], Field(min_length=1, max_length=1000)]


def check_labels(params: LabelledParams) -> list[FieldError]:
    """Labels must be distinct; each repeat is named by its index."""
    return repeats(params.labels)


class RegionParams(LabelledParams):
    """Project params of the kinds that outline regions (boxes, polygons)."""

    min_size: Annotated[float, Field(ge=0, allow_inf_nan=False)] = 0.0
    """Least size of an object: the kind says in what measure."""
    iou_threshold: Annotated[float, Field(gt=0, le=1)] = 0.5
    """Least IoU of two objects taken for the same one."""


class ImageTask(BaseModel):
    """An image task: the image (URL or media path) and its size in pixels."""

    model_config = ConfigDict(extra="allow")

    image: Annotated[Text, Field(min_length=1)]
    width: Annotated[int, Field(gt=0)]
    height: Annotated[int, Field(gt=0)]


def inside_errors(
    task: ImageTask, path: str, what: str, value: float, axis: Literal["x", "y"]
) -> list[FieldError]:
    """A coordinate (`what`, as the message names it) must lie in the image: 0 to its
    width for x, 0 to its height for y."""
    side, limit = ("width", task.width) if axis == "x" else ("height", task.height)
    if 0 <= value <= limit:
        return []
    return [
        FieldError(
            path, f"{what} = {value:g} is outside the image; allowed 0 to {limit} (its {side})"
        )
    ]


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in `a` (n, 4) with every box in `b` (m, 4), boxes as x, y, w, h."""
    a_lo, a_hi = a[:, None, :2], a[:, None, :2] + a[:, None, 2:]
    b_lo, b_hi = b[None, :, :2], b[None, :, :2] + b[None, :, 2:]
    sides = np.clip(np.minimum(a_hi, b_hi) - np.maximum(a_lo, b_lo), 0, None)
    inter = sides[..., 0] * sides[..., 1]
    union = (a[:, 2] * a[:, 3])[:, None] + (b[:, 2] * b[:, 3])[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def polygon_area(points: np.ndarray) -> float:
    """Area of a simple polygon (k, 2) by the shoelace formula."""
    x, y = points[:, 0], points[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def _mask(
    points: np.ndarray, origin: np.ndarray, scale: float, size: tuple[int, int]
) -> np.ndarray:
    image = Image.new("1", size)
    corners = [tuple(p) for p in ((points - origin) * scale).tolist()]
    ImageDraw.Draw(image).polygon(corners, fill=1, outline=1)
    return np.asarray(image)


def _raster_iou(p: np.ndarray, q: np.ndarray) -> float:
    """IoU of two polygons drawn on one grid of RASTER cells along their longer side."""
    lo = np.minimum(p.min(axis=0), q.min(axis=0))
    span = np.maximum(p.max(axis=0), q.max(axis=0)) - lo
    scale = RASTER / max(float(span.max()), 1e-9)
    size = (ceil(span[0] * scale) + 1, ceil(span[1] * scale) + 1)
    a, b = _mask(p, lo, scale, size), _mask(q, lo, scale, size)
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else 0.0


def _bounds_overlap(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> np.ndarray:
    """(n, m) whether the bounding boxes of polygons in `a` and `b` touch."""
    lo_a, lo_b = (np.stack([p.min(axis=0) for p in s]) for s in (a, b))
    hi_a, hi_b = (np.stack([p.max(axis=0) for p in s]) for s in (a, b))
    lo = np.maximum(lo_a[:, None], lo_b[None])
    hi = np.minimum(hi_a[:, None], hi_b[None])
    return np.all(hi >= lo, axis=-1)


def polygon_iou(a: Sequence[np.ndarray], b: Sequence[np.ndarray]) -> np.ndarray:
    """IoU of every polygon in `a` with every polygon in `b`, rasterised pair by pair;
    pairs whose bounding boxes do not touch are 0 without drawing. With `a is b` each
    pair is drawn once and the diagonal is 1."""
    out = np.zeros((len(a), len(b)))
    if not len(a) or not len(b):
        return out
    candidates = _bounds_overlap(a, b)
    symmetric = a is b
    if symmetric:
        candidates = np.triu(candidates, 1)
        np.fill_diagonal(out, 1.0)
    for i, j in np.argwhere(candidates):
        out[i, j] = _raster_iou(a[i], b[j])
        if symmetric:
            out[j, i] = out[i, j]
    return out


def match(similarity: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """One-to-one pairs (row, column) with similarity >= threshold: the most pairs, then
    the highest total similarity (Hungarian assignment)."""
    ok = similarity >= threshold
    if not ok.any():
        return []
    weight = np.where(ok, 1 + np.clip(similarity, 0, 1) / (min(similarity.shape) + 1), 0.0)
    rows, cols = linear_sum_assignment(weight, maximize=True)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if ok[r, c]]


Similarity = Callable[[Sequence[dict[str, Any]], Sequence[dict[str, Any]]], np.ndarray]


@dataclass(frozen=True)
class Scheme:
    """How one image kind compares, merges and reports its objects."""

    key: str
    """The answer's list of objects, e.g. "boxes"."""
    similarity: Similarity
    """(objects, objects) -> (n, m) similarities; 1 is identical."""
    threshold: float
    """Least similarity of a matching pair."""
    merge: Callable[[Sequence[dict[str, Any]], np.ndarray], dict[str, Any]]
    """(a cluster's objects, their pairwise similarities) -> the result's geometry."""
    report: Callable[[float], dict[str, float]]
    """A cluster's mean pairwise similarity -> keys the result object carries, e.g. iou."""


def _clusters(sizes: Sequence[int], similarity: np.ndarray, threshold: float) -> list[list[int]]:
    """Indices (into all objects, worker after worker) of each cluster's members. Clusters
    are offered to the matcher largest first, then oldest, and the solver settles exact
    ties on the lower index, so an exact tie goes to the larger, then the older, cluster."""
    clusters: list[list[int]] = []
    bounds = np.cumsum([0, *sizes])
    for start, stop in pairwise(bounds):
        rows = np.arange(start, stop)
        order = sorted(range(len(clusters)), key=lambda c: -len(clusters[c]))
        offered = [clusters[c] for c in order]
        pairs = match(_to_clusters(similarity[rows], offered), threshold) if clusters else []
        for row, col in pairs:
            offered[col].append(int(rows[row]))
        matched = {row for row, _ in pairs}
        clusters.extend([int(rows[r])] for r in range(len(rows)) if r not in matched)
    return clusters


def _to_clusters(similarity: np.ndarray, clusters: Sequence[list[int]]) -> np.ndarray:
    """(objects, clusters): each object's mean similarity to each cluster's members."""
    return np.stack([similarity[:, members].mean(axis=1) for members in clusters], axis=1)


def _mean_pairwise(similarity: np.ndarray) -> float:
    n = len(similarity)
    if n < 2:
        return 1.0
    return float(similarity[np.triu_indices(n, 1)].mean())


def consolidate_objects(scheme: Scheme, labels: Sequence[str], answers: Sequence[Answer]) -> Answer:
    """Clusters of the workers' objects, kept by strict majority (see the module doc)."""
    objects = [obj for answer in answers for obj in answer[scheme.key]]
    similarity = scheme.similarity(objects, objects)
    workers = len(answers)
    kept, agreeing = [], []
    clusters = _clusters([len(a[scheme.key]) for a in answers], similarity, scheme.threshold)
    for members in clusters:
        support = len(members) / workers
        if 2 * len(members) <= workers:
            agreeing.append(1 - support)
            continue
        inner = similarity[np.ix_(members, members)]
        mean = _mean_pairwise(inner)
        label, votes = vote(labels, [objects[m]["label"] for m in members])
        geometry = scheme.merge([objects[m] for m in members], inner)
        kept.append({**geometry, "label": label, "support": support, **scheme.report(mean)})
        agreeing.append(votes / workers * min(max(mean, 0.0), 1.0))
    confidence = float(np.mean(agreeing)) if agreeing else 1.0
    return {scheme.key: kept, "confidence": confidence}


def medoid(objects: Sequence[dict[str, Any]], similarity: np.ndarray) -> dict[str, Any]:
    """The member with the highest mean similarity to the others (the first on ties),
    without its label."""
    n = len(objects)
    means = (similarity.sum(axis=1) - np.diag(similarity)) / max(n - 1, 1)
    best = objects[int(np.argmax(means))]
    return {k: v for k, v in best.items() if k != "label"}


def _same_label_similarity(scheme: Scheme, a: Answer, b: Answer) -> np.ndarray:
    objects_a, objects_b = a[scheme.key], b[scheme.key]
    similarity = scheme.similarity(objects_a, objects_b)
    same = np.array(
        [[x["label"] == y["label"] for y in objects_b] for x in objects_a], dtype=bool
    ).reshape(similarity.shape)
    return np.where(same, similarity, -np.inf)


def agreement_score(scheme: Scheme, a: Answer, b: Answer) -> float:
    """Matched similarity of two answers, unmatched objects counting 0 (module doc)."""
    total = len(a[scheme.key]) + len(b[scheme.key])
    if not total:
        return 1.0
    similarity = _same_label_similarity(scheme, a, b)
    pairs = match(similarity, scheme.threshold)
    matched = sum(min(max(float(similarity[i, j]), 0.0), 1.0) for i, j in pairs)
    return 2 * matched / total


def matches_gold(scheme: Scheme, answer: Answer, gold: Answer) -> bool:
    """Every gold object matched by a same-label answer object, none left over."""
    if len(answer[scheme.key]) != len(gold[scheme.key]):
        return False
    pairs = match(_same_label_similarity(scheme, answer, gold), scheme.threshold)
    return len(pairs) == len(gold[scheme.key])


ObjectErrors = Callable[[Any, ImageTask, str, Any], list[FieldError]]
"""(params, task, path, object) -> what is wrong with an object's geometry."""


def image_kind(
    *,
    name: str,
    summary: str,
    params_model: type[LabelledParams],
    response_model: type[BaseModel],
    object_errors: ObjectErrors,
    scheme: Callable[[Any], Scheme],
    measure: str,
    coco_fields: Callable[[dict[str, Any]], dict[str, Any]],
    from_coco: Callable[[dict[str, Any]], list[dict[str, Any]]],
    yolo_numbers: Callable[[dict[str, Any], int, int], list[float]] | None = None,
    coco_category: Mapping[str, Any] | None = None,
) -> Kind:
    """An image kind whose answers list labelled objects under `name` (its widget too).

    `object_errors` checks one object's geometry (its label is checked here, first);
    `scheme(params)` compares, merges and reports objects for consolidation, gold and
    agreement (`measure`); `coco_fields` / `from_coco` turn an object into COCO annotation
    fields and back, `coco_category` adds fields to every COCO category, and
    `yolo_numbers`, when given, adds a YOLO export."""

    def check_response(
        params: LabelledParams, task: ImageTask, response: BaseModel
    ) -> list[FieldError]:
        errors = []
        for i, obj in enumerate(getattr(response, name)):
            path = f"{name}[{i}]"
            errors += label_errors(params.labels, f"{path}.label", obj.label)
            errors += object_errors(params, task, path, obj)
        return errors

    def consolidate(params: LabelledParams, task: ImageTask, answers: Sequence[Answer]) -> Answer:
        return consolidate_objects(scheme(params), params.labels, answers)

    def matches(params: LabelledParams, task: ImageTask, answer: Answer, gold: Answer) -> bool:
        return matches_gold(scheme(params), answer, gold)

    def agreement(
        params: LabelledParams, items: Sequence[tuple[ImageTask, Sequence[Answer]]]
    ) -> Agreement:
        settled = scheme(params)
        return pairwise_agreement(measure, items, lambda _, a, b: agreement_score(settled, a, b))

    exports = {
        "coco": Export(
            "application/json", ".json", coco_writer(name, coco_fields, **(coco_category or {}))
        )
    }
    if yolo_numbers is not None:
        exports["yolo"] = Export("application/zip", ".zip", yolo_writer(name, yolo_numbers))
    return Kind(
        name=name,
        summary=summary,
        widget=name,
        params_model=params_model,
        task_model=ImageTask,
        check_params=check_labels,
        response_model=response_model,
        check_response=check_response,
        consolidate=consolidate,
        matches=matches,
        agreement=agreement,
        exports=exports,
        imports={"coco": Import(coco_reader(name, from_coco))},
    )
