"""Batches: deliveries of tasks. Tasks of a staging batch are not yet served to workers."""

from typing import Any

from sqlalchemy import Connection, func, select, update
from sqlalchemy.exc import IntegrityError

from assay.engine.callbacks import enqueue_batch
from assay.engine.pagination import fetch_page
from assay.engine.projects import require_project
from assay.enums import TASK_STATUSES
from assay.errors import Conflict, FieldError, Invalid, NotFound
from assay.ids import new_id, utc_now
from assay.outbound import STRICT, OutboundPolicy
from assay.store.db import Store, as_dict
from assay.store.sql import Sql, one
from assay.store.tables import batches, tasks


def _public(mapping) -> dict[str, Any]:
    out = as_dict(mapping)
    out["project"] = out.pop("project_id")
    return out


def open_batch_for_tasks(conn: Connection, batch_id: str, project_id: str) -> None:
    """Check that tasks of `project_id` may be added to the batch: same project, staging."""
    row = conn.execute(
        select(batches.c.project_id, batches.c.status).where(batches.c.id == batch_id)
    ).first()
    if row is None:
        raise NotFound("batch", batch_id, "batch")
    if row.project_id != project_id:
        raise Invalid([FieldError("batch", "the batch belongs to another project")])
    if row.status != "staging":
        raise Conflict(
            "batch_not_staging",
            f"batch {batch_id!r} is {row.status}; tasks can only be added while it is staging",
        )


def create_batch(
    store: Store, spec: dict[str, Any], outbound: OutboundPolicy = STRICT
) -> dict[str, Any]:
    """Create a batch; a repeated name in the same project is a 409 carrying its id."""
    outbound.check_field("callback_url", spec.get("callback_url"))
    row = {
        "id": new_id(),
        "project_id": spec["project"],
        "name": spec["name"],
        "status": "staging",
        "callback_url": spec.get("callback_url"),
        "created_at": utc_now(),
        "finalized_at": None,
        "completed_at": None,
    }
    try:
        with store.write() as conn:
            require_project(conn, spec["project"])
            conn.execute(batches.insert(), row)
    except IntegrityError:
        with store.read() as conn:
            existing = conn.execute(
                select(batches.c.id).where(
                    batches.c.project_id == spec["project"], batches.c.name == spec["name"]
                )
            ).scalar_one()
        raise Conflict(
            "duplicate_batch_name",
            f"the project already has a batch named {spec['name']!r}",
            batch_id=existing,
        ) from None
    return _public(row)


def _get(conn: Connection, batch_id: str) -> dict[str, Any]:
    row = conn.execute(select(batches).where(batches.c.id == batch_id)).first()
    if row is None:
        raise NotFound("batch", batch_id)
    return _public(row)


def get_batch(store: Store, batch_id: str) -> dict[str, Any]:
    with store.read() as conn:
        return _get(conn, batch_id)


def list_batches(
    store: Store, project_id: str | None, limit: int, next_token: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    query = select(batches)
    if project_id is not None:
        query = query.where(batches.c.project_id == project_id)
    return fetch_page(store, query, batches.c.id, limit, next_token, _public)


def finalize_batch(store: Store, batch_id: str) -> dict[str, Any]:
    """staging -> in_progress: its tasks are served from now on (a batch with nothing left
    to do completes at once). Finalizing an already finalized batch returns it unchanged."""
    with store.write() as conn:
        now = utc_now()
        finalized = conn.execute(
            update(batches)
            .where(batches.c.id == batch_id, batches.c.status == "staging")
            .values(status="in_progress", finalized_at=now)
        ).rowcount
        if finalized:
            conn.execute(
                update(tasks)
                .where(tasks.c.batch_id == batch_id, tasks.c.ready == 0)
                .values(ready=1)
            )
            close_batch_if_done(conn, batch_id, now)
        return _get(conn, batch_id)


def batch_status(store: Store, batch_id: str) -> dict[str, Any]:
    with store.read() as conn:
        batch = _get(conn, batch_id)
        counts = dict.fromkeys(TASK_STATUSES, 0)
        for row in conn.execute(
            select(tasks.c.status, func.count().label("n"))
            .where(tasks.c.batch_id == batch_id)
            .group_by(tasks.c.status)
        ):
            counts[row.status] = row.n
    return {
        "id": batch_id,
        "status": batch["status"],
        "total": sum(counts.values()),
        "counts": counts,
    }


_OPEN_IN_BATCH = Sql(
    "SELECT 1 FROM tasks WHERE batch_id = :batch AND status IN ('pending', 'in_review') LIMIT 1"
)


def close_batch_if_done(conn: Connection, batch_id: str | None, now: str) -> None:
    """A finalized batch with no pending task left becomes completed (and says so)."""
    if batch_id is None:
        return
    if one(conn, _OPEN_IN_BATCH, {"batch": batch_id}) is None:
        completed = conn.execute(
            update(batches)
            .where(batches.c.id == batch_id, batches.c.status == "in_progress")
            .values(status="completed", completed_at=now)
        ).rowcount
        if completed:
            enqueue_batch(conn, batch_id)
