"""Customer audits: a manager marks a delivered result correct or incorrect.

One verdict per task; auditing again replaces it (so a retried request changes nothing).
Verdicts give each batch a measured accuracy with an exact (Clopper-Pearson) interval,
and score the workers whose answers agreed with an audited result (see engine/quality).
"""

from typing import Any

from sqlalchemy import func, select

from assay.engine.batches import get_batch
from assay.errors import Conflict, NotFound
from assay.ids import utc_now
from assay.quality.intervals import accuracy_summary
from assay.store.db import Store
from assay.store.sql import Sql, one, run
from assay.store.tables import audits

_TASK = Sql("SELECT project_id, batch_id, status FROM tasks WHERE id = :task")
_RECORD = Sql(
    "INSERT INTO audits (task_id, project_id, batch_id, correct, note, auditor, audited_at)"
    " VALUES (:task, :project, :batch, :correct, :note, :auditor, :now)"
    " ON CONFLICT (task_id) DO UPDATE SET correct = excluded.correct, note = excluded.note,"
    " auditor = excluded.auditor, audited_at = excluded.audited_at"
)


def audit_task(
    store: Store, task_id: str, correct: bool, note: str | None, auditor: str
) -> dict[str, Any]:
    """Record the verdict on a completed task's result (replacing an earlier one)."""
    with store.write() as conn:
        found = one(conn, _TASK, {"task": task_id})
        if found is None:
            raise NotFound("task", task_id)
        if found.status != "completed":
            raise Conflict(
                "not_delivered", f"only completed tasks can be audited (it is {found.status})"
            )
        values = {
            "task": task_id,
            "project": found.project_id,
            "batch": found.batch_id,
            "correct": int(correct),
            "note": note,
            "auditor": auditor,
            "now": utc_now(),
        }
        run(conn, _RECORD, values)
    return {
        "task": task_id,
        "correct": correct,
        "note": note,
        "auditor": auditor,
        "audited_at": values["now"],
    }


def measured_accuracy(audited: int, correct: int) -> dict[str, Any]:
    return {"audited": audited} | accuracy_summary(correct, audited)


def batch_accuracy(store: Store, batch_id: str) -> dict[str, Any]:
    """The share of a batch's audited results that were correct, with its 95% interval."""
    get_batch(store, batch_id)  # 404 for an unknown batch
    with store.read() as conn:
        found = conn.execute(
            select(
                func.count().label("audited"),
                func.coalesce(func.sum(audits.c.correct), 0).label("correct"),
            ).where(audits.c.batch_id == batch_id)
        ).one()
    return {"batch": batch_id} | measured_accuracy(found.audited, int(found.correct))
