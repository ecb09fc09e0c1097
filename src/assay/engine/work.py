"""The work loop: lease the next task to a worker, extend or give up the lease, submit.

Every step is one short write transaction. Slots are counted on the task row itself
(answers + leases < overlap), so a task is never leased to more workers than the answers
it still needs; leases past their expiry are swept at the start of each claim, so no
background job is needed for correctness. On PostgreSQL the candidate row is taken with
FOR UPDATE SKIP LOCKED, so several server processes never hand out the same slot.

This is the hottest code of the server, so its statements are hand-written SQL run on
the driver's cursor (see `assay.store.sql`), a few per step.
"""

import random
from collections.abc import Collection
from typing import Any

import orjson
from sqlalchemy import Connection, text

from assay.engine.batches import close_batch_if_done
from assay.engine.callbacks import enqueue_task
from assay.engine.consolidation import task_result
from assay.engine.tasks import COMPLETE_TASK, release_slots, returned_task
from assay.engine.workers import Worker
from assay.errors import Conflict, NotFound
from assay.ids import new_id, utc_now
from assay.kinds import matches, validate_response
from assay.store.db import Store
from assay.store.sql import Sql, all_rows, claim_statements, one, run

_rng = random.Random()

_SWEEP_EXPIRED = (
    "UPDATE assignments SET status = 'expired', ended_at = :now WHERE id IN"
    " (SELECT id FROM assignments WHERE status = 'active' AND expires_at <= :now{lock})"
    " RETURNING task_id"
)
_SWEEPS = {
    "sqlite": Sql(_SWEEP_EXPIRED.format(lock="")),
    # A lease another transaction holds (a submit, another sweep) is left to it: sweeps
    # never wait, so they cannot deadlock with each other or with submits.
    "postgresql": Sql(_SWEEP_EXPIRED.format(lock=" ORDER BY id FOR UPDATE SKIP LOCKED")),
}
_PROJECT_COLUMNS = (
    "id",
    "kind",
    "params",
    "instructions",
    "overlap",
    "lease_seconds",
    "gold_rate",
    "required_skills",
    "max_leases_per_worker",
)
_OPEN_PROJECTS = (
    f"SELECT {', '.join(_PROJECT_COLUMNS)} FROM projects p"
    " WHERE (p.members_only = 0 OR EXISTS (SELECT 1 FROM project_members m"
    " WHERE m.project_id = p.id AND m.worker_id = :worker_id))"
    " AND NOT EXISTS (SELECT 1 FROM worker_removals r WHERE r.project_id = p.id"
    " AND r.worker_id = :worker_id AND r.restored_at IS NULL)"
)
_ANY_PROJECT = Sql(_OPEN_PROJECTS)
_ONE_PROJECT = Sql(_OPEN_PROJECTS + " AND p.id = :project_id")
# A worker is offered a task at most once, whatever became of the offer.
NOT_OFFERED = (
    " AND NOT EXISTS (SELECT 1 FROM assignments a"
    " WHERE a.task_id = t.id AND a.worker_id = :worker_id)"
)
# The terms repeat the partial index ix_tasks_queue as it is written, so it is used.
_CANDIDATE = (
    "SELECT t.id, t.params, t.hypothesis, t.priority FROM tasks t"
    " WHERE t.project_id = :project_id AND t.status = 'pending' AND t.ready = 1"
    " AND t.gold IS NULL AND t.filled = 0 AND t.answers + t.leases < COALESCE(t.target, :overlap)"
    + NOT_OFFERED
    + " ORDER BY t.priority DESC, t.boost DESC, t.id LIMIT 1"
)
_CANDIDATES = claim_statements(_CANDIDATE)
# Gold has no slots to guard, so it is not locked: every worker may answer it.
_GOLD_CANDIDATE = Sql(
    "SELECT t.id, t.params, t.hypothesis, t.priority FROM tasks t"
    " WHERE t.project_id = :project_id AND t.gold IS NOT NULL AND t.status = 'pending'"
    + NOT_OFFERED
    + " ORDER BY t.id LIMIT 1"
)
_LEASE = Sql(
    "INSERT INTO assignments"
    " (id, task_id, project_id, worker_id, status, leased_at, expires_at, stage)"
    " VALUES (:id, :task_id, :project_id, :worker_id, 'active', :leased_at, :expires_at, :stage)"
)
_TAKE_SLOT = Sql(
    "UPDATE tasks SET leases = leases + 1,"
    " filled = CASE WHEN answers + leases + 1 >= COALESCE(target, :overlap) THEN 1 ELSE 0 END"
    " WHERE id = :task AND gold IS NULL"
)


def sweep_expired(conn: Connection, now: str) -> None:
    """Turn leases past their expiry into 'expired' and give their slots back."""
    expired = all_rows(conn, _SWEEPS[conn.dialect.name], {"now": now})
    release_slots(conn, [row.task_id for row in expired])


def _open_projects(conn: Connection, worker: Worker, project_id: str | None) -> list[dict]:
    """The projects this worker may take work from (one, when asked for one)."""
    if project_id is None:
        found = all_rows(conn, _ANY_PROJECT, {"worker_id": worker.id})
    else:
        found = all_rows(conn, _ONE_PROJECT, {"worker_id": worker.id, "project_id": project_id})
    rows = [row._asdict() for row in found]
    return [r for r in rows if set(orjson.loads(r["required_skills"])) <= worker.skills]


def worker_view(
    assignment: dict, task_params: str, hypothesis: str | None, project: dict
) -> dict[str, Any]:
    """What the worker sees of an assignment: the same shape for every task."""
    task = {"id": assignment["task_id"], "params": orjson.loads(task_params)}
    if hypothesis is not None:
        task["hypothesis"] = orjson.loads(hypothesis)
    return {
        "id": assignment["id"],
        "task": task,
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
    has not seen, in exactly the same shape as any other. A worker who holds a project's
    `max_leases_per_worker` leases gets no new task there: when nothing else is open to
    them, the answer is their oldest lease there, again.
    """
    with store.write() as conn:
        now = utc_now()
        if store.dialect == "postgresql":  # one claim at a time per worker, so the cap holds
            run(conn, _LOCK_WORKER, {"worker": worker.id})
        sweep_expired(conn, now)
        at_cap = conn.execute(_AT_CAP, {"worker": worker.id, "now": now})
        full = {row.project_id for row in at_cap}
        best = best_candidate(conn, worker, project_id, _CANDIDATES[store.dialect], full)
        if best is None:
            if project_id is not None:
                full &= {project_id}
            held = _leases_held(conn, worker, "label", now)
            return next((view for view, project in held if project["id"] in full), None)
        task, project, values = best
        if rng.random() < project["gold_rate"]:
            task = one(conn, _GOLD_CANDIDATE, values) or task
        assignment = lease(conn, worker, task.id, project, now, "label")
        run(conn, _TAKE_SLOT, {"task": task.id, "overlap": project["overlap"]})
        return worker_view(assignment, task.params, task.hypothesis, project)


_OPEN_LEASES = Sql(
    "SELECT a.id AS assignment_id, a.task_id, a.expires_at, t.params AS task_params,"
    " t.hypothesis, "
    + ", ".join(f"p.{column}" for column in _PROJECT_COLUMNS)
    + " FROM assignments a JOIN tasks t ON t.id = a.task_id JOIN projects p ON p.id = a.project_id"
    " WHERE a.worker_id = :worker AND a.status = 'active' AND a.stage = :stage"
    " AND a.expires_at > :now ORDER BY a.leased_at, a.id"
)


_LOCK_WORKER = Sql("SELECT id FROM workers WHERE id = :worker FOR UPDATE")
# The projects where the worker holds as many leases as they may.
_AT_CAP = text(
    "SELECT a.project_id FROM assignments a JOIN projects p ON p.id = a.project_id"
    " WHERE a.worker_id = :worker AND a.status = 'active' AND a.stage = 'label'"
    " AND a.expires_at > :now GROUP BY a.project_id, p.max_leases_per_worker"
    " HAVING COUNT(*) >= p.max_leases_per_worker"
)


def _leases_held(
    conn: Connection, worker: Worker, stage: str, now: str
) -> list[tuple[dict[str, Any], dict]]:
    """(view, project) of each lease the worker holds at this stage, oldest first."""
    rows = all_rows(conn, _OPEN_LEASES, {"worker": worker.id, "stage": stage, "now": now})
    held = []
    for row in rows:
        assignment = {"id": row.assignment_id, "task_id": row.task_id, "expires_at": row.expires_at}
        project = {column: getattr(row, column) for column in _PROJECT_COLUMNS}
        held.append((worker_view(assignment, row.task_params, row.hypothesis, project), project))
    return held


def open_leases(store: Store, worker: Worker, stage: str = "label") -> list[dict[str, Any]]:
    """The worker's leases still running at this stage, oldest first, as `next_assignment`
    showed them: a page reloaded in the middle of a task picks it up again."""
    with store.read() as conn:
        return [view for view, _ in _leases_held(conn, worker, stage, utc_now())]


def best_candidate(
    conn: Connection,
    worker: Worker,
    project_id: str | None,
    statement: Sql,
    skip: Collection[str] = (),
) -> tuple[tuple, dict, dict] | None:
    """Of the tasks `statement` picks in each project open to the worker (its rows end with
    the task's priority), the highest priority, then the oldest: (row, project, values).
    Projects in `skip` are left out."""
    found = []
    for project in _open_projects(conn, worker, project_id):
        if project["id"] in skip:
            continue
        values = {"project_id": project["id"], "worker_id": worker.id}
        task = one(conn, statement, values | {"overlap": project["overlap"]})
        if task is not None:
            found.append((task, project, values))
    return min(found, key=lambda f: (-f[0].priority, f[0].id)) if found else None


def lease(
    conn: Connection, worker: Worker, task_id: str, project: dict, now: str, stage: str
) -> dict[str, Any]:
    """Record the worker's lease on the task for the project's lease length."""
    assignment = {
        "id": new_id(),
        "task_id": task_id,
        "project_id": project["id"],
        "worker_id": worker.id,
        "leased_at": now,
        "expires_at": utc_now(project["lease_seconds"]),
        "stage": stage,
    }
    run(conn, _LEASE, assignment)
    return assignment


_OWN_ASSIGNMENT = (
    "SELECT a.task_id, a.status, a.expires_at, p.lease_seconds FROM assignments a"
    " JOIN projects p ON p.id = a.project_id"
    " WHERE a.id = :assignment AND a.worker_id = :worker"
)
_OWN_ASSIGNMENTS = {
    "sqlite": Sql(_OWN_ASSIGNMENT),
    "postgresql": Sql(_OWN_ASSIGNMENT + " FOR UPDATE OF a"),
}
_EXTEND = Sql("UPDATE assignments SET expires_at = :expires_at WHERE id = :assignment")
_END_ASSIGNMENT = Sql(
    "UPDATE assignments SET status = :status, ended_at = :now WHERE id = :assignment"
)


def _own_assignment(conn: Connection, worker: Worker, assignment_id: str) -> tuple:
    """(task_id, status, expires_at, lease_seconds) of the worker's own assignment."""
    values = {"assignment": assignment_id, "worker": worker.id}
    row = one(conn, _OWN_ASSIGNMENTS[conn.dialect.name], values)
    if row is None:  # another worker's assignment is as unknown as a missing one
        raise NotFound("assignment", assignment_id)
    return row


def heartbeat(store: Store, worker: Worker, assignment_id: str) -> dict[str, Any]:
    """Extend a live lease by the project's lease length."""
    with store.write() as conn:
        now = utc_now()
        _, status, expires_at, lease_seconds = _own_assignment(conn, worker, assignment_id)
        if status != "active" or expires_at <= now:
            state = "expired" if status == "active" else status
            raise Conflict("lease_not_active", f"the assignment is {state}")
        expires_at = utc_now(lease_seconds)
        run(conn, _EXTEND, {"expires_at": expires_at, "assignment": assignment_id})
    return {"id": assignment_id, "status": "active", "expires_at": expires_at}


def skip(store: Store, worker: Worker, assignment_id: str) -> dict[str, Any]:
    """Give the task back to the pool; this worker will never be offered it again."""
    with store.write() as conn:
        task_id, status, _, _ = _own_assignment(conn, worker, assignment_id)
        if status == "skipped":
            return {"id": assignment_id, "status": "skipped"}
        if status != "active":
            raise Conflict("lease_not_active", f"the assignment is {status}")
        values = {"assignment": assignment_id, "status": "skipped", "now": utc_now()}
        run(conn, _END_ASSIGNMENT, values)
        release_slots(conn, [task_id])
    return {"id": assignment_id, "status": "skipped"}


# Everything a submit decides on, in one statement: the lease, the project, the task, the
# callback URLs and this worker's earlier answer to the task, if any.
_SUBMIT_CONTEXT = (
    "SELECT a.task_id, a.status AS assignment_status, p.id AS project_id, p.kind, p.params,"
    " t.params AS task_params, p.overlap, p.max_overlap, p.target_confidence, p.review_rate,"
    " p.review_below, p.callback_url AS project_url, t.status AS task_status, t.answers,"
    " t.leases, t.target, t.gold, t.hypothesis, t.batch_id, t.callback_url AS task_url,"
    " b.callback_url AS batch_url, n.id AS stored_id, n.response AS stored_response,"
    " n.duration_ms AS stored_duration_ms, n.created_at AS stored_created_at"
    " FROM assignments a"
    " JOIN projects p ON p.id = a.project_id"
    " JOIN tasks t ON t.id = a.task_id"
    " LEFT JOIN batches b ON b.id = t.batch_id"
    " LEFT JOIN annotations n ON n.task_id = a.task_id AND n.worker_id = a.worker_id"
    " WHERE a.id = :assignment AND a.worker_id = :worker"
)
_SUBMIT_CONTEXTS = {
    "sqlite": Sql(_SUBMIT_CONTEXT),
    "postgresql": Sql(_SUBMIT_CONTEXT + " FOR UPDATE OF a, t"),
}
_ANSWER = Sql(
    "INSERT INTO annotations"
    " (id, task_id, worker_id, assignment_id, response, duration_ms, created_at, correct,"
    " kept_hypothesis) VALUES (:id, :task_id, :worker_id, :assignment_id, :response,"
    " :duration_ms, :created_at, :correct, :kept_hypothesis)"
)
_COUNT_ANSWER = Sql(
    "UPDATE tasks SET answers = answers + 1, leases = leases - :held,"
    " filled = CASE WHEN answers + 1 + leases - :held >= :need THEN 1 ELSE 0 END"
    " WHERE id = :task"
)
# Adaptive overlap: the task is not sure enough yet, so it needs one answer more.
_NEED_MORE = Sql(
    "UPDATE tasks SET target = answers + 1,"
    " filled = CASE WHEN leases >= 1 THEN 1 ELSE 0 END WHERE id = :task"
)


def _annotation_view(annotation: dict[str, Any], response: Any) -> dict[str, Any]:
    return {
        "id": annotation["id"],
        "assignment": annotation["assignment_id"],
        "task": annotation["task_id"],
        "response": response,
        "duration_ms": annotation["duration_ms"],
        "created_at": annotation["created_at"],
    }


def submit(
    store: Store, worker: Worker, assignment_id: str, response: Any, duration_ms: int | None
) -> dict[str, Any]:
    """Accept the worker's answer. Repeating the same answer returns the stored one; a
    different one is a 409. A late answer (lease expired) is still taken while the task
    needs answers that no one else holds a lease for."""
    with store.write() as conn:
        values = {"assignment": assignment_id, "worker": worker.id}
        row = one(conn, _SUBMIT_CONTEXTS[store.dialect], values)
        if row is None:  # another worker's assignment is as unknown as a missing one
            raise NotFound("assignment", assignment_id)
        ctx = row._asdict()
        params = orjson.loads(ctx["params"])
        task_params = orjson.loads(ctx["task_params"])
        answer = validate_response(ctx["kind"], params, task_params, response)
        if ctx["stored_id"] is not None:
            if orjson.loads(ctx["stored_response"]) != answer:
                raise Conflict("already_answered", "this task was already answered differently")
            stored = {
                "id": ctx["stored_id"],
                "assignment_id": assignment_id,
                "task_id": ctx["task_id"],
                "duration_ms": ctx["stored_duration_ms"],
                "created_at": ctx["stored_created_at"],
            }
            return _annotation_view(stored, answer)
        gold = None if ctx["gold"] is None else orjson.loads(ctx["gold"])
        holds_slot = ctx["assignment_status"] == "active"
        need = ctx["target"] or ctx["overlap"]
        free = need - ctx["answers"] - ctx["leases"] + holds_slot
        if (
            ctx["assignment_status"] == "skipped"
            or ctx["task_status"] != "pending"
            or (gold is None and free <= 0)
        ):
            raise Conflict(
                "task_not_open", "the lease ended and the task no longer needs this answer"
            )
        now = utc_now()
        annotation = {
            "id": new_id(),
            "task_id": ctx["task_id"],
            "worker_id": worker.id,
            "assignment_id": assignment_id,
            "response": orjson.dumps(answer).decode(),
            "duration_ms": duration_ms,
            "created_at": now,
            # Gold is scored on arrival; it never completes, so it never calls back.
            "correct": None
            if gold is None
            else int(matches(ctx["kind"], params, task_params, answer, gold)),
            # Whether the worker kept the pre-label they were shown: anchoring, measured.
            "kept_hypothesis": _kept(ctx, params, task_params, answer),
        }
        run(conn, _ANSWER, annotation)
        run(conn, _END_ASSIGNMENT, {"assignment": assignment_id, "status": "submitted", "now": now})
        if gold is None:
            run(
                conn, _COUNT_ANSWER, {"task": ctx["task_id"], "held": int(holds_slot), "need": need}
            )
            if ctx["answers"] + 1 >= need:
                _settle(conn, ctx, params, task_params, ctx["answers"] + 1, now)
    return _annotation_view(annotation, answer)


def _kept(ctx: dict[str, Any], params: dict, task_params: dict, answer: dict) -> int | None:
    if ctx["hypothesis"] is None:
        return None
    hypothesis = orjson.loads(ctx["hypothesis"])
    return int(matches(ctx["kind"], params, task_params, answer, hypothesis))


def _settle(
    conn: Connection,
    ctx: dict[str, Any],
    params: dict,
    task_params: dict,
    answers: int,
    now: str,
) -> None:
    """The task has the answers it needed: complete it, unless adaptive overlap finds its
    result not sure enough yet and there is room for another answer."""
    result = task_result(conn, ctx["project_id"], ctx["kind"], params, task_params, ctx["task_id"])
    adaptive = ctx["target_confidence"] is not None
    if (
        adaptive
        and answers < ctx["max_overlap"]
        and result["confidence"] < ctx["target_confidence"]
    ):
        run(conn, _NEED_MORE, {"task": ctx["task_id"]})
        return
    result["annotations"] = answers
    if _needs_review(ctx, result["confidence"]):
        run(conn, _TO_REVIEW, {"task": ctx["task_id"], "response": orjson.dumps(result).decode()})
        return
    complete_task(conn, ctx, result, now)


# Review layer: the result waits for a reviewer's verdict before it is delivered.
_TO_REVIEW = Sql("UPDATE tasks SET status = 'in_review', response = :response WHERE id = :task")


def _needs_review(ctx: dict[str, Any], confidence: float, rng: random.Random = _rng) -> bool:
    if ctx["review_below"] is not None and confidence < ctx["review_below"]:
        return True
    return bool(ctx["review_rate"]) and rng.random() < ctx["review_rate"]


def complete_task(conn: Connection, ctx: dict[str, Any], result: dict, now: str) -> None:
    """Store the task's result, queue its callback, and close its batch if it was last."""
    values = {"task": ctx["task_id"], "response": orjson.dumps(result).decode(), "now": now}
    completed = returned_task(one(conn, COMPLETE_TASK, values))
    enqueue_task(conn, completed, ctx["task_url"] or ctx["batch_url"] or ctx["project_url"])
    close_batch_if_done(conn, ctx["batch_id"], now)


# Pending tasks that already hold the answers the project's overlap now asks for.
_ANSWERED_ENOUGH = text(
    "SELECT t.id AS task_id, t.params AS task_params, t.answers, t.batch_id,"
    " t.callback_url AS task_url, b.callback_url AS batch_url, p.id AS project_id, p.kind,"
    " p.params, p.max_overlap, p.target_confidence, p.review_rate, p.review_below,"
    " p.callback_url AS project_url"
    " FROM tasks t JOIN projects p ON p.id = t.project_id"
    " LEFT JOIN batches b ON b.id = t.batch_id"
    " WHERE t.project_id = :project AND t.status = 'pending' AND t.gold IS NULL"
    " AND t.answers > 0"
    " AND (t.answers >= COALESCE(t.target, p.overlap) OR t.answers >= p.max_overlap)"
    " ORDER BY t.id"
)


def settle_answered(conn: Connection, project_id: str) -> None:
    """After the project's overlap went down: settle each pending task that already has
    the answers it now needs, as its last submit would have (result, review, callback).
    Otherwise no slot would open for it and it would never complete."""
    now = utc_now()
    for row in conn.execute(_ANSWERED_ENOUGH, {"project": project_id}).all():
        ctx = dict(row._mapping)
        params, task_params = orjson.loads(ctx["params"]), orjson.loads(ctx["task_params"])
        _settle(conn, ctx, params, task_params, ctx["answers"], now)
