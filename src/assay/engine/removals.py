"""Low-quality workers off a project's queue: decided after each refit, undone by a manager.

A project with `min_worker_quality` checks its workers whenever its models are refitted
(engine/refit.py), with the rule of `assay.quality.removal`. A removed worker's leases on
the project are released and the queue no longer offers them its tasks; their answers
stay, weighed by their worker model like anyone's. A manager may restore them; a worker
once restored is not removed again automatically from that project (the manager decided).
Every removal and restoration is kept in `worker_removals`.
"""

from collections import Counter
from typing import Any

import numpy as np
import orjson

from assay.engine.tasks import release_slots
from assay.errors import NotFound
from assay.ids import new_id, utc_now
from assay.quality.fraud import (
    DEFAULT_LABEL_WINDOW,
    DEFAULT_MAX_FAST_SHARE,
    DEFAULT_WINDOW,
    Finding,
    fast_answers,
    repeated_label,
)
from assay.quality.removal import removal_reason
from assay.store.db import Store
from assay.store.sql import Sql, all_rows, run

_GOLD_COUNTS = Sql(
    "SELECT n.worker_id, count(*) AS answered, sum(n.correct) AS correct FROM annotations n"
    " JOIN tasks t ON t.id = n.task_id"
    " WHERE t.project_id = :project AND n.correct IS NOT NULL GROUP BY n.worker_id"
)
_DECIDED = Sql(
    "SELECT worker_id FROM worker_removals WHERE project_id = :project"
    " AND (restored_at IS NULL OR restored_by IS NOT NULL)"
)
_REMOVE = Sql(
    "INSERT INTO worker_removals (id, project_id, worker_id, reason, code, evidence, removed_at)"
    " VALUES (:id, :project, :worker, :reason, :code, :evidence, :now)"
)
_DURATIONS = Sql(
    "SELECT n.worker_id, n.duration_ms FROM annotations n JOIN tasks t ON t.id = n.task_id"
    " WHERE t.project_id = :project AND n.duration_ms IS NOT NULL ORDER BY n.id"
)
_RELEASE = Sql(
    "UPDATE assignments SET status = 'released', ended_at = :now"
    " WHERE project_id = :project AND worker_id = :worker AND status = 'active'"
    " RETURNING task_id"
)
_COLUMNS = (
    "id",
    "worker_id",
    "reason",
    "code",
    "evidence",
    "removed_at",
    "restored_at",
    "restored_by",
)
_LIST = Sql(
    f"SELECT {', '.join(_COLUMNS)} FROM worker_removals WHERE project_id = :project ORDER BY id"
)
_RESTORE = Sql(
    "UPDATE worker_removals SET restored_at = :now, restored_by = :by"
    " WHERE project_id = :project AND worker_id = :worker AND restored_at IS NULL"
)


def remove_weak_workers(
    store: Store,
    project_id: str,
    threshold: float,
    workers: np.ndarray,
    accuracy: np.ndarray,
    answers: np.ndarray,
) -> list[str]:
    """Remove the workers the rule finds surely below `threshold`; returns their ids.
    `accuracy` is each worker's model-based chance of a right answer."""
    with store.read() as conn:
        gold = {
            r.worker_id: (int(r.correct), r.answered)
            for r in all_rows(conn, _GOLD_COUNTS, {"project": project_id})
        }
        decided = {r.worker_id for r in all_rows(conn, _DECIDED, {"project": project_id})}
    findings = {}
    for worker, p, n in zip(workers, accuracy, answers, strict=True):
        if worker in decided:
            continue
        right, answered = gold.get(worker, (0, 0))
        reason = removal_reason(threshold, right, answered, float(p), int(n))
        if reason:
            evidence = {"gold_correct": right, "gold_answered": answered, "answers": int(n)}
            evidence["model_accuracy"] = round(float(p), 4)
            findings[worker] = Finding("low_quality", reason, evidence)
    return _remove(store, project_id, findings)


def remove_spammers(
    store: Store, project_id: str, fraud: dict[str, Any], labelled: list[tuple[str, str]]
) -> list[str]:
    """Remove the workers the project's spam rules (`fraud` settings) find; returns their
    ids. `labelled`: (worker, label) of every answer, oldest first, for categorical kinds."""
    with store.read() as conn:
        decided = {r.worker_id for r in all_rows(conn, _DECIDED, {"project": project_id})}
        durations: dict[str, list[int]] = {}
        if fraud.get("fast_answer_ms") is not None:
            for r in all_rows(conn, _DURATIONS, {"project": project_id}):
                durations.setdefault(r.worker_id, []).append(r.duration_ms)
    findings = _repeated_labels(fraud, labelled)
    for worker, times in durations.items():
        rule = (
            fraud.get("max_fast_share", DEFAULT_MAX_FAST_SHARE),
            fraud.get("window", DEFAULT_WINDOW),
        )
        if found := fast_answers(times, fraud["fast_answer_ms"], *rule):
            findings[worker] = found
    return _remove(store, project_id, {w: f for w, f in findings.items() if w not in decided})


def _repeated_labels(fraud: dict[str, Any], labelled: list[tuple[str, str]]) -> dict[str, Finding]:
    """`repeated_label` findings: each worker's labels against the other workers' rates."""
    chance = fraud.get("repeated_label_chance")
    if chance is None or not labelled:
        return {}
    window = fraud.get("label_window", DEFAULT_LABEL_WINDOW)
    by_worker: dict[str, list[str]] = {}
    for worker, label in labelled:
        by_worker.setdefault(worker, []).append(label)
    everyone = Counter(label for _, label in labelled)
    findings = {}
    for worker, labels in by_worker.items():
        others = everyone - Counter(labels)
        total = sum(others.values())
        if total == 0:
            continue
        base_rate = {label: n / total for label, n in others.items()}
        if found := repeated_label(labels, base_rate, window, chance):
            findings[worker] = found
    return findings


def _remove(store: Store, project_id: str, findings: dict[str, Finding]) -> list[str]:
    """Record each finding as a removal and release the worker's leases on the project."""
    if findings:
        with store.write() as conn:
            now = utc_now()
            for worker, found in findings.items():
                values = {"project": project_id, "worker": worker, "now": now}
                removal = {
                    "id": new_id(),
                    "reason": found.reason,
                    "code": found.code,
                    "evidence": orjson.dumps(found.evidence).decode(),
                }
                run(conn, _REMOVE, values | removal)
                released = [r.task_id for r in all_rows(conn, _RELEASE, values)]
                release_slots(conn, released)
    return sorted(findings)


def _view(row) -> dict[str, Any]:
    out = row._asdict()
    out["worker"] = out.pop("worker_id")
    out["evidence"] = orjson.loads(out["evidence"]) if out["evidence"] else None
    return out


def list_removals(store: Store, project_id: str) -> list[dict[str, Any]]:
    """Every removal of the project's workers, restored ones included, oldest first."""
    with store.read() as conn:
        return [_view(row) for row in all_rows(conn, _LIST, {"project": project_id})]


def restore_worker(store: Store, project_id: str, worker_id: str, by: str) -> dict[str, Any]:
    """Put a removed worker back on the project's queue (restoring twice is harmless)."""
    with store.write() as conn:
        values = {"project": project_id, "worker": worker_id, "now": utc_now(), "by": by}
        run(conn, _RESTORE, values)
        rows = all_rows(conn, _LIST, {"project": project_id})
    mine = [_view(r) for r in rows if r.worker_id == worker_id]
    if not mine:
        raise NotFound("removal", worker_id)
    return mine[-1]
