"""The review layer: reviewers judge results before they are delivered.

A project with `review_rate` / `review_below` holds some completed results in status
'in_review' (see work._settle). A reviewer (role reviewer) asks `work/next?stage=review`
and gets one such task, with its result and its answers, leased like any task (one
reviewer at a time; never a task they labelled themselves). Their verdict:
- accept: the result is delivered as it is;
- fix: their corrected response becomes the result (confidence 1) and is delivered;
- reject: the answers are set aside and the task goes back to the queue to be labelled
  afresh by other workers.
Verdicts are kept in `reviews`; the quality report scores annotators with them.
"""

from typing import Any

import orjson
from sqlalchemy import Connection

from assay.engine.tasks import release_slots
from assay.engine.work import (
    NOT_OFFERED,
    best_candidate,
    complete_task,
    lease,
    open_leases,
    sweep_expired,
    worker_view,
)
from assay.engine.workers import Worker
from assay.errors import Conflict, FieldError, Invalid, NotFound
from assay.ids import new_id, utc_now
from assay.kinds import validate_response
from assay.store.db import Store
from assay.store.sql import Sql, all_rows, claim_statements, one, run, scalar

_CANDIDATE = (
    "SELECT t.id, t.params, t.hypothesis, t.response, t.priority FROM tasks t"
    " WHERE t.project_id = :project_id AND t.status = 'in_review' AND t.leases = 0"
    + NOT_OFFERED
    + " ORDER BY t.priority DESC, t.id LIMIT 1"
)
_CANDIDATES = claim_statements(_CANDIDATE)
_HOLD = Sql("UPDATE tasks SET leases = leases + 1 WHERE id = :task")
_ANSWERS = Sql(
    "SELECT response FROM annotations WHERE task_id = :task AND discarded IS NULL ORDER BY id"
)


def next_review(store: Store, worker: Worker, project_id: str | None) -> dict | None:
    """Lease the next result to review: highest priority, then oldest. None if none."""
    with store.write() as conn:
        now = utc_now()
        sweep_expired(conn, now)
        best = best_candidate(conn, worker, project_id, _CANDIDATES[store.dialect])
        if best is None:
            return None
        task, project, _ = best
        assignment = lease(conn, worker, task.id, project, now, "review")
        run(conn, _HOLD, {"task": task.id})
        extras = _under_review(conn, task.id, task.response)
    return worker_view(assignment, task.params, task.hypothesis, project) | extras


def _under_review(conn: Connection, task_id: str, result: str) -> dict[str, Any]:
    """What a reviewer sees besides the task: the result to judge and its answers."""
    answers = [orjson.loads(r.response) for r in all_rows(conn, _ANSWERS, {"task": task_id})]
    return {"stage": "review", "result": orjson.loads(result), "answers": answers}


_RESULT = Sql("SELECT response FROM tasks WHERE id = :task")


def open_reviews(store: Store, worker: Worker) -> list[dict[str, Any]]:
    """The reviewer's review leases still running, as `next_review` showed them."""
    views = open_leases(store, worker, "review")
    with store.read() as conn:
        for view in views:
            task_id = view["task"]["id"]
            result = scalar(conn, _RESULT, {"task": task_id})
            view |= _under_review(conn, task_id, result)
    return views


_CONTEXT = (
    "SELECT a.task_id, a.status AS assignment_status, a.stage, p.id AS project_id, p.kind,"
    " p.params, t.params AS task_params, p.callback_url AS project_url,"
    " t.status AS task_status, t.response AS result, t.answers, t.batch_id,"
    " t.callback_url AS task_url, b.callback_url AS batch_url, r.id AS review_id, r.verdict,"
    " r.response AS fixed, r.reason, r.created_at AS reviewed_at"
    " FROM assignments a"
    " JOIN projects p ON p.id = a.project_id"
    " JOIN tasks t ON t.id = a.task_id"
    " LEFT JOIN batches b ON b.id = t.batch_id"
    " LEFT JOIN reviews r ON r.assignment_id = a.id"
    " WHERE a.id = :assignment AND a.worker_id = :worker"
)
_CONTEXTS = {"sqlite": Sql(_CONTEXT), "postgresql": Sql(_CONTEXT + " FOR UPDATE OF a, t")}
_RECORD = Sql(
    "INSERT INTO reviews (id, assignment_id, task_id, reviewer, verdict, result, response,"
    " reason, created_at) VALUES (:id, :assignment, :task, :reviewer, :verdict, :result,"
    " :response, :reason, :now)"
)
_END = Sql("UPDATE assignments SET status = 'submitted', ended_at = :now WHERE id = :assignment")
_DISCARD = Sql("UPDATE annotations SET discarded = 1 WHERE task_id = :task")
_RELABEL = Sql(
    "UPDATE tasks SET status = 'pending', response = NULL, answers = 0, target = NULL,"
    " filled = 0 WHERE id = :task"
)


def _view(ctx: dict[str, Any], assignment_id: str, fixed: Any) -> dict[str, Any]:
    return {
        "id": ctx["review_id"],
        "assignment": assignment_id,
        "task": ctx["task_id"],
        "verdict": ctx["verdict"],
        "response": fixed,
        "reason": ctx["reason"],
        "created_at": ctx["reviewed_at"],
    }


def review(
    store: Store,
    worker: Worker,
    assignment_id: str,
    verdict: str,
    response: Any,
    reason: str | None,
) -> dict[str, Any]:
    """Record the verdict on a review assignment and act on it. The same verdict again
    returns the stored one; a different one is a 409."""
    with store.write() as conn:
        values = {"assignment": assignment_id, "worker": worker.id}
        row = one(conn, _CONTEXTS[store.dialect], values)
        if row is None or row.stage != "review":
            raise NotFound("review assignment", assignment_id)
        ctx = row._asdict()
        params = orjson.loads(ctx["params"])
        fixed = None
        if verdict == "fix":
            if response is None:
                raise Invalid([FieldError("response", "a fix needs the corrected response")])
            task_params = orjson.loads(ctx["task_params"])
            fixed = validate_response(ctx["kind"], params, task_params, response)
        if ctx["review_id"] is not None:
            stored = None if ctx["fixed"] is None else orjson.loads(ctx["fixed"])
            if (ctx["verdict"], stored) != (verdict, fixed):
                raise Conflict("already_reviewed", "this result was already judged differently")
            return _view(ctx, assignment_id, stored)
        if ctx["task_status"] != "in_review" or ctx["assignment_status"] not in ("active",):
            raise Conflict("review_not_open", "the review lease ended; ask for another")
        now = utc_now()
        ctx |= {"review_id": new_id(), "verdict": verdict, "reason": reason, "reviewed_at": now}
        run(
            conn,
            _RECORD,
            {
                "id": ctx["review_id"],
                "assignment": assignment_id,
                "task": ctx["task_id"],
                "reviewer": worker.id,
                "verdict": verdict,
                "result": ctx["result"],
                "response": None if fixed is None else orjson.dumps(fixed).decode(),
                "reason": reason,
                "now": now,
            },
        )
        run(conn, _END, {"assignment": assignment_id, "now": now})
        release_slots(conn, [ctx["task_id"]])
        _act(conn, ctx, verdict, fixed, now)
    return _view(ctx, assignment_id, fixed)


def _act(conn: Connection, ctx: dict[str, Any], verdict: str, fixed: Any, now: str) -> None:
    if verdict == "reject":
        run(conn, _DISCARD, {"task": ctx["task_id"]})
        run(conn, _RELABEL, {"task": ctx["task_id"]})
        return
    if verdict == "fix":
        result = fixed | {"confidence": 1.0, "annotations": ctx["answers"]}
    else:
        result = orjson.loads(ctx["result"])
    complete_task(conn, ctx, result | {"reviewed": verdict}, now)
