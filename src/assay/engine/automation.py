"""Model in the loop, as the engine runs it (the pure parts are in `assay.automation`).

A project with `automation` settings goes through a cycle whenever its tasks or human
results change (the background `Automator`, or `run_cycle` on request):

1. Calibration sample: a random share of the tasks of each batch is drawn to be labelled
   by people whatever the model says. It is never chosen by the model, so its labels test
   the model honestly (the assumption the guarantee rests on).
2. Fit: the model learns from people's results on the other tasks (the calibration
   sample stays out of training).
3. Predict: every pending task gets the model's answer and confidence (`predictions`),
   shown to workers as the pre-label unless the task came with its own.
4. Certify: the lowest confidence threshold at which, with probability
   `confidence_level`, the model's answers reach `target_accuracy` against people's labels
   on the calibration sample (Learn-then-Test, `assay.automation.thresholds`).
5. Route: pending tasks outside the calibration sample that no one has started and whose
   prediction reaches the threshold are completed by the model (result provenance
   "model"); the rest stay with people.
6. Active learning: pending calibration tasks go first in the human queue, then the tasks
   whose labels would teach the model most (uncertain and diverse), via `tasks.boost`.

No model runs on a request path: `work/next` only reads the boost and the pre-label.
"""

import hashlib
import logging
import random
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
from sqlalchemy import Connection

from assay.automation import certify_threshold, select_for_labelling
from assay.automation.models import load_model, refit_growth
from assay.automation.models.base import ModelError, Prediction, texts_of
from assay.engine.embeddings import DatabaseEmbeddings
from assay.engine.leases import LeasedLoop
from assay.engine.work import complete_task
from assay.errors import AssayError, Conflict, FieldError, Invalid, NotFound
from assay.ids import utc_now
from assay.kinds import answer_keys, automation_refusal
from assay.outbound import STRICT, OutboundPolicy
from assay.store.db import Store
from assay.store.sql import Sql, all_rows, one, run, run_many

log = logging.getLogger(__name__)

CALIBRATION_BOOST = 2
ACTIVE_BOOST = 1
MODEL = "model"


# --- 1. the calibration sample --------------------------------------------------------

_UNDRAWN = Sql(
    "SELECT id, batch_id FROM tasks WHERE project_id = :project AND gold IS NULL"
    " AND calibration IS NULL ORDER BY id"
)
_DRAWN = Sql(
    "SELECT batch_id, count(*) AS tasks, coalesce(sum(calibration), 0) AS sampled FROM tasks"
    " WHERE project_id = :project AND gold IS NULL AND calibration IS NOT NULL"
    " GROUP BY batch_id"
)
_MARK = Sql("UPDATE tasks SET calibration = :flag WHERE id = :task")
# A calibration task asks for more answers than the project's overlap, so the reference
# the model is certified against is nearer the truth.
_MORE_ANSWERS = Sql(
    "UPDATE tasks SET target = :target,"
    " filled = CASE WHEN answers + leases >= :target THEN 1 ELSE 0 END"
    " WHERE id = :task AND status = 'pending' AND COALESCE(target, 0) < :target"
)


def draw_calibration(
    conn: Connection, project_id: str, settings: dict, overlap: int, rng: random.Random
) -> None:
    """Mark new tasks in or out of the calibration sample: within each batch, at random,
    so the sample stays `calibration_share` of the batch as tasks arrive. Those drawn get
    `calibration_overlap` answers where that is more than the project's overlap."""
    undrawn: dict[str | None, list[str]] = defaultdict(list)
    for row in all_rows(conn, _UNDRAWN, {"project": project_id}):
        undrawn[row.batch_id].append(row.id)
    drawn = {
        row.batch_id: (row.tasks, int(row.sampled))
        for row in all_rows(conn, _DRAWN, {"project": project_id})
    }
    marks = []
    for batch_id, task_ids in undrawn.items():
        seen, sampled = drawn.get(batch_id, (0, 0))
        wanted = round(settings["calibration_share"] * (seen + len(task_ids))) - sampled
        chosen = set(rng.sample(task_ids, max(0, min(wanted, len(task_ids)))))
        marks += [{"task": t, "flag": int(t in chosen)} for t in task_ids]
    run_many(conn, _MARK, marks)
    more = settings.get("calibration_overlap") or overlap
    if more > overlap:
        chosen_tasks = [{"task": m["task"], "target": more} for m in marks if m["flag"]]
        run_many(conn, _MORE_ANSWERS, chosen_tasks)


# --- 2-4. fit, predict, certify -------------------------------------------------------

_SETTINGS = Sql("SELECT kind, params, automation, overlap FROM projects WHERE id = :project")
_COMPLETED = Sql(
    "SELECT id, params, response, calibration FROM tasks WHERE project_id = :project"
    " AND status = 'completed' AND gold IS NULL AND response IS NOT NULL ORDER BY id"
)
_PENDING = Sql(
    "SELECT id, params, calibration, answers, leases, ready, hypothesis FROM tasks"
    " WHERE project_id = :project AND status = 'pending' AND gold IS NULL ORDER BY id"
)
# Gold tasks get the model's pre-label like any other, so that a worker cannot tell them
# apart by its absence; they are never routed to the model, boosted or trained on.
_PENDING_GOLD = Sql(
    "SELECT id, params FROM tasks"
    " WHERE project_id = :project AND status = 'pending' AND gold IS NOT NULL ORDER BY id"
)


@dataclass
class Cycle:
    """What one cycle found and did, for the project's report."""

    model_version: str | None = None
    training_labels: int = 0
    calibration_labelled: int = 0
    calibration_right: int = 0
    certified: dict[str, float] | None = None
    predicted: int = 0
    automated: int = 0
    raised: int = 0

    def report(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "training_labels": self.training_labels,
            "calibration": {
                "labelled": self.calibration_labelled,
                "model_right": self.calibration_right,
            },
            "certified": self.certified,
            "predicted": self.predicted,
            "automated": self.automated,
            "raised_for_people": self.raised,
        }


def is_model_result(result: dict) -> bool:
    return result.get("provenance") == MODEL


def _human_results(kind: str, params: dict, rows: list) -> tuple[list, list]:
    """(training, calibration) lists of (task id, task params, answer key) from people's
    results."""
    people = [r for r in rows if not is_model_result(orjson.loads(r.response))]
    keys = answer_keys(kind, params, [orjson.loads(r.response) for r in people])
    training, calibration = [], []
    for row, key in zip(people, keys, strict=True):
        (calibration if row.calibration else training).append(
            (row.id, orjson.loads(row.params), key)
        )
    return training, calibration


def _version(spec: dict, training: list) -> str:
    digest = hashlib.sha256(
        orjson.dumps([spec, len(training), training[-1:]], option=orjson.OPT_SORT_KEYS)
    )
    return f"{len(training)}-{digest.hexdigest()[:12]}"


def _keys_of(kind: str, params: dict, predictions: list[Prediction]) -> list[str]:
    return answer_keys(kind, params, [p.response for p in predictions])


@dataclass
class _Kept:
    """A project's model between cycles: refitted only when its labels have grown enough
    (`refit_growth`), and asked about each task once per fit (`predictions`, by task id),
    so a slow model (fine-tuned, an LLM endpoint) is not re-run on every cycle."""

    spec: bytes
    model: Any
    growth: float
    version: str | None = None
    labels: int = 0
    predictions: dict[str, Prediction] = field(default_factory=dict)

    def stale(self, version: str, labels: int) -> bool:
        """Whether to refit on `labels` training labels whose version is `version`: never
        fitted, or they changed and grew by `growth` (or shrank: results were reopened)."""
        if self.version is None:
            return True
        grown = labels >= self.labels * self.growth or labels < self.labels
        return version != self.version and grown

    def predict(self, rows: list[tuple[str, dict]]) -> list[Prediction]:
        """The model's prediction for each (task id, params), asking it only about tasks it
        has not answered since its last fit."""
        missing = [(task_id, item) for task_id, item in rows if task_id not in self.predictions]
        if missing:
            fresh = self.model.predict([item for _, item in missing])
            self.predictions.update(zip([t for t, _ in missing], fresh, strict=True))
        return [self.predictions[task_id] for task_id, _ in rows]


KEPT_MODELS = 8
"""Models a server process keeps between cycles (a fine-tuned one holds about 100 MB)."""


class ModelCache:
    """(store URL, project id) -> its `_Kept` model: at most `size`, the least recently
    used dropped first (its project refits when its turn comes again)."""

    def __init__(self, size: int):
        self.size = size
        self._kept: OrderedDict[tuple[str, str], _Kept] = OrderedDict()

    def get(self, key: tuple[str, str]) -> "_Kept | None":
        kept = self._kept.get(key)
        if kept is not None:
            self._kept.move_to_end(key)
        return kept

    def put(self, key: tuple[str, str], kept: "_Kept") -> None:
        self._kept[key] = kept
        self._kept.move_to_end(key)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)

    def __len__(self) -> int:
        return len(self._kept)


_KEPT = ModelCache(KEPT_MODELS)


def _kept_model(store: Store, project_id: str, spec: dict, outbound: OutboundPolicy) -> _Kept:
    key, encoded = (str(store.url), project_id), orjson.dumps(spec, option=orjson.OPT_SORT_KEYS)
    kept = _KEPT.get(key)
    if kept is None or kept.spec != encoded:
        model = load_model(spec, DatabaseEmbeddings(store), outbound)
        kept = _Kept(encoded, model, refit_growth(spec))
        _KEPT.put(key, kept)
    return kept


_ONE_CYCLE_AT_A_TIME = threading.Lock()


def run_cycle(
    store: Store,
    project_id: str,
    rng: random.Random | None = None,
    wait: bool = True,
    outbound: OutboundPolicy = STRICT,
) -> dict[str, Any]:
    """One model-in-the-loop cycle for the project; returns its report. Cycles of a server
    process run one at a time (the background job and a request may both start one); with
    `wait=False` a busy process answers 409 at once rather than after a minutes-long fit.
    A model endpoint is reached only where `outbound` allows. A model that cannot answer
    is a 502 `model_unavailable` that says no more than its endpoint's HTTP status (what
    went wrong goes to the server log: an error text would tell a caller what answers at
    an address, or what it answered)."""
    if not _ONE_CYCLE_AT_A_TIME.acquire(blocking=wait):
        raise Conflict(
            "automation_running", "a model-in-the-loop cycle is running; try again when it ends"
        )
    try:
        return _cycle(store, project_id, rng or random.Random(), outbound)
    except ModelError as exc:  # an endpoint down, a malformed reply: not the caller's fault
        log.warning("the model of project %s could not answer: %s", project_id, exc)
        status = {"upstream_status": exc.status} if exc.status else {}
        detail = "the project's model could not answer"
        if exc.status:
            detail += f" (its endpoint answered HTTP {exc.status})"
        raise AssayError(detail, "model_unavailable", 502, extra=status) from None
    finally:
        _ONE_CYCLE_AT_A_TIME.release()


def _cycle(
    store: Store, project_id: str, rng: random.Random, outbound: OutboundPolicy
) -> dict[str, Any]:
    with store.write() as conn:
        found = one(conn, _SETTINGS, {"project": project_id})
        if found is None:
            raise NotFound("project", project_id)
        kind, params, settings = found.kind, found.params, found.automation
        if settings is None:
            raise Invalid([FieldError("automation", "the project has no automation settings")])
        settings, params = orjson.loads(settings), orjson.loads(params)
        refusal = automation_refusal(kind, params)  # settings stored before kinds declared it
        if refusal:
            raise Invalid([FieldError("automation", refusal)])
        draw_calibration(conn, project_id, settings, found.overlap, rng)
    with store.read() as conn:
        completed = all_rows(conn, _COMPLETED, {"project": project_id})
        pending = all_rows(conn, _PENDING, {"project": project_id})
        gold = all_rows(conn, _PENDING_GOLD, {"project": project_id})
    training, calibration = _human_results(kind, params, completed)
    cycle = Cycle(training_labels=len(training), calibration_labelled=len(calibration))
    kept = _kept_model(store, project_id, settings["model"], outbound)
    trainable = hasattr(kept.model, "fit")  # plugins that only predict are used as they are
    if (
        trainable
        and kept.version is None
        and (
            len(training) < settings["min_training_labels"] or len({k for _, _, k in training}) < 2
        )
    ):
        with store.write() as conn:  # people start with the calibration sample
            _raise_for_people(conn, project_id, pending, [], cycle)
        _save_state(store, project_id, cycle, None)
        return cycle.report()
    if not trainable and kept.version is None:
        kept.version = _version(settings["model"], [])
    elif trainable and kept.stale(version := _version(settings["model"], training), len(training)):
        kept.model.fit([p for _, p, _ in training], [k for _, _, k in training])
        kept.version, kept.labels, kept.predictions = version, len(training), {}
    cycle.model_version = kept.version
    threshold = _certify(kind, params, settings, kept, calibration, cycle)
    shown = [*pending, *gold]
    items = [orjson.loads(r.params) for r in shown]
    every = kept.predict([(r.id, item) for r, item in zip(shown, items, strict=True)])
    predictions, items = every[: len(pending)], items[: len(pending)]
    cycle.predicted = len(predictions)
    labels = params["labels"]
    space = _embedding_space(kept.model, items, predictions, labels)  # before any transaction
    with store.write() as conn:
        _store_predictions(conn, project_id, kept.version, shown, every)
        done = set()
        if threshold is not None:
            done = _automate(conn, store.dialect, cycle, pending, predictions, threshold)
        if settings["active_learning"]:
            chosen = _most_informative(
                pending, predictions, space, labels, threshold, settings, done
            )
            _raise_for_people(conn, project_id, pending, chosen, cycle)
    _save_state(store, project_id, cycle, threshold)
    return cycle.report()


def _certify(kind, params, settings, kept: _Kept, calibration, cycle: Cycle) -> float | None:
    if not calibration:
        return None
    predicted = kept.predict([(task_id, item) for task_id, item, _ in calibration])
    right = [
        k == truth
        for k, (_, _, truth) in zip(_keys_of(kind, params, predicted), calibration, strict=True)
    ]
    cycle.calibration_right = int(sum(right))
    found = certify_threshold(
        [p.confidence for p in predicted],
        right,
        settings["target_accuracy"],
        settings["confidence_level"],
    )
    if found is None:
        return None
    cycle.certified = {
        "threshold": found.threshold,
        "calibration_above": found.count,
        "accuracy_above": found.accuracy,
        "lower_bound": found.lower_bound,
    }
    return found.threshold


# --- storing predictions, routing, active learning ------------------------------------

_KNOWN = Sql("SELECT task_id, response, model_version FROM predictions WHERE project_id = :project")
_FORGET = Sql("DELETE FROM predictions WHERE task_id = :task")
_PREDICTION = Sql(
    "INSERT INTO predictions (task_id, project_id, model_version, response, confidence,"
    " created_at) VALUES (:task, :project, :version, :response, :confidence, :now)"
)
# A task's own pre-label (given by the client) is kept; the model's is replaced.
_PRELABEL = Sql(
    "UPDATE tasks SET hypothesis = :new WHERE id = :task"
    " AND (hypothesis IS NULL OR hypothesis = :old)"
)


def _store_predictions(
    conn: Connection, project_id: str, version: str, pending: list, predictions: list
) -> None:
    """Store each pending task's prediction and make it the pre-label; those already
    stored by this model version are left as they are."""
    known = {
        r.task_id: (r.response, r.model_version)
        for r in all_rows(conn, _KNOWN, {"project": project_id})
    }
    now = utc_now()
    rows, prelabels = [], []
    for row, prediction in zip(pending, predictions, strict=True):
        old, old_version = known.get(row.id, (None, None))
        if old_version == version:
            continue
        response = orjson.dumps(prediction.response).decode()
        rows.append(
            {
                "task": row.id,
                "project": project_id,
                "version": version,
                "response": response,
                "confidence": prediction.confidence,
                "now": now,
            }
        )
        prelabels.append({"task": row.id, "new": response, "old": old or response})
    run_many(conn, _FORGET, [{"task": r["task"]} for r in rows])
    run_many(conn, _PREDICTION, rows)
    run_many(conn, _PRELABEL, prelabels)


_UNTOUCHED = (
    "SELECT t.id AS task_id, t.batch_id, t.callback_url AS task_url,"
    " b.callback_url AS batch_url, p.callback_url AS project_url FROM tasks t"
    " JOIN projects p ON p.id = t.project_id LEFT JOIN batches b ON b.id = t.batch_id"
    " WHERE t.id = :task AND t.status = 'pending' AND t.answers = 0 AND t.leases = 0"
    " AND t.ready = 1"
)
_UNTOUCHED_TASK = {"sqlite": Sql(_UNTOUCHED), "postgresql": Sql(_UNTOUCHED + " FOR UPDATE OF t")}


def _automate(
    conn: Connection, dialect: str, cycle: Cycle, pending: list, predictions: list, threshold: float
) -> set[str]:
    """Complete with the model's answer the tasks it is sure enough of and no one has
    started (outside the calibration sample); returns their ids."""
    now = utc_now()
    done = set()
    for row, prediction in zip(pending, predictions, strict=True):
        if row.calibration != 0 or prediction.confidence < threshold:
            continue
        found = one(conn, _UNTOUCHED_TASK[dialect], {"task": row.id})
        if found is None:
            continue
        ctx = found._asdict()
        result = prediction.response | {
            "confidence": prediction.confidence,
            "provenance": MODEL,
            "model_version": cycle.model_version,
            "annotations": 0,
        }
        complete_task(conn, ctx, result, now)
        cycle.automated += 1
        done.add(row.id)
    return done


_CLEAR_BOOST = Sql(
    "UPDATE tasks SET boost = 0 WHERE project_id = :project AND status = 'pending' AND boost <> 0"
)
_BOOST = Sql("UPDATE tasks SET boost = :boost WHERE id = :task")


def _probabilities(predictions: list[Prediction], labels: list[str]) -> np.ndarray:
    """[n, k] class probabilities; a plugin that gives only a confidence counts as sure of
    its answer by that much and spread evenly over the rest."""
    rows = []
    for p in predictions:
        if p.probabilities:
            rows.append([p.probabilities.get(label, 0.0) for label in labels])
        else:
            rest = (1 - p.confidence) / max(len(labels) - 1, 1)
            rows.append(
                [p.confidence if p.response.get("label") == label else rest for label in labels]
            )
    return np.asarray(rows, dtype=float)


def _embedding_space(model, items: list, predictions: list, labels: list[str]) -> np.ndarray:
    """Where items lie for the diversity of active learning: the model's own embeddings
    when it has them (the text classifier), else its class probabilities."""
    embed, fields = getattr(model, "embed", None), getattr(model, "fields", None)
    if embed is not None and fields and items:
        return embed(texts_of(items, fields))
    return _probabilities(predictions, labels)


def _most_informative(
    pending, predictions, space, labels, threshold, settings, done: set[str]
) -> list[int]:
    """Rows of `pending` whose labels would teach the model most: not in the calibration
    sample, not started, not `done` by the model, below the threshold; uncertain and
    spread out."""
    candidates = [
        i
        for i, (row, p) in enumerate(zip(pending, predictions, strict=True))
        if row.calibration == 0
        and row.answers == 0
        and row.id not in done
        and (threshold is None or p.confidence < threshold)
    ]
    if not candidates:
        return []
    probabilities = _probabilities([predictions[i] for i in candidates], labels)
    chosen = select_for_labelling(space[candidates], probabilities, settings["batch_size"])
    return [candidates[j] for j in chosen]


def _raise_for_people(conn, project_id: str, pending: list, chosen: list[int], cycle: Cycle):
    """Pending calibration tasks first in people's queue (started ones too: with overlap
    they still need answers), then the chosen ones."""
    run(conn, _CLEAR_BOOST, {"project": project_id})
    boosts = [{"task": r.id, "boost": CALIBRATION_BOOST} for r in pending if r.calibration == 1]
    boosts += [{"task": pending[i].id, "boost": ACTIVE_BOOST} for i in chosen]
    run_many(conn, _BOOST, boosts)
    cycle.raised = len(boosts)


_FORGET_STATE = Sql("DELETE FROM automation_state WHERE project_id = :project")
_STATE = Sql(
    "INSERT INTO automation_state (project_id, model_version, fitted_at, threshold, report)"
    " VALUES (:project, :version, :now, :threshold, :report)"
)


def _save_state(store: Store, project_id: str, cycle: Cycle, threshold: float | None) -> None:
    with store.write() as conn:
        run(conn, _FORGET_STATE, {"project": project_id})
        run(
            conn,
            _STATE,
            {
                "project": project_id,
                "version": cycle.model_version or "",
                "now": utc_now(),
                "threshold": threshold,
                "report": orjson.dumps(cycle.report()).decode(),
            },
        )


# --- the background job ---------------------------------------------------------------

_AUTOMATED = Sql("SELECT id FROM projects WHERE automation IS NOT NULL ORDER BY id")
_FINGERPRINT = Sql(
    "SELECT count(*) AS tasks, coalesce(sum(answers), 0) AS answers,"
    " coalesce(sum(CASE WHEN status = 'completed' THEN 1 ELSE 0 END), 0) AS completed"
    " FROM tasks WHERE project_id = :project"
)
RETRY_CAP_S = 600.0


def retry_delay(failures: int, base_s: float, cap_s: float = RETRY_CAP_S) -> float:
    """Seconds before a project whose cycle failed `failures` times in a row is tried
    again: `base_s`, doubling with each failure, at most `cap_s`."""
    return min(cap_s, base_s * 2 ** min(failures - 1, 32))


class Automator:
    """Runs model-in-the-loop cycles in the background, in one process of the deployment
    (the holder of the "automation" lease, engine/leases.py): for each automated project
    whose tasks or answers changed since its last cycle. A project whose cycle fails (its
    model endpoint is down) waits `retry_delay` before the next try, not a round."""

    def __init__(
        self,
        store: Store,
        interval_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        outbound: OutboundPolicy = STRICT,
    ):
        self.store = store
        self.outbound = outbound
        self.interval_s = interval_s
        self.clock = clock
        self._seen: dict[str, tuple] = {}
        self._failing: dict[str, tuple[int, float]] = {}
        """project id -> (failures in a row, clock time before which it is not tried)"""
        self._loop = LeasedLoop(store, "automation", self.run_once, interval_s)

    def start(self) -> "Automator":
        self._loop.start()
        return self

    def stop(self) -> None:
        self._loop.stop(timeout_s=60)

    def _fingerprint(self, project_id: str) -> tuple:
        with self.store.read() as conn:
            return tuple(one(conn, _FINGERPRINT, {"project": project_id}))

    def run_once(self) -> list[str]:
        """Run a cycle for each automated project that changed and is not waiting out a
        failure; returns the ids of those whose cycle ran through."""
        with self.store.read() as conn:
            projects = [row.id for row in all_rows(conn, _AUTOMATED, {})]
        ran = []
        for project_id in projects:
            failures, not_before = self._failing.get(project_id, (0, 0.0))
            if self.clock() < not_before:
                continue
            if self._fingerprint(project_id) == self._seen.get(project_id):
                continue
            try:
                run_cycle(self.store, project_id, outbound=self.outbound)
            except Exception as exc:
                delay = retry_delay(failures + 1, self.interval_s)
                self._failing[project_id] = (failures + 1, self.clock() + delay)
                log.warning(
                    "automation of project %s failed (%d in a row), next try in %.0f s: %s",
                    project_id,
                    failures + 1,
                    delay,
                    exc,
                    exc_info=not isinstance(exc, AssayError),
                )
                continue
            self._failing.pop(project_id, None)
            self._seen[project_id] = self._fingerprint(project_id)
            ran.append(project_id)
        return ran
