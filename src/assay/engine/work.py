"""The work loop: lease the next task to a worker, extend or give up the lease, submit.

Every step is one short write transaction. Slots are counted on the task row itself
(answers + leases < overlap), so a task is never leased to more workers than the answers
it still needs; leases past their expiry are swept at the start of each claim, so no
background job is needed for correctness. On PostgreSQL the candidate row is taken with
FOR UPDATE SKIP LOCKED, so several server processes never hand out the same slot.
"""

import random
from typing import Any

import orjson
from sqlalchemy import Connection, and_, bindparam, literal_column, select, update

from assay.engine.batches import close_batch_if_done
from assay.engine.callbacks import enqueue_task
from assay.engine.tasks import public_task, release_slots
from assay.engine.workers import Worker
from assay.errors import Conflict, NotFound
from assay.ids import new_id, utc_now
from assay.kinds import consolidate, matches, validate_response
from assay.store.db import Store, as_dict
from assay.store.tables import (
    annotations,
    assignments,
    batches,
    project_members,
    projects,
    tasks,
)

_rng = random.Random()

# Literal, not bound: the terms must match the partial indexes as they are written.
_PENDING = tasks.c.status == literal_column("'pending'")
_QUEUED = and_(_PENDING, tasks.c.ready == literal_column("1"), tasks.c.gold.is_(None))
_GOLD = and_(tasks.c.gold.is_not(None), _PENDING)


# Statements of the hot path are built once; each call only binds values.
_SWEEP = (
    update(assignments)
    .where(assignments.c.status == "active", assignments.c.expires_at <= bindparam("now"))
    .values(status="expired", ended_at=bindparam("now"))
    .returning(assignments.c.task_id)
)
_MEMBER = (
    select(project_members.c.worker_id)
    .where(
        project_members.c.project_id == projects.c.id,
        project_members.c.worker_id == bindparam("worker_id"),
    )
    .exists()
)
_OPEN_PROJECTS = select(projects).where((projects.c.members_only == 0) | _MEMBER)
_OPEN_PROJECT = _OPEN_PROJECTS.where(projects.c.id == bindparam("project_id"))
_OFFERED = (
    select(assignments.c.id)
    .where(assignments.c.task_id == tasks.c.id, assignments.c.worker_id == bindparam("worker_id"))
    .exists()
)
_CANDIDATE = (
    select(tasks.c.id, tasks.c.params, tasks.c.priority)
    .where(
        tasks.c.project_id == bindparam("project_id"),
        _QUEUED,
        tasks.c.answers + tasks.c.leases < bindparam("overlap"),
        ~_OFFERED,
    )
    .order_by(tasks.c.priority.desc(), tasks.c.id)
    .limit(1)
)
# PostgreSQL: a slot being claimed elsewhere is passed over, never waited for or doubled.
_CANDIDATE_LOCKED = _CANDIDATE.with_for_update(skip_locked=True)
# Gold has no slots to guard, so it is not locked: every worker may answer it.
_GOLD_CANDIDATE = (
    select(tasks.c.id, tasks.c.params, tasks.c.priority)
    .where(tasks.c.project_id == bindparam("project_id"), _GOLD, ~_OFFERED)
    .order_by(tasks.c.id)
    .limit(1)
)
_TAKE_SLOT = (
    update(tasks)
    .where(tasks.c.id == bindparam("task"), tasks.c.gold.is_(None))
    .values(leases=tasks.c.leases + 1)
)


def sweep_expired(conn: Connection, now: str) -> None:
    """Turn leases past their expiry into 'expired' and give their slots back."""
    release_slots(conn, conn.execute(_SWEEP, {"now": now}).scalars().all())


def _open_projects(conn: Connection, worker: Worker, project_id: str | None) -> list[dict]:
    """The projects this worker may take work from (one, when asked for one)."""
    if project_id is None:
        found = conn.execute(_OPEN_PROJECTS, {"worker_id": worker.id})
    else:
        found = conn.execute(_OPEN_PROJECT, {"worker_id": worker.id, "project_id": project_id})
    rows = [dict(r._mapping) for r in found]
    return [r for r in rows if set(orjson.loads(r["required_skills"])) <= worker.skills]


def _gold_candidate(conn: Connection, project: dict, worker: Worker):
    """A gold task of the project this worker has not seen."""
    values = {"project_id": project["id"], "worker_id": worker.id}
    return conn.execute(_GOLD_CANDIDATE, values).first()


def _candidate(conn: Connection, project: dict, worker: Worker, dialect: str):
    statement = _CANDIDATE_LOCKED if dialect == "postgresql" else _CANDIDATE
    values = {"project_id": project["id"], "worker_id": worker.id, "overlap": project["overlap"]}
    return conn.execute(statement, values).first()


def _worker_view(assignment: dict, task_params: str, project: dict) -> dict[str, Any]:
    """What the worker sees of an assignment: the same shape for every task."""
    return {
        "id": assignment["id"],
        "task": {"id": assignment["task_id"], "params": orjson.loads(task_params)},
        "project": {
            "id": project["id"],
            "kind": project["kind"],
            "params": orjson.loads(project["params"]),
            "instructions": project["instructions"],
        },
        "expires_at": assignment["expires_at"],
    }


def next_assignment(
    store: Store, worker: Worker, project_id: str | None, rng: random.Random = _rng
) -> dict | None:
    """Lease the next task to the worker: highest priority, then oldest. None if none.

    While there is real work, a share `gold_rate` of the offers is a gold task the worker
    has not seen, in exactly the same shape as any other.
    """
    with store.write() as conn:
        now = utc_now()
        sweep_expired(conn, now)
        found = [
            (task, project)
            for project in _open_projects(conn, worker, project_id)
            if (task := _candidate(conn, project, worker, store.dialect)) is not None
        ]
        if not found:
            return None
        task, project = min(found, key=lambda pair: (-pair[0].priority, pair[0].id))
        if rng.random() < project["gold_rate"]:
            task = _gold_candidate(conn, project, worker) or task
        assignment = {
            "id": new_id(),
            "task_id": task.id,
            "project_id": project["id"],
            "worker_id": worker.id,
            "status": "active",
            "leased_at": now,
            "expires_at": utc_now(project["lease_seconds"]),
            "ended_at": None,
        }
        conn.execute(assignments.insert(), assignment)
        conn.execute(_TAKE_SLOT, {"task": task.id})
        return _worker_view(assignment, task.params, project)


_OWN_ASSIGNMENT = select(assignments).where(
    assignments.c.id == bindparam("assignment"), assignments.c.worker_id == bindparam("worker")
)
_OWN_ASSIGNMENT_LOCKED = _OWN_ASSIGNMENT.with_for_update()
_PROJECT_OF = select(projects.c.kind, projects.c.params, projects.c.overlap).where(
    projects.c.id == bindparam("project")
)
_STORED_ANSWER = select(annotations).where(
    annotations.c.task_id == bindparam("task"), annotations.c.worker_id == bindparam("worker")
)
_TASK = select(tasks).where(tasks.c.id == bindparam("task"))
_TASK_LOCKED = _TASK.with_for_update()
_END_ASSIGNMENT = (
    update(assignments)
    .where(assignments.c.id == bindparam("assignment"))
    .values(status=bindparam("new_status"), ended_at=bindparam("now"))
)
_COUNT_ANSWER = (
    update(tasks)
    .where(tasks.c.id == bindparam("task"))
    .values(answers=bindparam("new_answers"), leases=bindparam("new_leases"))
)


def _own_assignment(conn: Connection, worker: Worker, assignment_id: str, lock: bool):
    statement = _OWN_ASSIGNMENT_LOCKED if lock else _OWN_ASSIGNMENT
    row = conn.execute(statement, {"assignment": assignment_id, "worker": worker.id}).first()
    if row is None:  # another worker's assignment is as unknown as a missing one
        raise NotFound("assignment", assignment_id)
    return row


def heartbeat(store: Store, worker: Worker, assignment_id: str) -> dict[str, Any]:
    """Extend a live lease by the project's lease length."""
    with store.write() as conn:
        now = utc_now()
        row = _own_assignment(conn, worker, assignment_id, store.dialect == "postgresql")
        if row.status != "active" or row.expires_at <= now:
            raise Conflict("lease_not_active", f"the assignment is {_state(row, now)}")
        lease = conn.execute(
            select(projects.c.lease_seconds).where(projects.c.id == row.project_id)
        ).scalar_one()
        expires_at = utc_now(lease)
        conn.execute(
            update(assignments)
            .where(assignments.c.id == assignment_id)
            .values(expires_at=expires_at)
        )
    return {"id": assignment_id, "status": "active", "expires_at": expires_at}


def _state(row, now: str) -> str:
    return "expired" if row.status == "active" and row.expires_at <= now else row.status


def skip(store: Store, worker: Worker, assignment_id: str) -> dict[str, Any]:
    """Give the task back to the pool; this worker will never be offered it again."""
    with store.write() as conn:
        now = utc_now()
        row = _own_assignment(conn, worker, assignment_id, store.dialect == "postgresql")
        if row.status == "skipped":
            return {"id": assignment_id, "status": "skipped"}
        if row.status != "active":
            raise Conflict("lease_not_active", f"the assignment is {row.status}")
        values = {"assignment": assignment_id, "new_status": "skipped", "now": now}
        conn.execute(_END_ASSIGNMENT, values)
        release_slots(conn, [row.task_id])
    return {"id": assignment_id, "status": "skipped"}


def _annotation_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "assignment": row["assignment_id"],
        "task": row["task_id"],
        "response": orjson.loads(row["response"]),
        "duration_ms": row["duration_ms"],
        "created_at": row["created_at"],
    }


def submit(
    store: Store, worker: Worker, assignment_id: str, response: Any, duration_ms: int | None
) -> dict[str, Any]:
    """Accept the worker's answer. Repeating the same answer returns the stored one; a
    different one is a 409. A late answer (lease expired) is still taken while the task
    needs answers that no one else holds a lease for."""
    lock = store.dialect == "postgresql"
    with store.write() as conn:
        now = utc_now()
        row = _own_assignment(conn, worker, assignment_id, lock)
        project = conn.execute(_PROJECT_OF, {"project": row.project_id}).one()
        answer = validate_response(project.kind, orjson.loads(project.params), response)
        stored = conn.execute(_STORED_ANSWER, {"task": row.task_id, "worker": worker.id}).first()
        if stored is not None:
            if orjson.loads(stored.response) == answer:
                return _annotation_view(as_dict(stored))
            raise Conflict("already_answered", "this task was already answered differently")
        task = conn.execute(_TASK_LOCKED if lock else _TASK, {"task": row.task_id}).one()
        gold = None if task.gold is None else orjson.loads(task.gold)
        holds_slot = row.status == "active"
        free = project.overlap - task.answers - task.leases + (1 if holds_slot else 0)
        if row.status == "skipped" or task.status != "pending" or (gold is None and free <= 0):
            raise Conflict(
                "task_not_open",
                "the lease ended and the task no longer needs this answer",
            )
        annotation = {
            "id": new_id(),
            "task_id": row.task_id,
            "worker_id": worker.id,
            "assignment_id": assignment_id,
            "response": orjson.dumps(answer).decode(),
            "duration_ms": duration_ms,
            "created_at": now,
            # Gold is scored on arrival; it never completes, so it never calls back.
            "correct": None
            if gold is None
            else int(matches(project.kind, orjson.loads(project.params), answer, gold)),
        }
        conn.execute(annotations.insert(), annotation)
        values = {"assignment": assignment_id, "new_status": "submitted", "now": now}
        conn.execute(_END_ASSIGNMENT, values)
        if gold is not None:
            return _annotation_view(annotation)
        answers = task.answers + 1
        leases = task.leases - (1 if holds_slot else 0)
        conn.execute(
            _COUNT_ANSWER, {"task": row.task_id, "new_answers": answers, "new_leases": leases}
        )
        if answers >= project.overlap:
            _complete(conn, task, project, now)
    return _annotation_view(annotation)


def _complete(conn: Connection, task, project, now: str) -> None:
    """Consolidate the task's answers into its result, and close its batch if it was last."""
    answers = [
        orjson.loads(r)
        for r in conn.execute(
            select(annotations.c.response)
            .where(annotations.c.task_id == task.id)
            .order_by(annotations.c.id)
        ).scalars()
    ]
    result = consolidate(project.kind, orjson.loads(project.params), answers)
    result["annotations"] = len(answers)
    conn.execute(
        update(tasks)
        .where(tasks.c.id == task.id)
        .values(status="completed", response=orjson.dumps(result).decode(), completed_at=now)
    )
    completed = public_task(conn.execute(select(tasks).where(tasks.c.id == task.id)).one())
    batch_url = None
    if task.batch_id is not None:
        batch_url = conn.execute(
            select(batches.c.callback_url).where(batches.c.id == task.batch_id)
        ).scalar_one()
    enqueue_task(conn, completed, batch_url)
    close_batch_if_done(conn, task.batch_id, now)
