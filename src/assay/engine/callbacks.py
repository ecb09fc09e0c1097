"""The callback outbox: written with the completion it reports, delivered at least once.

`enqueue_*` run inside the completing transaction. A dispatcher (in `assay serve`, or
`assay worker` processes) claims due rows by pushing their next attempt a lease into the
future, so two dispatchers never send the same row at once, and a dispatcher that dies
mid-delivery leaves rows that come due again after the lease.
"""

import random
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, func, or_, select, update

from assay.ids import iso_plus, new_id, utc_now
from assay.outbound import destination
from assay.store.db import Store
from assay.store.sql import Sql, one, run, run_many
from assay.store.tables import batches, callbacks, projects, tasks

CLAIM_LEASE_SECONDS = 60
RETRY_WINDOW_SECONDS = 24 * 3600
MAX_BACKOFF_SECONDS = 3600


@dataclass(frozen=True)
class Delivery:
    id: str
    url: str
    body: bytes
    secret: str
    task_id: str | None
    destination: str


@dataclass(frozen=True)
class Outcome:
    id: str
    task_id: str | None
    ok: bool
    error: str | None = None


def backoff_seconds(attempts: int, rng: random.Random = random._inst) -> float:
    """Exponential with jitter: about 1 s after the first failure, doubling, capped at 1 h."""
    return min(2 ** (attempts - 1), MAX_BACKOFF_SECONDS) * rng.uniform(0.5, 1.5)


_ENQUEUE = Sql(
    "INSERT INTO callbacks"
    " (id, project_id, task_id, batch_id, url, destination, body, status, attempts,"
    " next_attempt_at, created_at)"
    " VALUES (:id, :project_id, :task_id, :batch_id, :url, :destination, :body, 'pending', 0,"
    " :now, :now)"
)


def _enqueue(conn: Connection, project_id: str, url: str, body: dict, **subject: str) -> None:
    values = {
        "id": new_id(),
        "project_id": project_id,
        "task_id": subject.get("task_id"),
        "batch_id": subject.get("batch_id"),
        "url": url,
        "destination": destination(url),
        "body": orjson.dumps(body).decode(),
        "now": utc_now(),
    }
    run(conn, _ENQUEUE, values)


def _project_url(conn: Connection, project_id: str) -> str | None:
    return conn.execute(
        select(projects.c.callback_url).where(projects.c.id == project_id)
    ).scalar_one()


def enqueue_task(conn: Connection, task: dict[str, Any], url: str | None) -> None:
    """Queue the completion callback of `task` (its API view) to `url`, the first of the
    task's, its batch's and its project's callback URLs that is set (if any is)."""
    if url:
        body = {
            "task_id": task["id"],
            "status": task["status"],
            "response": task["response"],
            "task": task,
        }
        _enqueue(conn, task["project"], url, body, task_id=task["id"])


def enqueue_batch(conn: Connection, batch_id: str) -> None:
    """Queue the completion callback of a batch if it or its project has a URL."""
    batch = conn.execute(select(batches).where(batches.c.id == batch_id)).one()
    url = batch.callback_url or _project_url(conn, batch.project_id)
    if url:
        counts = dict(
            conn.execute(
                select(tasks.c.status, func.count())
                .where(tasks.c.batch_id == batch_id)
                .group_by(tasks.c.status)
            ).all()
        )
        body = {"batch_id": batch_id, "status": batch.status, "counts": counts}
        _enqueue(conn, batch.project_id, url, body, batch_id=batch_id)


def claim_due(store: Store, limit: int, skip: Collection[str] = ()) -> list[Delivery]:
    """Take up to `limit` due callbacks for delivery (leasing them for a minute), leaving
    out those going to the destinations in `skip` (the dispatcher's busy ones)."""
    with store.write() as conn:
        now = utc_now()
        due = (
            select(callbacks.c.id)
            .where(callbacks.c.status == "pending", callbacks.c.next_attempt_at <= now)
            .order_by(callbacks.c.next_attempt_at)
            .limit(limit)
        )
        if skip:
            column = callbacks.c.destination
            due = due.where(or_(column.is_(None), column.not_in(list(skip))))
        if store.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        rows = conn.execute(
            update(callbacks)
            .where(callbacks.c.id.in_(due.scalar_subquery()))
            .values(next_attempt_at=utc_now(CLAIM_LEASE_SECONDS))
            .returning(
                callbacks.c.id,
                callbacks.c.url,
                callbacks.c.destination,
                callbacks.c.body,
                callbacks.c.project_id,
                callbacks.c.task_id,
            )
        ).all()
        if not rows:
            return []
        secrets = dict(
            conn.execute(
                select(projects.c.id, projects.c.callback_secret).where(
                    projects.c.id.in_({r.project_id for r in rows})
                )
            ).all()
        )
    return [
        Delivery(
            r.id,
            r.url,
            r.body.encode(),
            secrets[r.project_id],
            r.task_id,
            r.destination or destination(r.url),
        )
        for r in rows
    ]


_DELIVERED = Sql(
    "UPDATE callbacks SET status = 'delivered', delivered_at = :now,"
    " attempts = attempts + 1, last_error = NULL WHERE id = :id"
)
_CALLED_BACK = Sql("UPDATE tasks SET callback_succeeded_at = :now WHERE id = :task")
_ATTEMPTED = Sql("SELECT attempts, created_at FROM callbacks WHERE id = :id")
_RETRY = Sql(
    "UPDATE callbacks SET attempts = :attempts, last_error = :error,"
    " next_attempt_at = :retry_at, status = :status WHERE id = :id"
)


def record(store: Store, outcomes: list[Outcome]) -> None:
    """Store what became of each delivery: done, retried later, or given up."""
    if not outcomes:
        return
    delivered = [o for o in outcomes if o.ok]
    with store.write() as conn:
        now = utc_now()
        run_many(conn, _DELIVERED, [{"id": o.id, "now": now} for o in delivered])
        run_many(
            conn, _CALLED_BACK, [{"task": o.task_id, "now": now} for o in delivered if o.task_id]
        )
        for outcome in outcomes:
            if outcome.ok:
                continue
            callback = one(conn, _ATTEMPTED, {"id": outcome.id})
            attempts = callback.attempts + 1
            retry_at = utc_now(backoff_seconds(attempts))
            give_up = retry_at > iso_plus(callback.created_at, RETRY_WINDOW_SECONDS)
            values = {
                "id": outcome.id,
                "attempts": attempts,
                "error": (outcome.error or "")[:2000],
                "retry_at": retry_at,
                "status": "failed" if give_up else "pending",
            }
            run(conn, _RETRY, values)
