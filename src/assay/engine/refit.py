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
project with `min_worker_quality` also checks its workers then (engine/removals.py).
"""

import logging
import threading
from collections import Counter

import numpy as np
import orjson

from assay.engine.quality import default_method, encode_answers
from assay.engine.removals import remove_weak_workers
from assay.ids import utc_now
from assay.kinds import is_categorical
from assay.quality import CATEGORICAL
from assay.quality.dawid_skene import SMOOTHING, confusion_matrices, shrunk_confusions
from assay.store.db import Store
from assay.store.sql import Sql, all_rows, one, run, run_many

log = logging.getLogger("assay.refit")

REFIT_MIN_ANSWERS = 20
REFIT_SHARE = 0.1

_NEW_ANSWERS = Sql(
    "SELECT t.project_id, count(*), max(n.id) FROM annotations n"
    " JOIN tasks t ON t.id = n.task_id WHERE n.id > :since GROUP BY t.project_id"
)
_LAST_FIT = Sql("SELECT max(last_answer_id) FROM project_models")
_FITTED = Sql("SELECT answers FROM project_models WHERE project_id = :project")
_PROJECT = Sql(
    "SELECT kind, params, consolidation, min_worker_quality FROM projects WHERE id = :project"
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
        kind, params, chosen, min_quality = one(conn, _PROJECT, {"project": project_id})
        rows = all_rows(conn, _ANSWERS, {"project": project_id})
    params = orjson.loads(params)
    if not rows or not is_categorical(kind):
        return None
    answers, _, gold = encode_answers(kind, params, rows)
    method = chosen or default_method(answers)
    fit = CATEGORICAL[method](answers, gold)  # before the write transaction: it may take seconds
    weights = np.bincount(answers.worker, minlength=answers.n_workers)
    if min_quality is not None:
        remove_weak_workers(
            store, project_id, min_quality, answers.workers, fit.worker_quality, weights
        )
    if method != "mv":
        confusion, average = shrunk_confusions(answers, confusion_matrices(answers, fit.posterior))
        prior = fit.posterior.sum(axis=0) + SMOOTHING
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
                "last_answer_id": rows[-1][3],
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
    """Runs refits from a daemon thread of `assay serve`."""

    def __init__(self, store: Store, interval_s: float = 2.0):
        self.store = store
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="assay-refit", daemon=True)
        self._pending: Counter[str] = Counter()
        self._since = ""

    def start(self) -> "Refitter":
        with self.store.read() as conn:
            self._since = one(conn, _LAST_FIT)[0] or ""
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def run_once(self) -> list[str]:
        """Refit the projects with enough new answers; returns their ids."""
        with self.store.read() as conn:
            arrived = all_rows(conn, _NEW_ANSWERS, {"since": self._since})
        for project, count, last in arrived:
            self._pending[project] += count
            self._since = max(self._since, last)
        refitted = []
        for project, count in list(self._pending.items()):
            with self.store.read() as conn:
                fitted = one(conn, _FITTED, {"project": project})
            if count >= max(REFIT_MIN_ANSWERS, REFIT_SHARE * (fitted[0] if fitted else 0)):
                refit_project(self.store, project)
                del self._pending[project]
                refitted.append(project)
        return refitted

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.run_once()
            except Exception:
                log.exception("refit round failed")
