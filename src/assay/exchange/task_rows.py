"""Parse a bulk-import body (NDJSON, or one JSON array) into validated task rows.

Each row is checked on its own, so one bad row is reported by line and field while the
others go through. Blank lines are skipped but still counted, so line numbers match
the client's file.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError

from assay.errors import field_path
from assay.schemas import TaskFields

ROW = "(row)"
"""The field named when a whole row is at fault (bad JSON, not an object)."""


@dataclass
class RowProblem:
    line: int
    field: str
    message: str


def _problems(line: int, exc: ValidationError) -> list[RowProblem]:
    return [
        RowProblem(line, field_path(e["loc"]) or ROW, e["msg"])
        for e in exc.errors(include_url=False, include_context=False)
    ]


def parse_body(body: bytes) -> Iterator[tuple[int, dict[str, Any] | list[RowProblem]]]:
    """Yield (line, fields) for good rows and (line, problems) for bad ones."""
    stripped = body.lstrip()
    if stripped.startswith(b"["):
        yield from _parse_array(stripped)
        return
    for number, raw in enumerate(body.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            yield number, TaskFields.model_validate_json(raw).model_dump(exclude_unset=True)
        except ValidationError as exc:
            yield number, _problems(number, exc)


def _parse_array(body: bytes) -> Iterator[tuple[int, dict[str, Any] | list[RowProblem]]]:
    """A JSON array body: rows are numbered by position, starting at 1."""
    try:
        items = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        yield 1, [RowProblem(1, ROW, f"invalid JSON: {exc}")]
        return
    if not isinstance(items, list):
        yield 1, [RowProblem(1, ROW, "expected a JSON array of task objects")]
        return
    for number, item in enumerate(items, start=1):
        try:
            yield number, TaskFields.model_validate(item).model_dump(exclude_unset=True)
        except ValidationError as exc:
            yield number, _problems(number, exc)
