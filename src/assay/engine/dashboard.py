"""A project's dashboard: progress, throughput, results and the work still to do.

Figures are SQL aggregates over the project's customer tasks and the answers given to
them; gold tasks (which measure workers and never complete) are left out of all of
them. Only the label distribution reads results one by one: a kind's answer key is
Python, so SQL cannot group by it.

Filters: `batch` keeps that batch's tasks; `since` (inclusive) and `until` (exclusive)
keep the tasks whose `completed_at`, and the answers whose `created_at`, fall between
them (a datetime without a zone is taken as UTC).

The figures:
- `counts`: tasks by status now, and `total` their sum. The time filters do not apply:
  this is the current state of the (batch's) tasks.
- `batches`: the same counts for each batch, oldest batch first (progress by batch); a
  row with batch null holds the tasks outside any batch.
- `throughput`: completed tasks per UTC hour (the first 13 characters of `completed_at`,
  "YYYY-MM-DDTHH"), oldest first; hours without a completion are absent.
- `labels`: completed results per answer key (`assay.kinds.answer_keys`), most frequent
  first; empty for kinds whose answers are not categories.
- `lowest_confidence`: the LOWEST completed tasks whose results have the lowest
  `confidence`, lowest first (ties by task id), each with the URL of its JSON.
- `answers`: answers given; `workers_active`: distinct workers who gave them;
  `mean_answer_ms`: the mean of their durations as the workers' clients reported them
  (null when none did). Answers a reviewer later set aside still count: work was done.
- `answers_last_hour`: answers given in the hour before now (the time filters do not
  apply): the recent answer rate, per hour.
- `remaining_answers`: answers the pending tasks still need: for each, its overlap (the
  project's, or the higher target adaptive overlap set for it) less the answers it has.
  With no answers given yet this is remaining tasks x overlap.
- `eta_seconds`: remaining_answers / answers_last_hour, in seconds; 0 when nothing is
  left, null while no answer came in the last hour (the rate is unknown).
"""

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, case, func, literal_column, select

from assay.engine.projects import require_project
from assay.enums import TASK_STATUSES
from assay.errors import FieldError, Invalid, NotFound
from assay.ids import utc_iso, utc_now
from assay.kinds import answer_keys, is_categorical
from assay.store.db import Store
from assay.store.tables import annotations, batches, projects, tasks

LOWEST = 10
RATE_WINDOW_SECONDS = 3600
_CONFIDENCE = {
    "sqlite": "json_extract(tasks.response, '$.confidence')",
    "postgresql": "CAST(CAST(tasks.response AS json) ->> 'confidence' AS double precision)",
}


def _stamp(moment: datetime | None) -> str | None:
    """A datetime as stored times are written (UTC ISO-8601 text, which sorts by time)."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return utc_iso(int(aware.timestamp() * 1_000_000))


def _check_batch(conn: Connection, project_id: str, batch_id: str | None) -> None:
    if batch_id is None:
        return
    found = conn.execute(
        select(batches.c.id).where(batches.c.id == batch_id, batches.c.project_id == project_id)
    ).first()
    if found is None:
        raise NotFound("batch", batch_id, "batch")


def _between(column: ColumnElement, since: str | None, until: str | None) -> list:
    clauses = []
    if since:
        clauses.append(column >= since)
    if until:
        clauses.append(column < until)
    return clauses


class _Scope:
    """The WHERE clauses of one dashboard request."""

    def __init__(self, project_id: str, batch_id: str | None, since: str | None, until: str | None):
        self.tasks = [tasks.c.project_id == project_id, tasks.c.gold.is_(None)]
        if batch_id is not None:
            self.tasks.append(tasks.c.batch_id == batch_id)
        self.completed = [
            *self.tasks,
            tasks.c.status == "completed",
            *_between(tasks.c.completed_at, since, until),
        ]
        self.answers = [*self.tasks, *_between(annotations.c.created_at, since, until)]


def _progress(conn: Connection, scope: _Scope) -> dict[str, Any]:
    query = (
        select(tasks.c.batch_id, batches.c.name, tasks.c.status, func.count().label("n"))
        .select_from(tasks.outerjoin(batches, batches.c.id == tasks.c.batch_id))
        .where(*scope.tasks)
        .group_by(tasks.c.batch_id, batches.c.name, tasks.c.status)
    )
    counts = dict.fromkeys(TASK_STATUSES, 0)
    by_batch: dict[str | None, dict[str, Any]] = {}
    for found in conn.execute(query):
        counts[found.status] += found.n
        row = by_batch.setdefault(
            found.batch_id,
            {
                "batch": found.batch_id,
                "name": found.name,
                "total": 0,
                "counts": dict.fromkeys(TASK_STATUSES, 0),
            },
        )
        row["total"] += found.n
        row["counts"][found.status] = found.n
    ordered = sorted(by_batch.values(), key=lambda b: (b["batch"] is None, b["batch"] or ""))
    return {"total": sum(counts.values()), "counts": counts, "batches": ordered}


def _throughput(conn: Connection, scope: _Scope) -> list[dict[str, Any]]:
    hour = func.substr(tasks.c.completed_at, 1, 13)
    query = (
        select(hour.label("hour"), func.count().label("completed"))
        .where(*scope.completed)
        .group_by(hour)
        .order_by(hour)
    )
    return [{"hour": r.hour, "completed": r.completed} for r in conn.execute(query)]


def _labels(conn: Connection, scope: _Scope, kind: str, params: dict) -> list[dict[str, Any]]:
    if not is_categorical(kind):
        return []
    query = select(tasks.c.response).where(*scope.completed).execution_options(yield_per=2000)
    counts: Counter[str] = Counter()
    for chunk in conn.execute(query).partitions():
        counts.update(answer_keys(kind, params, [orjson.loads(r.response) for r in chunk]))
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [{"label": label, "count": n} for label, n in ordered]


def _lowest_confidence(conn: Connection, scope: _Scope, dialect: str) -> list[dict[str, Any]]:
    confidence = literal_column(_CONFIDENCE[dialect])
    query = (
        select(tasks.c.id, confidence.label("confidence"))
        .where(*scope.completed)
        .order_by(confidence, tasks.c.id)
        .limit(LOWEST)
    )
    return [
        {"task": r.id, "confidence": float(r.confidence), "url": f"/v1/tasks/{r.id}"}
        for r in conn.execute(query)
    ]


def _answers(conn: Connection, scope: _Scope) -> dict[str, Any]:
    answered = tasks.join(annotations, annotations.c.task_id == tasks.c.id)
    found = conn.execute(
        select(
            func.count().label("answers"),
            func.count(func.distinct(annotations.c.worker_id)).label("workers"),
            func.avg(annotations.c.duration_ms).label("mean_ms"),
        )
        .select_from(answered)
        .where(*scope.answers)
    ).one()
    recent = conn.execute(
        select(func.count())
        .select_from(answered)
        .where(*scope.tasks, annotations.c.created_at >= utc_now(-RATE_WINDOW_SECONDS))
    ).scalar_one()
    return {
        "answers": found.answers,
        "workers_active": found.workers,
        "mean_answer_ms": None if found.mean_ms is None else float(found.mean_ms),
        "answers_last_hour": recent,
    }


def _remaining_answers(conn: Connection, scope: _Scope) -> int:
    need = func.coalesce(tasks.c.target, projects.c.overlap)
    missing = case((need > tasks.c.answers, need - tasks.c.answers), else_=0)
    query = (
        select(func.coalesce(func.sum(missing), 0))
        .select_from(tasks.join(projects, projects.c.id == tasks.c.project_id))
        .where(*scope.tasks, tasks.c.status == "pending")
    )
    return int(conn.execute(query).scalar_one())


def _eta_seconds(remaining: int, per_hour: int) -> float | None:
    if remaining == 0:
        return 0.0
    if per_hour == 0:
        return None
    return remaining / per_hour * RATE_WINDOW_SECONDS


def project_dashboard(
    store: Store,
    project_id: str,
    batch_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """The dashboard's figures (defined in this module's docstring)."""
    start, end = _stamp(since), _stamp(until)
    if start and end and end <= start:
        raise Invalid([FieldError("until", "must be after since")])
    scope = _Scope(project_id, batch_id, start, end)
    with store.read() as conn:
        kind, params = require_project(conn, project_id, None)
        _check_batch(conn, project_id, batch_id)
        report = {"project": project_id, "batch": batch_id, "since": start, "until": end}
        report |= _progress(conn, scope)
        report["throughput"] = _throughput(conn, scope)
        report["labels"] = _labels(conn, scope, kind, params)
        report["lowest_confidence"] = _lowest_confidence(conn, scope, store.dialect)
        report |= _answers(conn, scope)
        report["remaining_answers"] = _remaining_answers(conn, scope)
    report["eta_seconds"] = _eta_seconds(report["remaining_answers"], report["answers_last_hour"])
    return report
