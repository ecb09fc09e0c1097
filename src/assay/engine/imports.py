"""Bulk import: one request is one transaction; bad rows are reported, good rows stored."""

from typing import Any

from assay.engine.projects import require_project
from assay.engine.tasks import check_destination, checked_task, insert_tasks, task_row
from assay.errors import Invalid
from assay.exchange.task_rows import parse_body
from assay.ids import new_ids, utc_now
from assay.kinds import TaskChecker
from assay.store.db import Store


def import_tasks(
    store: Store, project_id: str, batch_id: str | None, body: bytes
) -> dict[str, Any]:
    """Store every valid row of `body`; duplicates of an existing unique_id are skipped.

    Returns {created, duplicate, rejected, errors: [{line, field, message}]}.
    """
    with store.read() as conn:  # fail fast, before parsing, on an unknown project
        kind, params = require_project(conn, project_id)
    now = utc_now()
    errors: list[dict[str, Any]] = []
    rows: list[tuple] = []
    parsed = list(parse_body(body))
    ids = iter(new_ids(len(parsed)))
    rejected = 0
    checker = TaskChecker(kind, params)
    with store.read() as conn:  # for the sizes of uploaded images the tasks refer to
        for line, outcome in parsed:
            if isinstance(outcome, list):
                rejected += 1
                errors.extend(vars(p) for p in outcome)
                continue
            try:
                fields = checked_task(conn, outcome, batch_id, checker)
                rows.append(task_row(next(ids), project_id, batch_id, fields, now))
            except Invalid as exc:
                rejected += 1
                errors.extend(
                    {"line": line, "field": e.field, "message": e.message} for e in exc.errors
                )
    with store.write() as conn:
        check_destination(conn, project_id, batch_id)
        created = insert_tasks(conn, rows)
    return {
        "created": created,
        "duplicate": len(rows) - created,
        "rejected": rejected,
        "errors": errors,
    }
