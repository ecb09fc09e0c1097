"""A task's result from its answers: the kind's own vote, or the project's worker models.

Once the background refit (engine/refit.py) has stored worker models for the project, a
task's posterior over answer keys is the class prior times the confusion-matrix entries
of its answers (`assay.quality.adaptive.task_posterior`), computed from this task's own
answers: no refit on the request path, so submits stay fast however big the project.
Workers who joined since the fit count with the project's average confusion. Until there
is a model (or when an answer has a key the model never saw) the kind consolidates.

With model in the loop, the project model's prediction for the task joins the posterior
as one more vote, weighted by how often the model agreed with people on the calibration
sample. The result is the answer whose key is most probable among the keys the task's
workers gave, with that posterior as its `confidence`.
"""

from typing import Any

import numpy as np
import orjson
from sqlalchemy import Connection

from assay.kinds import answer_keys, consolidate, is_categorical
from assay.quality.adaptive import task_posterior
from assay.store.sql import Sql, all_rows, one

_ANSWERS = Sql(
    "SELECT n.response, m.confusion FROM annotations n"
    " LEFT JOIN worker_models m ON m.project_id = :project AND m.worker_id = n.worker_id"
    " WHERE n.task_id = :task AND n.discarded IS NULL ORDER BY n.id"
)
_MODEL = Sql(
    "SELECT labels, prior, default_confusion FROM project_models WHERE project_id = :project"
)


# Calibration tasks are left to people alone: their labels test the model, so it must
# not have had a say in them.
_PREDICTION = Sql(
    "SELECT p.response, s.report FROM predictions p"
    " JOIN automation_state s ON s.project_id = p.project_id"
    " JOIN tasks t ON t.id = p.task_id"
    " WHERE p.task_id = :task AND t.calibration = 0"
)


def _machine_vote(
    conn: Connection, kind: str, params: dict, task_id: str, index: dict[str, int]
) -> tuple[list, int] | None:
    """(confusion matrix, label index) of the project model's prediction for the task: a
    worker right as often as the model agreed with people on the calibration sample
    (smoothed), wrong evenly otherwise. None without a prediction, and for tasks of the
    calibration sample."""
    found = one(conn, _PREDICTION, {"task": task_id})
    if found is None:
        return None
    (key,) = answer_keys(kind, params, [orjson.loads(found.response)])
    calibration = orjson.loads(found.report)["calibration"]
    if key not in index or len(index) < 2:
        return None
    right = (calibration["model_right"] + 1) / (calibration["labelled"] + 2)
    wrong = (1 - right) / (len(index) - 1)
    matrix = [[right if t == a else wrong for a in range(len(index))] for t in range(len(index))]
    return matrix, index[key]


def task_result(
    conn: Connection, project_id: str, kind: str, params: dict, task_params: dict, task_id: str
) -> dict[str, Any]:
    """The task's result now: the consolidated answer with a `confidence` in [0, 1]."""
    rows = all_rows(conn, _ANSWERS, {"project": project_id, "task": task_id})
    answers = [orjson.loads(r.response) for r in rows]
    model = None if not is_categorical(kind) else one(conn, _MODEL, {"project": project_id})
    keys = [] if model is None else answer_keys(kind, params, answers)
    if model is None or not set(keys) <= set(labels := orjson.loads(model.labels)):
        return consolidate(kind, params, task_params, answers)
    index = {label: i for i, label in enumerate(labels)}
    fallback = orjson.loads(model.default_confusion)
    confusion = [orjson.loads(r.confusion) if r.confusion else fallback for r in rows]
    votes = [index[k] for k in keys]
    machine = _machine_vote(conn, kind, params, task_id, index)
    if machine is not None:  # the model's answer: one more vote, as good as it measured
        matrix, vote = machine
        confusion.append(matrix)
        votes.append(vote)
    posterior = task_posterior(
        np.array(orjson.loads(model.prior)),
        np.array(confusion),
        np.arange(len(votes)),
        np.array(votes),
    )
    best = max(range(len(keys)), key=lambda i: (posterior[index[keys[i]]], -i))
    return answers[best] | {"confidence": float(posterior[index[keys[best]]])}
