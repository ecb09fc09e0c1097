"""Parse a bulk-import body (NDJSON, or one JSON array) into validated task rows.

Each row is checked on its own, so one bad row is reported by line and field while the
others go through. Blank lines are skipped but still counted, so line numbers match
the client's file.

The common row (a params object, maybe a unique_id, metadata and priority) is checked by
a few type tests; anything else goes through the full TaskFields model, which is also
what words every error. Both must agree; a property test holds them to it.
"""

import io
from collections.abc import Iterator
from typing import Any

import orjson
from pydantic import ValidationError

from assay.errors import field_path
from assay.exchange.import_report import RowProblem
from assay.schemas import PRIORITY_MAX, PRIORITY_MIN, UNIQUE_ID_MAX, TaskFields

ROW = "(row)"
"""The field named when a whole row is at fault (bad JSON, not an object)."""
INVALID_JSON = "invalid_json"


def _problems(line: int, exc: ValidationError) -> list[RowProblem]:
    return [
        RowProblem(line, field_path(e["loc"]) or ROW, e["msg"], e["type"])
        for e in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


_SIMPLE_KEYS = frozenset({"params", "unique_id", "metadata", "priority"})


def simple_fields(obj: Any) -> dict[str, Any] | None:
    """The row's fields when it is plainly valid, else None (let the model decide)."""
    if (
        type(obj) is not dict
        or not obj.keys() <= _SIMPLE_KEYS
        or type(obj.get("params")) is not dict
    ):
        return None
    unique_id = obj.get("unique_id")
    if unique_id is not None and not (
        type(unique_id) is str and 0 < len(unique_id) <= UNIQUE_ID_MAX and "\x00" not in unique_id
    ):
        return None
    metadata = obj.get("metadata")
    if metadata is not None and type(metadata) is not dict:
        return None
    priority = obj.get("priority", 0)
    if type(priority) is not int or not PRIORITY_MIN <= priority <= PRIORITY_MAX:
        return None
    return obj


def validate_row(obj: Any) -> dict[str, Any]:
    """Validated task fields of one decoded row; raises pydantic's ValidationError."""
    fields = simple_fields(obj)
    if fields is None:
        fields = TaskFields.model_validate(obj).model_dump(exclude_unset=True)
    return fields


def parse_body(body: bytes) -> Iterator[tuple[int, dict[str, Any] | list[RowProblem]]]:
    """Yield (line, fields) for good rows and (line, problems) for bad ones."""
    stripped = body.lstrip()
    if stripped.startswith(b"["):
        yield from _parse_array(stripped)
        return
    # Lines are read one at a time: a list of millions of lines would cost many times
    # the body's own size.
    for number, line in enumerate(io.BytesIO(body), start=1):
        if not line.strip():
            continue
        raw = line.removesuffix(b"\n")
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            yield number, [RowProblem(number, ROW, f"invalid JSON: {exc}", INVALID_JSON)]
            continue
        try:
            yield number, validate_row(obj)
        except ValidationError as exc:
            yield number, _problems(number, exc)


def _parse_array(body: bytes) -> Iterator[tuple[int, dict[str, Any] | list[RowProblem]]]:
    """A JSON array body: rows are numbered by position, starting at 1."""
    try:
        items = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        yield 1, [RowProblem(1, ROW, f"invalid JSON: {exc}", INVALID_JSON)]
        return
    if not isinstance(items, list):
        yield 1, [RowProblem(1, ROW, "expected a JSON array of task objects", "list_type")]
        return
    for number, item in enumerate(items, start=1):
        try:
            yield number, validate_row(item)
        except ValidationError as exc:
            yield number, _problems(number, exc)
