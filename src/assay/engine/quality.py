"""Quality of a project's work: agreement between workers and each worker's scores.

Reads every answer of the project once, hands them to `assay.quality` (pure NumPy) and
shapes the result for the API. Gold tasks count: their known answers are passed to the
truth inference as fixed truths and give each worker an accuracy on gold.
"""

from typing import Any

import numpy as np
import orjson

from assay.engine.projects import require_project
from assay.kinds import answer_keys
from assay.quality import CATEGORICAL
from assay.quality.agreement import agreement_report
from assay.quality.answers import Answers
from assay.quality.intervals import clopper_pearson
from assay.store.db import Store
from assay.store.sql import Sql, all_rows

ENOUGH_FOR_MODEL = 100
"""Answers on tasks answered more than once, from which worker models beat the vote."""
BOOTSTRAP_SAMPLES = 500

_ANSWERS = Sql(
    "SELECT n.task_id, n.worker_id, n.response, n.correct, t.gold FROM annotations n"
    " JOIN tasks t ON t.id = n.task_id WHERE t.project_id = :project ORDER BY n.id"
)


def default_method(answers: Answers) -> str:
    """Dawid-Skene once there are enough overlapping answers to fit worker models,
    majority vote before."""
    per_task = np.bincount(answers.task, minlength=answers.n_tasks)
    overlapping = int(per_task[per_task > 1].sum())
    return "ds" if overlapping >= ENOUGH_FOR_MODEL else "mv"


def _gold_scores(worker_ids: np.ndarray, rows: list[tuple]) -> dict[str, dict[str, Any]]:
    answered: dict[str, list[int]] = {}
    for _, worker, _, correct, _ in rows:
        if correct is not None:
            answered.setdefault(worker, []).append(correct)
    scores = {}
    for worker in worker_ids:
        marks = answered.get(worker, [])
        right, total = sum(marks), len(marks)
        low, high = clopper_pearson(right, total)
        scores[worker] = {
            "answered": total,
            "correct": right,
            "accuracy": right / total if total else None,
            "ci95": [float(low), float(high)],
        }
    return scores


def project_quality(store: Store, project_id: str, method: str | None = None) -> dict[str, Any]:
    """Agreement (with bootstrap 95% intervals) and per-worker scores of a project."""
    with store.read() as conn:
        kind, params = require_project(conn, project_id)
        rows = all_rows(conn, _ANSWERS, {"project": project_id})
    empty = {"project": project_id, "answers": 0, "tasks": 0, "method": None, "agreement": None}
    if not rows:
        return empty | {"workers": []}
    responses = [orjson.loads(response) for _, _, response, _, _ in rows]
    keys = answer_keys(kind, params, responses)
    answers = Answers.from_columns([r[0] for r in rows], [r[1] for r in rows], keys)
    gold_answers = {r[0]: orjson.loads(r[4]) for r in rows if r[4] is not None}
    gold_keys = answer_keys(kind, params, list(gold_answers.values()))
    known = dict(zip(gold_answers, gold_keys, strict=True))
    gold = answers.gold_vector({t: k for t, k in known.items() if k in set(answers.labels)})
    method = method or default_method(answers)
    fit = CATEGORICAL[method](answers, gold)
    report = agreement_report(answers, samples=BOOTSTRAP_SAMPLES)
    counts = np.bincount(answers.worker, minlength=answers.n_workers)
    gold_scores = _gold_scores(answers.workers, rows)
    workers = [
        {
            "worker": worker,
            "answers": int(counts[i]),
            "agreement": report["workers"][worker],
            "model_quality": float(fit.worker_quality[i]),
            "gold": gold_scores[worker],
        }
        for i, worker in enumerate(answers.workers)
    ]
    return {
        "project": project_id,
        "answers": len(rows),
        "tasks": answers.n_tasks,
        "method": method,
        "agreement": {
            "krippendorff_alpha": report["krippendorff_alpha"],
            "fleiss_kappa": report["fleiss_kappa"],
        },
        "workers": workers,
    }
