"""Tasks: create (idempotent on unique_id), read, list, cancel."""

from typing import Any

import orjson
from sqlalchemy import Connection, select, update

from assay.engine.batches import close_batch_if_done, open_batch_for_tasks
from assay.engine.media import with_media_size
from assay.engine.pagination import fetch_page
from assay.engine.projects import require_project
from assay.errors import Conflict, FieldError, Invalid, NotFound
from assay.exchange.task_writers import EXPORT_COLUMNS, JSON_COLUMNS
from assay.ids import new_id, utc_now
from assay.kinds import TaskChecker
from assay.outbound import STRICT, OutboundPolicy
from assay.store.db import Store, as_dict
from assay.store.sql import Sql, run_many
from assay.store.tables import tasks

STORED_NAME = {"project": "project_id", "batch": "batch_id"}


def status_is(status: str) -> list:
    """WHERE terms for one status. For any status but pending they repeat the predicate of
    the partial index ix_tasks_project_status, so both databases see that it applies."""
    terms = [tasks.c.status == status]
    if status != "pending":
        terms.append(tasks.c.status != "pending")
    return terms


INSERT_COLUMNS = (
    "id",
    "project_id",
    "batch_id",
    "status",
    "params",
    "unique_id",
    "metadata",
    "callback_url",
    "priority",
    "created_at",
    "ready",
    "gold",
    "hypothesis",
)
"""What a new task binds; the rest start NULL. Binding fewer values is measurably faster."""


def insert_tasks(conn: Connection, rows: list[tuple]) -> int:
    """Insert task rows (tuples in INSERT_COLUMNS order) in one executemany, skipping any
    whose (project, unique_id) exists already. Returns how many were really inserted."""
    if not rows:
        return 0
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"INSERT INTO tasks ({', '.join(INSERT_COLUMNS)}) "
        f"VALUES ({', '.join([mark] * len(INSERT_COLUMNS))}) ON CONFLICT DO NOTHING"
    )
    # preserve_rowcount: the count of rows really inserted is how duplicates are told apart.
    return conn.execution_options(preserve_rowcount=True).exec_driver_sql(sql, rows).rowcount


def _encode(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError as exc:  # e.g. an integer beyond 64 bits
        raise Invalid([FieldError(name, f"cannot be stored as JSON: {exc}")]) from None


def task_row(
    task_id: str, project_id: str, batch_id: str | None, fields: dict[str, Any], now: str
) -> tuple:
    """The INSERT_COLUMNS values of a validated task; Invalid if its JSON cannot be encoded."""
    return (
        task_id,
        project_id,
        batch_id,
        "pending",
        _encode(fields, "params"),
        fields.get("unique_id"),
        _encode(fields, "metadata"),
        fields.get("callback_url"),
        fields.get("priority") or 0,
        now,
        int(batch_id is None),  # a staging batch's tasks wait for its finalize
        _encode(fields, "gold"),
        _encode(fields, "hypothesis"),
    )


def public_task(row) -> dict[str, Any]:
    """A stored task as the API shows it: keys in EXPORT_COLUMNS order, JSON decoded."""
    stored = as_dict(row)
    out = {name: stored[STORED_NAME.get(name, name)] for name in EXPORT_COLUMNS}
    for column in JSON_COLUMNS:
        if out[column] is not None:
            out[column] = orjson.loads(out[column])
    return out


_STORED_COLUMNS = tuple(STORED_NAME.get(name, name) for name in EXPORT_COLUMNS)
COMPLETE_TASK = Sql(
    "UPDATE tasks SET status = 'completed', response = :response, completed_at = :now"
    f" WHERE id = :task RETURNING {', '.join(_STORED_COLUMNS)}"
)
"""Complete a task with its result; returns the row for `returned_task`."""


def returned_task(row: tuple) -> dict[str, Any]:
    """The API view of a row RETURNING the stored columns of EXPORT_COLUMNS."""
    return public_task(dict(zip(_STORED_COLUMNS, row, strict=True)))


def check_destination(
    conn: Connection, project_id: str, batch_id: str | None
) -> tuple[str, dict[str, Any]]:
    """Check that tasks may go to this project (and batch); return its kind and params."""
    settings = require_project(conn, project_id)
    if batch_id is not None:
        open_batch_for_tasks(conn, batch_id, project_id)
    return settings


def checked_task(
    conn: Connection, fields: dict[str, Any], batch_id: str | None, checker: TaskChecker
) -> dict[str, Any]:
    """The task's fields with its params (sizes of uploaded images filled in), gold answer
    and hypothesis validated against the project's kind."""
    checked = fields | {"params": checker.task(with_media_size(conn, fields["params"]))}
    for answer in ("gold", "hypothesis"):
        if fields.get(answer) is not None:
            checked[answer] = checker.answer(checked["params"], fields[answer], answer)
    if checked.get("gold") is not None and batch_id is not None:
        raise Invalid([FieldError("gold", "gold tasks are not part of batches")])
    return checked


# A slot given back makes the task open again, whatever it was.
_RELEASE_SLOT = Sql(
    "UPDATE tasks SET leases = leases - 1, filled = 0 WHERE id = :task AND gold IS NULL"
)


def release_slots(conn: Connection, task_ids: list[str]) -> None:
    """Give back the slots of leases that ended without an answer (gold tasks have none).
    Tasks are taken in id order, as every transaction that locks several does."""
    run_many(conn, _RELEASE_SLOT, [{"task": task_id} for task_id in sorted(task_ids)])


def existing_task_id(conn: Connection, project_id: str, unique_id: str) -> str | None:
    return conn.execute(
        select(tasks.c.id).where(tasks.c.project_id == project_id, tasks.c.unique_id == unique_id)
    ).scalar()


def create_task(
    store: Store, spec: dict[str, Any], outbound: OutboundPolicy = STRICT
) -> dict[str, Any]:
    """Create one task. A unique_id already used in the project raises a 409 naming the task."""
    outbound.check_field("callback_url", spec.get("callback_url"))
    with store.write() as conn:
        kind, params = check_destination(conn, spec["project"], spec.get("batch"))
        spec = checked_task(conn, spec, spec.get("batch"), TaskChecker(kind, params))
        row = task_row(new_id(), spec["project"], spec.get("batch"), spec, utc_now())
        if insert_tasks(conn, [row]) == 0:
            existing = existing_task_id(conn, spec["project"], spec["unique_id"])
            raise Conflict(
                "duplicate_unique_id",
                f"the project already has a task with unique_id {spec['unique_id']!r}",
                task_id=existing,
            )
    new = dict.fromkeys(map(str, tasks.c.keys())) | dict(zip(INSERT_COLUMNS, row, strict=True))
    return public_task(new)


def get_task(store: Store, task_id: str) -> dict[str, Any]:
    with store.read() as conn:
        row = conn.execute(select(tasks).where(tasks.c.id == task_id)).first()
    if row is None:
        raise NotFound("task", task_id)
    return public_task(row)


def list_tasks(
    store: Store,
    *,
    project: str | None = None,
    batch: str | None = None,
    status: str | None = None,
    unique_id: str | None = None,
    limit: int = 100,
    next_token: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    query = select(tasks)
    for column, value in (
        (tasks.c.project_id, project),
        (tasks.c.batch_id, batch),
        (tasks.c.unique_id, unique_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if status is not None:
        query = query.where(*status_is(status))
    return fetch_page(store, query, tasks.c.id, limit, next_token, public_task)


def cancel_task(store: Store, task_id: str) -> dict[str, Any]:
    """pending -> canceled. Canceling a canceled task is a no-op; other states are a 409."""
    with store.write() as conn:
        conn.execute(
            update(tasks)
            .where(tasks.c.id == task_id, tasks.c.status == "pending")
            .values(status="canceled", canceled_at=utc_now())
        )
        row = conn.execute(select(tasks).where(tasks.c.id == task_id)).first()
        if row is None:
            raise NotFound("task", task_id)
        close_batch_if_done(conn, row.batch_id, utc_now())
        if row.status != "canceled":
            raise Conflict(
                "task_not_pending", f"task {task_id!r} is {row.status}; only pending tasks cancel"
            )
    return public_task(row)
