"""Bulk import: one request is one transaction; bad rows are reported, good rows stored.

Rows are parsed and checked one at a time; only the good ones are kept (they are what
gets stored) and the bad ones are tallied in a report of bounded size, so a body of
millions of bad lines costs no more memory than its own bytes.
"""

from collections.abc import Iterator
from typing import Any

from assay.engine.projects import require_project
from assay.engine.tasks import check_destination, checked_task, insert_tasks, task_row
from assay.errors import Invalid
from assay.exchange.import_report import ImportTally, RowProblem
from assay.exchange.task_rows import parse_body
from assay.ids import new_ids, utc_now
from assay.kinds import TaskChecker
from assay.outbound import STRICT, OutboundPolicy
from assay.store.db import Store

ID_BLOCK = 10_000


def _ids() -> Iterator[str]:
    """Fresh ids, drawn a block at a time (the count of good rows is not known ahead)."""
    while True:
        yield from new_ids(ID_BLOCK)


def import_tasks(
    store: Store,
    project_id: str,
    batch_id: str | None,
    body: bytes,
    outbound: OutboundPolicy = STRICT,
) -> dict[str, Any]:
    """Store every valid row of `body`; duplicates of an existing unique_id are skipped.

    Returns {created, duplicate, rejected, errors (the first problems), error_count,
    errors_by_field, errors_by_code} (see `assay.exchange.import_report`).
    """
    with store.read() as conn:  # fail fast, before parsing, on an unknown project
        kind, params = require_project(conn, project_id)
    now = utc_now()
    tally = ImportTally()
    rows: list[tuple] = []
    ids = _ids()
    checker = TaskChecker(kind, params)
    check_callback_url = outbound.field_checker("callback_url")
    with store.read() as conn:  # for the sizes of uploaded images the tasks refer to
        for line, outcome in parse_body(body):
            if isinstance(outcome, list):
                tally.reject(outcome)
                continue
            try:
                fields = checked_task(conn, outcome, batch_id, checker)
                check_callback_url(fields.get("callback_url"))
                rows.append(task_row(next(ids), project_id, batch_id, fields, now))
            except Invalid as exc:
                tally.reject(RowProblem(line, e.field, e.message, exc.code) for e in exc.errors)
    with store.write() as conn:
        check_destination(conn, project_id, batch_id)
        created = insert_tasks(conn, rows)
    return tally.report(created, len(rows) - created)
