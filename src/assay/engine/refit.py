"""Background refits of each project's worker models.

Every few seconds a refitter looks at the answers that arrived since it last looked (ids
are time-ordered, so that is an index range scan), and refits a project once it has
enough new ones: REFIT_MIN_ANSWERS, or a REFIT_SHARE of the answers its models were fitted
on, whichever is more. A refit reads all of the project's answers, runs its truth
inference (`consolidation`, or by default Dawid-Skene once there are enough overlapping
answers), derives each worker's confusion matrix from the posteriors (shrunk toward the average
worker's, so a worker seen a few times is not trusted blindly), and replaces the
stored models in one transaction. Completions then read those models (see
engine/consolidation.py). Majority vote needs no model: such projects keep none. A
project with `min_worker_quality` or spam rules (`fraud`) also checks its workers then
(engine/removals.py).
"""

from collections import Counter

import numpy as np
import orjson

from assay.engine.leases import LeasedLoop
from assay.engine.quality import default_method, encode_answers
from assay.engine.removals import remove_spammers, remove_weak_workers
from assay.ids import utc_now
from assay.kinds import is_categorical
from assay.quality import CATEGORICAL
from assay.quality.dawid_skene import SMOOTHING, confusion_matrices, shrunk_confusions
from assay.store.db import Store
from assay.store.sql import Sql, all_rows, one, run, run_many, scalar

REFIT_MIN_ANSWERS = 20
REFIT_SHARE = 0.1

_NEW_ANSWERS = Sql(
    "SELECT t.project_id, count(*) AS answers, max(n.id) AS last_id FROM annotations n"
    " JOIN tasks t ON t.id = n.task_id WHERE n.id > :since GROUP BY t.project_id"
)
_LAST_FIT = Sql("SELECT max(last_answer_id) AS last_id FROM project_models")
_FITTED = Sql("SELECT answers FROM project_models WHERE project_id = :project")
_PROJECT = Sql(
    "SELECT kind, params, consolidation, min_worker_quality, fraud FROM projects"
    " WHERE id = :project"
)
_ANSWERS = Sql(
    "SELECT n.task_id, n.worker_id, n.response, n.id, t.gold FROM annotations n"
    " JOIN tasks t ON t.id = n.task_id WHERE t.project_id = :project ORDER BY n.id"
)
_FORGET_PROJECT = Sql("DELETE FROM project_models WHERE project_id = :project")
_FORGET_WORKERS = Sql("DELETE FROM worker_models WHERE project_id = :project")
_SAVE_PROJECT = Sql(
    "INSERT INTO project_models (project_id, method, labels, prior, default_confusion,"
    " answers, last_answer_id, fitted_at) VALUES (:project, :method, :labels, :prior,"
    " :default_confusion, :answers, :last_answer_id, :now)"
)
_SAVE_WORKER = Sql(
    "INSERT INTO worker_models (project_id, worker_id, confusion)"
    " VALUES (:project, :worker, :confusion)"
)


def refit_project(store: Store, project_id: str) -> str | None:
    """Refit and store the project's worker models; returns the method (None: no model)."""
    with store.read() as conn:
        project = one(conn, _PROJECT, {"project": project_id})
        rows = all_rows(conn, _ANSWERS, {"project": project_id})
    params = orjson.loads(project.params)
    categorical = bool(rows) and is_categorical(project.kind)
    if categorical:
        answers, keys, gold = encode_answers(project.kind, params, rows)
    if project.fraud:
        labelled = list(zip([r.worker_id for r in rows], keys, strict=True)) if categorical else []
        remove_spammers(store, project_id, orjson.loads(project.fraud), labelled)
    if not categorical:
        return None
    method = project.consolidation or default_method(answers)
    # before the write transaction: it may take seconds
    fit = CATEGORICAL[method]().fit(answers, gold)
    weights = np.bincount(answers.worker, minlength=answers.n_workers)
    if project.min_worker_quality is not None:
        remove_weak_workers(
            store,
            project_id,
            project.min_worker_quality,
            answers.workers,
            fit.worker_accuracy_,
            weights,
        )
    if method != "mv":
        confusion, average = shrunk_confusions(answers, confusion_matrices(answers, fit.posterior_))
        prior = fit.posterior_.sum(axis=0) + SMOOTHING
    with store.write() as conn:
        run(conn, _FORGET_WORKERS, {"project": project_id})
        run(conn, _FORGET_PROJECT, {"project": project_id})
        if method == "mv":
            return None
        run(
            conn,
            _SAVE_PROJECT,
            {
                "project": project_id,
                "method": method,
                "labels": orjson.dumps(list(answers.labels)).decode(),
                "prior": orjson.dumps((prior / prior.sum()).tolist()).decode(),
                "default_confusion": orjson.dumps(average.tolist()).decode(),
                "answers": len(rows),
                "last_answer_id": rows[-1].id,
                "now": utc_now(),
            },
        )
        run_many(
            conn,
            _SAVE_WORKER,
            [
                {"project": project_id, "worker": w, "confusion": orjson.dumps(c.tolist()).decode()}
                for w, c in zip(answers.workers, confusion, strict=True)
            ],
        )
    return method


class Refitter:
    """Runs refits in the background, in one process of the deployment (the holder of
    the "refit" lease, engine/leases.py). A process that takes the lease over counts new
    answers from its own start, so it may refit a project once early."""

    def __init__(self, store: Store, interval_s: float = 2.0):
        self.store = store
        self._pending: Counter[str] = Counter()
        self._since = ""
        self._loop = LeasedLoop(store, "refit", self.run_once, interval_s)

    def start(self) -> "Refitter":
        with self.store.read() as conn:
            self._since = scalar(conn, _LAST_FIT) or ""
        self._loop.start()
        return self

    def stop(self) -> None:
        self._loop.stop(timeout_s=30)

    def run_once(self) -> list[str]:
        """Refit the projects with enough new answers; returns their ids."""
        with self.store.read() as conn:
            arrived = all_rows(conn, _NEW_ANSWERS, {"since": self._since})
        for row in arrived:
            self._pending[row.project_id] += row.answers
            self._since = max(self._since, row.last_id)
        refitted = []
        for project, count in list(self._pending.items()):
            with self.store.read() as conn:
                fitted = scalar(conn, _FITTED, {"project": project})
            if count >= max(REFIT_MIN_ANSWERS, REFIT_SHARE * (fitted or 0)):
                refit_project(self.store, project)
                del self._pending[project]
                refitted.append(project)
        return refitted
