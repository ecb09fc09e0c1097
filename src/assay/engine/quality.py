"""Quality of a project's work: agreement between workers and each worker's scores.

Reads every answer of the project once, hands them to `assay.quality` (pure NumPy) and
shapes the result for the API. Gold tasks count: their known answers are passed to the
truth inference as fixed truths and give each worker an accuracy on gold.
"""

from collections import Counter
from typing import Any

import numpy as np
import orjson

from assay.engine.audits import measured_accuracy
from assay.engine.projects import require_project
from assay.kinds import agreement, answer_keys, is_categorical, matches
from assay.quality import CATEGORICAL
from assay.quality.agreement import agreement_report
from assay.quality.answers import Answers
from assay.quality.intervals import accuracy_summary, clopper_pearson
from assay.store.db import Store
from assay.store.sql import Sql, all_rows, one

ENOUGH_FOR_MODEL = 100
"""Answers on tasks answered more than once, from which worker models beat the vote."""
BOOTSTRAP_SAMPLES = 500

# Each answer with what judges it: the gold answer, and the delivered result's verdict.
_ANSWERS = Sql(
    "SELECT n.task_id, n.worker_id, n.response, n.correct, t.gold, t.response AS result,"
    " a.correct AS audit_correct, n.discarded, t.params AS task_params"
    " FROM annotations n JOIN tasks t ON t.id = n.task_id"
    " LEFT JOIN audits a ON a.task_id = n.task_id"
    " WHERE t.project_id = :project ORDER BY n.id"
)
# Reviewers' verdicts, oldest first: a later verdict on a task replaces an earlier one.
_REVIEWS = Sql(
    "SELECT r.task_id, r.verdict, r.result, r.response FROM reviews r"
    " JOIN tasks t ON t.id = r.task_id WHERE t.project_id = :project ORDER BY r.id"
)
_MODEL = Sql("SELECT method, answers, fitted_at FROM project_models WHERE project_id = :project")
_PROJECT_AUDITS = Sql(
    "SELECT count(*) AS audited, coalesce(sum(correct), 0) AS correct FROM audits"
    " WHERE project_id = :project"
)


def encode_answers(kind: str, params: dict, rows: list) -> tuple[Answers, list[str], np.ndarray]:
    """Rows with task_id, worker_id, response and gold as truth-inference input: the
    answers, each answer's key, and the gold vector (known answers some worker gave)."""
    keys = answer_keys(kind, params, [orjson.loads(r.response) for r in rows])
    answers = Answers.from_columns([r.task_id for r in rows], [r.worker_id for r in rows], keys)
    gold_answers = {r.task_id: orjson.loads(r.gold) for r in rows if r.gold is not None}
    gold_keys = answer_keys(kind, params, list(gold_answers.values()))
    labels = set(answers.labels)
    known = {t: k for t, k in zip(gold_answers, gold_keys, strict=True) if k in labels}
    return answers, keys, answers.gold_vector(known)


def default_method(answers: Answers) -> str:
    """Dawid-Skene once there are enough overlapping answers to fit worker models,
    majority vote before."""
    per_task = np.bincount(answers.task, minlength=answers.n_tasks)
    overlapping = int(per_task[per_task > 1].sum())
    return "ds" if overlapping >= ENOUGH_FOR_MODEL else "mv"


def _scores(
    worker_ids: np.ndarray, marks: list[tuple[str, bool | None]], counted: str
) -> dict[str, dict]:
    """Per worker: how many of their judged answers (`counted`) were right, with a 95%
    interval."""
    judged: dict[str, list[bool]] = {worker: [] for worker in worker_ids}
    for worker, right in marks:
        if right is not None:
            judged[worker].append(right)
    return {
        worker: {counted: len(m)} | accuracy_summary(sum(m), len(m)) for worker, m in judged.items()
    }


def _audit_mark(agrees: bool, verdict: int | None) -> bool | None:
    """Whether an answer was right, as far as a verdict on its task's result tells: the
    result was right (so was an answer that agrees with it, no other) or it was wrong (so
    was an answer that agrees with it; a different one may or may not be right)."""
    if verdict is None:
        return None
    if verdict:
        return agrees
    return False if agrees else None


def _expected_count_interval(quality: float, answers: int) -> list[float]:
    """An approximate 95% interval of a model-based quality: the exact interval of the
    proportion, as if its expected number of right answers had been counted."""
    low, high = clopper_pearson(round(float(quality) * answers), int(answers))
    return [float(low), float(high)]


def _review_judges(verdicts: list) -> dict[tuple[str, bool], tuple[dict, int]]:
    """(task, discarded) -> (result, verdict) that judges the answers of that task: a
    rejection judges the answers it set aside (the result they made was wrong); the last
    accept or fix judges the answers the task kept (the result, or the fix, is right)."""
    judges = {}
    for v in verdicts:
        judged = orjson.loads(v.response if v.verdict == "fix" else v.result)
        if v.verdict == "reject":
            judges[(v.task_id, True)] = (judged, 0)
        else:
            judges[(v.task_id, False)] = (judged, 1)
    return judges


def _gold_mark(correct: int | None) -> bool | None:
    return None if correct is None else bool(correct)


def _project_audits(store: Store, project_id: str) -> dict[str, Any]:
    with store.read() as conn:
        found = one(conn, _PROJECT_AUDITS, {"project": project_id})
    return measured_accuracy(found.audited, int(found.correct))


def _model(store: Store, project_id: str) -> dict[str, Any] | None:
    """The worker models completions use now, if the project has any."""
    with store.read() as conn:
        found = one(conn, _MODEL, {"project": project_id})
    return None if found is None else found._asdict()


def project_quality(store: Store, project_id: str, method: str | None = None) -> dict[str, Any]:
    """Agreement (with bootstrap 95% intervals) and per-worker scores of a project.

    Every kind gets its own agreement measure and each worker's gold, audit and review
    scores; kinds whose answers are categories also get truth inference, Krippendorff's
    alpha and Fleiss' kappa with intervals, and model-based worker quality."""
    with store.read() as conn:
        kind, params = require_project(conn, project_id)
        rows = all_rows(conn, _ANSWERS, {"project": project_id})
        verdicts = all_rows(conn, _REVIEWS, {"project": project_id})
    report = {
        "project": project_id,
        "answers": len(rows),
        "tasks": len({r.task_id for r in rows}),
        "method": None,
        "agreement": None,
        "kind_agreement": _kind_agreement(kind, params, rows),
        "audits": _project_audits(store, project_id),
        "model": _model(store, project_id),
        "workers": _judged_scores(kind, params, rows, verdicts),
    }
    if rows and is_categorical(kind):
        report |= _inferred_scores(kind, params, rows, method, report["workers"])
    return report


def _kind_agreement(kind: str, params: dict, rows: list) -> dict[str, Any] | None:
    """The kind's own agreement measure over the answers each task kept."""
    by_task: dict[str, tuple[dict, list]] = {}
    for r in rows:
        if not r.discarded:
            _, kept = by_task.setdefault(r.task_id, (orjson.loads(r.task_params), []))
            kept.append(orjson.loads(r.response))
    if not by_task:
        return None
    found = agreement(kind, params, list(by_task.values()))
    return {"measure": found.measure, "value": found.value, "pairs": found.pairs}


def _judged_scores(kind: str, params: dict, rows: list, verdicts: list) -> list[dict[str, Any]]:
    """Each worker's answers and how many of them gold, audits and reviews found right."""
    judges = _review_judges(verdicts)

    def agrees(r, result: dict) -> bool:
        task_params = orjson.loads(r.task_params)
        return matches(kind, params, task_params, orjson.loads(r.response), result)

    audit_marks, review_marks = [], []
    for r in rows:
        audited = r.audit_correct is not None and r.result is not None
        audit_marks.append(
            (
                r.worker_id,
                _audit_mark(agrees(r, orjson.loads(r.result)), r.audit_correct)
                if audited
                else None,
            )
        )
        judge = judges.get((r.task_id, bool(r.discarded)))
        review_marks.append(
            (r.worker_id, None if judge is None else _audit_mark(agrees(r, judge[0]), judge[1]))
        )
    worker_ids = sorted({r.worker_id for r in rows})
    counts = Counter(r.worker_id for r in rows)
    gold = _scores(worker_ids, [(r.worker_id, _gold_mark(r.correct)) for r in rows], "answered")
    audits = _scores(worker_ids, audit_marks, "audited")
    reviews = _scores(worker_ids, review_marks, "reviewed")
    return [
        {
            "worker": worker,
            "answers": counts[worker],
            "agreement": None,
            "model_quality": None,
            "model_quality_ci95": None,
            "gold": gold[worker],
            "audits": audits[worker],
            "reviews": reviews[worker],
        }
        for worker in worker_ids
    ]


def _inferred_scores(
    kind: str, params: dict, rows: list, method: str | None, workers: list[dict]
) -> dict[str, Any]:
    """Truth inference over the answers as categories: the method, the chance-corrected
    agreement, and each worker's model-based quality and agreement with the majority."""
    answers, _, gold = encode_answers(kind, params, rows)
    method = method or default_method(answers)
    accuracy = CATEGORICAL[method]().fit(answers, gold).worker_accuracy_
    report = agreement_report(answers, samples=BOOTSTRAP_SAMPLES)
    counts = np.bincount(answers.worker, minlength=answers.n_workers)
    for i, worker in enumerate(workers):  # both in sorted worker id order
        worker["agreement"] = report["workers"][worker["worker"]]
        worker["model_quality"] = float(accuracy[i])
        worker["model_quality_ci95"] = _expected_count_interval(accuracy[i], counts[i])
    return {
        "method": method,
        "agreement": {
            "krippendorff_alpha": report["krippendorff_alpha"],
            "fleiss_kappa": report["fleiss_kappa"],
        },
    }
