"""Stream a project's tasks for export in id order, in chunks, from one read snapshot."""

from collections.abc import Iterator

from sqlalchemy import select

from assay.engine.projects import require_project
from assay.engine.tasks import STORED_NAME, status_is
from assay.exchange.task_writers import EXPORT_COLUMNS, JSON_COLUMNS, WRITERS
from assay.store.db import Store
from assay.store.json_rows import json_object
from assay.store.tables import tasks

CHUNK_ROWS = 2_000

_COLUMNS = {name: tasks.c[STORED_NAME.get(name, name)] for name in EXPORT_COLUMNS}


def check_export(store: Store, project_id: str) -> None:
    """Fail before streaming starts, while an error can still be an HTTP status."""
    with store.read() as conn:
        require_project(conn, project_id, None)


def export_tasks(
    store: Store,
    project_id: str,
    fmt: str,
    status: str | None = None,
    batch: str | None = None,
    include_gold: bool = False,
) -> Iterator[bytes]:
    """Yield the encoded export; memory stays flat in the number of tasks. Gold tasks are
    the project's own measuring stick, not results: left out unless asked for."""
    return WRITERS[fmt](_row_chunks(store, project_id, fmt, status, batch, include_gold))


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
