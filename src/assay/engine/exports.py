"""Stream a project's tasks for export in id order, in chunks, from one read snapshot.

Every project exports as JSONL, CSV or Parquet (the task rows as stored); each kind adds
the formats training tools read (CoNLL, COCO, TRL, ...), written by the kind from the
completed tasks' results.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import orjson
from sqlalchemy import select

from assay.engine.projects import require_project
from assay.engine.tasks import STORED_NAME, status_is
from assay.errors import FieldError, Invalid
from assay.exchange.task_writers import (
    EXPORT_COLUMNS,
    FORMATS,
    JSON_COLUMNS,
    WRITERS,
    unavailable,
)
from assay.kinds import exports, leaderboard, settings_model
from assay.store.db import Store
from assay.store.json_rows import json_object
from assay.store.tables import tasks

CHUNK_ROWS = 2_000

_COLUMNS = {name: tasks.c[STORED_NAME.get(name, name)] for name in EXPORT_COLUMNS}
_RESULT_COLUMNS = ("id", "unique_id", "params", "response", "metadata")


@dataclass(frozen=True)
class ExportPlan:
    """What an export request will write, settled before streaming starts."""

    project_id: str
    kind: str
    params: dict
    format: str
    media_type: str
    suffix: str


def plan_export(store: Store, project_id: str, fmt: str) -> ExportPlan:
    """Fail before streaming starts, while an error can still be an HTTP status: an
    unknown project is a 404, a format the project's kind cannot write a 422."""
    with store.read() as conn:
        kind, params = require_project(conn, project_id, None)
    if fmt in FORMATS:
        if reason := unavailable(fmt):
            raise Invalid([FieldError("format", reason)])
        return ExportPlan(project_id, kind, params, fmt, FORMATS[fmt], fmt)
    kind_formats = exports(kind)
    if fmt not in kind_formats:
        allowed = sorted([*FORMATS, *kind_formats])
        raise Invalid([FieldError("format", f"{kind} projects export as one of {allowed}")])
    found = kind_formats[fmt]
    return ExportPlan(project_id, kind, params, fmt, found.media_type, found.suffix)


def export_tasks(
    store: Store,
    plan: ExportPlan,
    status: str | None = None,
    batch: str | None = None,
    include_gold: bool = False,
) -> Iterator[bytes]:
    """Yield the encoded export; memory stays flat in the number of tasks (for the
    kinds' formats, as far as the format allows). Gold tasks are the project's own
    measuring stick, not results: left out unless asked for. A kind's format holds
    results, so only completed tasks go into it."""
    if plan.format in FORMATS:
        chunks = _row_chunks(store, plan.project_id, plan.format, status, batch, include_gold)
        return WRITERS[plan.format](chunks)
    chunks = _row_chunks(store, plan.project_id, "results", "completed", batch, include_gold)
    write = exports(plan.kind)[plan.format].write
    return write(settings_model(plan.kind, plan.params), _completed_tasks(chunks))


def project_leaderboard(store: Store, project_id: str, batch: str | None = None) -> dict:
    """The models a project's completed tasks compare (e.g. Bradley-Terry scores from
    pairwise preferences), best first."""
    with store.read() as conn:
        kind, _ = require_project(conn, project_id, None)
    chunks = _row_chunks(store, project_id, "results", "completed", batch, False)
    return {"project": project_id, "models": leaderboard(kind, _completed_tasks(chunks))}


def _completed_tasks(chunks: Iterator) -> Iterator[dict]:
    for chunk in chunks:
        for row in chunk:
            task = dict(zip(_RESULT_COLUMNS, row, strict=True))
            for name in ("params", "response", "metadata"):
                if task[name] is not None:
                    task[name] = orjson.loads(task[name])
            yield task


def _row_chunks(
    store: Store,
    project_id: str,
    fmt: str,
    status: str | None,
    batch: str | None,
    include_gold: bool,
) -> Iterator:
    if fmt == "jsonl":
        columns = [json_object(store.dialect, _COLUMNS, JSON_COLUMNS)]
    elif fmt == "results":
        columns = [_COLUMNS[name] for name in _RESULT_COLUMNS]
    else:
        columns = list(_COLUMNS.values())
    query = select(*columns).where(tasks.c.project_id == project_id).order_by(tasks.c.id)
    if status is not None:
        query = query.where(*status_is(status))
    if batch is not None:
        query = query.where(tasks.c.batch_id == batch)
    if not include_gold:
        query = query.where(tasks.c.gold.is_(None))
    with store.read() as conn:
        result = conn.execution_options(stream_results=True, yield_per=CHUNK_ROWS).execute(query)
        yield from result.partitions()
