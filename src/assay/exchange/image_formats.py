"""COCO and YOLO files for the image kinds (boxes, polygons, points).

The writers and the reader know the file layouts; each kind passes small functions that
turn one of its objects into COCO annotation fields or YOLO numbers and back.

COCO (one JSON document, streamed): `images` ({id: 1, 2, ... in export order, file_name:
the task's image, width, height, task_id, unique_id}), `annotations` ({id, image_id,
category_id, iscrowd: 0, score: the result's confidence, plus the kind's geometry fields:
bbox [x, y, w, h], area, segmentation or keypoints}) and `categories` ({id, name}; ids 1, 2,
... in the project's label order, then any label of a result no longer in the project).

YOLO (a zip): `labels/<image stem>.txt` per image with one line "class n1 n2 ..." per
object (class = 0-based index in `classes.txt`, numbers normalised by the image width and
height to [0, 1], 6 decimals); an image whose stem was already used gets
`<stem>_<task id>`. `classes.txt` holds one class name a line; `data.yaml` has `path`,
`train`, `val`, `nc` and `names` (images are expected in `images/` beside `labels/`).

Reading COCO yields one task per image: params {image: file_name, width, height},
unique_id str(image id) and, when the file has any annotations, a hypothesis with the
image's objects (crowd annotations, `iscrowd` 1, are left out: they are not instances).
"""

import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import PurePosixPath
from tempfile import SpooledTemporaryFile
from typing import Any
from urllib.parse import urlsplit

import orjson
from pydantic import BaseModel

Writer = Callable[[BaseModel, Iterable[dict[str, Any]]], Iterator[bytes]]
SPOOL_BYTES = 16 << 20
CHUNK = 1 << 16


class _Categories:
    """Category ids by name: the project's labels first, then any other label met."""

    def __init__(self, labels: Sequence[str], first: int):
        self.first = first
        self.ids = {label: i for i, label in enumerate(labels, start=first)}

    def id(self, label: str) -> int:
        return self.ids.setdefault(label, len(self.ids) + self.first)


def coco_writer(
    key: str, annotation: Callable[[dict[str, Any]], dict[str, Any]], **category: Any
) -> Writer:
    """A COCO writer for answers listing objects under `key`; `annotation` gives an
    object's geometry fields, `category` extra fields of every category. Images stream
    out as they come; annotations wait in a spool file (memory, then disk) until then."""

    def write(params: BaseModel, tasks: Iterable[dict[str, Any]]) -> Iterator[bytes]:
        categories = _Categories(params.labels, first=1)  # type: ignore[attr-defined]
        count = 0
        yield b'{"info":{"description":"assay export"},"images":['
        with SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            for image_id, task in enumerate(tasks, start=1):
                yield b"," * (image_id > 1) + b"\n" + orjson.dumps(_image(image_id, task))
                result = task["response"]
                for obj in result.get(key, []):
                    count += 1
                    fields = {
                        "id": count,
                        "image_id": image_id,
                        "category_id": categories.id(obj["label"]),
                        **annotation(obj),
                        "iscrowd": 0,
                        "score": result["confidence"],
                    }
                    spool.write(b"," * (count > 1) + b"\n" + orjson.dumps(fields))
            yield b'],"annotations":['
            spool.seek(0)
            while chunk := spool.read(CHUNK):
                yield chunk
        listed = [{"id": i, "name": name, **category} for name, i in categories.ids.items()]
        yield b'],"categories":' + orjson.dumps(listed) + b"}\n"

    return write


def _image(image_id: int, task: dict[str, Any]) -> dict[str, Any]:
    params = task["params"]
    return {
        "id": image_id,
        "file_name": params["image"],
        "width": params["width"],
        "height": params["height"],
        "task_id": task["id"],
        "unique_id": task.get("unique_id"),
    }


def coco_reader(
    key: str, objects: Callable[[dict[str, Any]], list[dict[str, Any]]]
) -> Callable[[bytes], Iterator[dict[str, Any]]]:
    """A COCO reader for answers listing objects under `key`; `objects` turns one
    annotation into the kind's objects (without labels)."""

    def read(data: bytes) -> Iterator[dict[str, Any]]:
        document = orjson.loads(data)
        if not isinstance(document, dict) or not isinstance(document.get("images"), list):
            raise ValueError('a COCO file is a JSON object with an "images" list')
        try:
            yield from _tasks(document, key, objects)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a COCO file this kind can read: {exc!r}") from None

    return read


def _tasks(
    document: dict[str, Any], key: str, objects: Callable[[dict[str, Any]], list[dict[str, Any]]]
) -> Iterator[dict[str, Any]]:
    annotations = document.get("annotations") or []
    found = _objects_by_image(document, annotations, objects)
    for image in document["images"]:
        task: dict[str, Any] = {
            "params": {
                "image": image["file_name"],
                "width": image["width"],
                "height": image["height"],
            },
            "unique_id": str(image["id"]),
        }
        if annotations:
            task["hypothesis"] = {key: found.get(image["id"], [])}
        yield task


def _objects_by_image(
    document: dict[str, Any],
    annotations: list[dict[str, Any]],
    objects: Callable[[dict[str, Any]], list[dict[str, Any]]],
) -> dict[Any, list[dict[str, Any]]]:
    names = {c["id"]: c["name"] for c in document.get("categories") or []}
    found: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for annotation in annotations:
        if annotation.get("iscrowd"):
            continue
        category = annotation["category_id"]
        if category not in names:
            raise ValueError(f"annotation {annotation.get('id')}: no category {category!r}")
        label = names[category]
        found[annotation["image_id"]].extend({**obj, "label": label} for obj in objects(annotation))
    return found


class _Sink:
    """A write-only stream a ZipFile writes into; `drain` hands over what it got."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> Iterator[bytes]:
        if self.parts:
            yield b"".join(self.parts)
            self.parts.clear()


UNSAFE = re.compile(r"[^\w.-]+")


def _stem(image: str, task_id: str, used: set[str]) -> str:
    """The image's file stem made safe for a zip member; on a repeat, `<stem>_<task id>`."""
    stem = UNSAFE.sub("_", PurePosixPath(urlsplit(image).path).stem) or "image"
    if stem in used:
        stem += "_" + UNSAFE.sub("_", str(task_id))
    used.add(stem)
    return stem


def _data_yaml(names: Sequence[str]) -> bytes:
    """YOLO dataset file; names are written as JSON strings, which YAML reads as is."""
    return (
        b"path: .\ntrain: images\nval: images\n"
        + f"nc: {len(names)}\n".encode()
        + b"names: "
        + orjson.dumps(list(names))
        + b"\n"
    )


def _yolo_line(class_id: int, numbers: Sequence[float]) -> str:
    return " ".join([str(class_id), *(f"{v:.6f}" for v in numbers)]) + "\n"


def yolo_writer(key: str, numbers: Callable[[dict[str, Any], int, int], list[float]]) -> Writer:
    """A YOLO zip writer for answers listing objects under `key`; `numbers(object, width,
    height)` gives the object's normalised numbers after the class."""

    def write(params: BaseModel, tasks: Iterable[dict[str, Any]]) -> Iterator[bytes]:
        classes = _Categories(params.labels, first=0)  # type: ignore[attr-defined]
        sink, used = _Sink(), set[str]()
        with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as archive:  # type: ignore[arg-type]
            for task in tasks:
                p = task["params"]
                lines = (
                    _yolo_line(classes.id(obj["label"]), numbers(obj, p["width"], p["height"]))
                    for obj in task["response"].get(key, [])
                )
                name = f"labels/{_stem(p['image'], task['id'], used)}.txt"
                archive.writestr(name, "".join(lines))
                yield from sink.drain()
            archive.writestr("classes.txt", "".join(f"{n}\n" for n in classes.ids))
            archive.writestr("data.yaml", _data_yaml(list(classes.ids)))
        yield from sink.drain()

    return write
