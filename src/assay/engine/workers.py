"""Workers: the people behind annotator and reviewer keys, and who may work on what."""

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, func, insert, select, update

from assay.engine.keys import Principal, create_key
from assay.engine.pagination import fetch_page
from assay.engine.projects import require_project
from assay.engine.tasks import release_slots
from assay.errors import AssayError, NotFound
from assay.ids import utc_now
from assay.quality.intervals import accuracy_summary
from assay.store.db import Store, as_dict
from assay.store.tables import annotations, api_keys, assignments, project_members, workers

_COLUMNS = [*workers.c, api_keys.c.role]


@dataclass(frozen=True)
class Worker:
    id: str
    skills: frozenset[str]


def _public(row) -> dict[str, Any]:
    out = as_dict(row)
    out["skills"] = orjson.loads(out["skills"])
    out["active"] = bool(out["active"])
    return out


def _select():
    return select(*_COLUMNS).join(api_keys, api_keys.c.id == workers.c.id)


def _get(conn: Connection, worker_id: str, field: str | None = None) -> dict[str, Any]:
    row = conn.execute(_select().where(workers.c.id == worker_id)).first()
    if row is None:
        raise NotFound("worker", worker_id, field)
    return _public(row)


def create_worker(store: Store, name: str, role: str, skills: list[str]) -> dict[str, Any]:
    """A worker and the key they work with; the key is shown only in this result."""
    key = create_key(store, role, name, skills)
    return get_worker(store, key["id"]) | {"key": key["key"]}


def get_worker(store: Store, worker_id: str) -> dict[str, Any]:
    with store.read() as conn:
        return _get(conn, worker_id)


def list_workers(store: Store, limit: int, next_token: str | None):
    return fetch_page(store, _select(), workers.c.id, limit, next_token, _public)


def update_worker(store: Store, worker_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in changes.items() if k in ("name", "skills") and v is not None}
    if "skills" in values:
        values["skills"] = orjson.dumps(values["skills"]).decode()
    with store.write() as conn:
        _get(conn, worker_id)
        if values:
            conn.execute(update(workers).where(workers.c.id == worker_id).values(**values))
        return _get(conn, worker_id)


def set_active(store: Store, worker_id: str, active: bool) -> dict[str, Any]:
    """Block or unblock a worker. Blocking releases every lease they hold, at once."""
    now = utc_now()
    with store.write() as conn:
        _get(conn, worker_id)
        conn.execute(
            update(workers)
            .where(workers.c.id == worker_id)
            .values(active=int(active), blocked_at=None if active else now)
        )
        if not active:
            released = (
                conn.execute(
                    update(assignments)
                    .where(assignments.c.worker_id == worker_id, assignments.c.status == "active")
                    .values(status="released", ended_at=now)
                    .returning(assignments.c.task_id)
                )
                .scalars()
                .all()
            )
            release_slots(conn, released)
        return _get(conn, worker_id)


def working(who: Principal) -> Worker:
    """The worker behind a key, or a 403 if the key is no worker's or the worker is blocked."""
    if who.worker_active is None or who.worker_skills is None:
        raise AssayError("only worker keys (annotator or reviewer) do work", "not_a_worker", 403)
    if not who.worker_active:
        raise AssayError("this worker is blocked", "worker_blocked", 403)
    return Worker(who.key_id, who.worker_skills)


def add_members(store: Store, project_id: str, worker_ids: list[str]) -> list[str]:
    """Open a members-only project to these workers (adding twice is harmless)."""
    with store.write() as conn:
        require_project(conn, project_id, None)
        for i, worker_id in enumerate(worker_ids):
            _get(conn, worker_id, f"workers[{i}]")
        existing = set(
            conn.execute(
                select(project_members.c.worker_id).where(
                    project_members.c.project_id == project_id
                )
            ).scalars()
        )
        new = [w for w in dict.fromkeys(worker_ids) if w not in existing]
        if new:
            conn.execute(
                insert(project_members), [{"project_id": project_id, "worker_id": w} for w in new]
            )
        return sorted(existing | set(new))


def members(store: Store, project_id: str) -> list[str]:
    with store.read() as conn:
        require_project(conn, project_id, None)
        return sorted(
            conn.execute(
                select(project_members.c.worker_id).where(
                    project_members.c.project_id == project_id
                )
            ).scalars()
        )


GOLD_WINDOW = 20


def counted_answers(answers: int, before_today: int, window: int = GOLD_WINDOW) -> int:
    """How many of a worker's answers (oldest first) their own gold figures cover: those
    up to the last full window of `window` answers, and all given before today (UTC).

    So the figures a worker sees move at most once per window or per day, never with one
    answer, and comparing them before and after a submit cannot tell a gold task.
    """
    return max(answers - answers % window, before_today)


def worker_stats(store: Store, worker_id: str, own: bool = False) -> dict[str, Any]:
    """How much a worker answered, how fast, and how well on gold: over all their answers
    for a manager; for the worker themselves (`own`), gold over `counted_answers` only."""
    mine = annotations.c.worker_id == worker_id
    today = utc_now()[:10] + "T00:00:00.000000Z"
    with store.read() as conn:
        _get(conn, worker_id)
        row = conn.execute(
            select(
                func.count().label("answers"),
                func.count().filter(annotations.c.created_at < today).label("before_today"),
                func.avg(annotations.c.duration_ms).label("mean_duration"),
                func.coalesce(func.sum(annotations.c.duration_ms), 0).label("total_duration"),
                func.count(annotations.c.kept_hypothesis).label("shown"),
                func.coalesce(func.sum(annotations.c.kept_hypothesis), 0).label("kept"),
            ).where(mine)
        ).one()
        counted = counted_answers(row.answers, row.before_today) if own else row.answers
        first = (
            select(annotations.c.correct)
            .where(mine)
            .order_by(annotations.c.created_at, annotations.c.id)
            .limit(counted)
            .subquery()
        )
        gold = conn.execute(
            select(
                func.count(first.c.correct).label("answered"),
                func.coalesce(func.sum(first.c.correct), 0).label("correct"),
            )
        ).one()
    return {
        "worker": worker_id,
        "answers": row.answers,
        "mean_duration_ms": None if row.mean_duration is None else float(row.mean_duration),
        "active_ms": int(row.total_duration),
        "prelabels": {"shown": row.shown, "kept": int(row.kept)},
        "gold": {"answered": gold.answered, "counted_answers": counted}
        | accuracy_summary(int(gold.correct), gold.answered),
    }
