"""Model in the loop on real crowd answers: how much the model takes, and how right it is.

Replays a crowd dataset (`items.csv`, `answers.csv`, `truth.csv`, e.g.
../shared/data/crowd/sentiment) through the real engine, in process, on a temporary SQLite
store:

  * the project: categorization over the dataset's labels, `--overlap` answers per task,
    no gold, automation {model: text_classifier over every text column of items.csv
    (`--model`: MiniLM fine-tuned, the default, or logistic regression on its embeddings),
    target_accuracy: T, confidence_level: 0.95, calibration_share, calibration_overlap:
    `--calibration-overlap` answers per calibration task, ...};
  * people: the crowd asks `work.next_assignment` for work (the engine picks the task:
    its queue order with the calibration sample and the active-learning boosts first).
    Each request is answered with one real answer to that task from answers.csv, drawn at
    random without replacement, and recorded under the real worker who gave it (the
    replay hands the lease to that worker's key before submitting), so the engine's
    worker models see the real workers. A task with no unused answer left is skipped;
  * the model: `automation.run_cycle` at the start, every `--cycle-every` human answers,
    and whenever no worker can take a task, until no task is left to anyone. The worker
    models the server's background refitter keeps (Dawid-Skene) are refitted before each
    cycle, as `assay serve` would (`--no-refit`: plain majority vote);
  * truth.csv is read only to score what was delivered.

In the same run, a baseline in the manner of SageMaker Ground Truth's automated labelling
(on a fresh store, same replay): people label a fixed random validation set
(`--calibration-share` of the tasks, `--calibration-overlap` answers each, like assay's
calibration sample) and a random training set of the same size; the same
text classifier is trained once on the training set; one threshold is chosen, the lowest
confidence at which its accuracy on the validation set (against people's consolidated
labels) is at least `--baseline-target` (0.95), with no confidence bound; every other task
at or above it is labelled by the model, the rest by people. No active learning.

Figures, per target and for the baseline:
  automated_share   tasks completed by the model / all tasks
  human_answers     real answers used (what people were paid for)
  accuracy          delivered results (model's and people's) right against truth, with its
                    Clopper-Pearson 95 % interval (accuracy_ci)
  automated_accuracy  the same over the model-completed tasks only
  target_held       automated_accuracy >= target: the model's delivered answers reach the
                    accuracy asked for (true when the model completed no task: nothing it
                    delivered fell short)

The guarantee the engine gives is certified against people's consolidated labels on the
calibration sample, not against truth: it transfers to truth only as far as those labels
are right (people_accuracy shows how right they were here). target_held checks it against
truth anyway, because that is what a customer gets.

Usage:
    python bench/hybrid.py [--data DIR] [--target 0.90 0.95 0.99] [--overlap 3]
        [--calibration-share 0.1] [--calibration-overlap 5]
        [--model fine_tune|logistic_regression] [--seed 0] [--limit N] [--json] [--out FILE]
"""

import argparse
import csv
import random
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from rich.console import Console
from rich.table import Table

from assay.automation.models import cache_key, embed_texts, load_model
from assay.automation.models.base import texts_of
from assay.automation.models.embeddings import MINILM
from assay.engine.automation import is_model_result, run_cycle
from assay.engine.embeddings import DatabaseEmbeddings
from assay.engine.imports import import_tasks
from assay.engine.keys import authenticate, create_key
from assay.engine.projects import create_project, update_project
from assay.engine.refit import refit_project
from assay.engine.work import next_assignment, skip, submit
from assay.engine.workers import Worker, working
from assay.quality.intervals import clopper_pearson
from assay.store.db import Store, database_url
from assay.store.migrate import migrate
from assay.store.sql import Sql, all_rows, run
from assay.store.tables import embeddings

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared/data/crowd/sentiment"
DEFAULT_TARGETS = (0.90, 0.95, 0.99)
GUARANTEE = (
    "certified against people's consolidated labels on the calibration sample; it holds"
    " against truth only as far as those labels are right"
)
TARGET_HELD = "accuracy of the model-completed tasks against truth >= target"

progress = Console(stderr=True, width=200)


# --- the dataset -----------------------------------------------------------------------


@dataclass
class Dataset:
    name: str
    fields: list[str]
    """The text columns of items.csv: each a field of the task's params."""
    params: dict[str, dict[str, str]]
    """Task name -> params, in the order of items.csv."""
    answers: dict[str, list[tuple[str, str]]]
    """Task name -> its real answers as (worker, label)."""
    truth: dict[str, str]
    labels: list[str]


def _label_order(label: str) -> tuple:
    return (0, int(label), "") if label.lstrip("-").isdigit() else (1, 0, label)


def load(data: Path, limit: int | None) -> Dataset:
    with open(data / "items.csv", newline="") as f:
        reader = csv.DictReader(f)
        fields = [c for c in reader.fieldnames or [] if c != "task"]
        if not fields:
            raise SystemExit(f"{data / 'items.csv'} has no text column besides `task`")
        params = {row["task"]: {c: row[c] for c in fields} for row in reader}
    if limit is not None:
        params = dict(list(params.items())[:limit])
    answers: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with open(data / "answers.csv", newline="") as f:
        for row in csv.DictReader(f):
            if row["task"] in params:
                answers[row["task"]].append((row["worker"], row["label"]))
    with open(data / "truth.csv", newline="") as f:
        truth = {r["task"]: r["label"] for r in csv.DictReader(f) if r["task"] in params}
    every = {label for given in answers.values() for _, label in given} | set(truth.values())
    return Dataset(
        data.name,
        fields,
        params,
        dict(answers),
        truth,
        sorted(every, key=_label_order),
    )


def embed_dataset(dataset: Dataset) -> dict[str, np.ndarray]:
    """MiniLM vectors of every task's text, keyed as the engine's embeddings table keys
    them: computed once per run, copied into each store."""
    texts = list(dict.fromkeys(texts_of(list(dataset.params.values()), dataset.fields)))
    vectors = embed_texts(texts)
    return {cache_key(MINILM, t): v for t, v in zip(texts, vectors, strict=True)}


# --- one replay on a fresh store ---------------------------------------------------------

_NAMES = Sql("SELECT id, unique_id FROM tasks WHERE project_id = :project")
_TASKS = Sql(
    "SELECT unique_id, status, response, calibration FROM tasks WHERE project_id = :project"
)


_HAND_OVER = Sql("UPDATE assignments SET worker_id = :worker WHERE id = :assignment")


@dataclass
class Replay:
    """A project on a temporary store, the real workers' keys and the unused real answers."""

    dataset: Dataset
    args: argparse.Namespace
    automation: dict[str, Any] | None
    rng: random.Random
    store: Store = field(init=False)
    project: str = field(init=False)
    crowd: Worker = field(init=False)
    """Who asks the engine for work: the crowd at large, before the answer's worker is known."""
    workers: dict[str, Worker] = field(default_factory=dict)
    """The dataset's worker id -> that worker's key in the store."""
    unused: dict[str, list[tuple[str, str]]] = field(init=False)
    names: dict[str, str] = field(default_factory=dict)
    """Task id -> the dataset's task name."""
    human_answers: int = 0
    cycles: list[dict[str, Any]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def __post_init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="assay-hybrid-")
        self.store = Store(database_url(self._dir.name))
        migrate(self.store)
        self.project = create_project(
            self.store,
            {
                "name": f"hybrid {self.dataset.name}",
                "kind": "categorization",
                "params": {"labels": self.dataset.labels},
                "overlap": self.args.overlap,
                "gold_rate": 0,
                "automation": self.automation,
            },
        )["id"]
        self.crowd = self._key("the crowd")
        # The same order of real answers in every replay of a run, whatever it automates.
        draw = random.Random(f"{self.args.seed}-answers")
        self.unused = {}
        for task, given in self.dataset.answers.items():
            shuffled = list(given)
            draw.shuffle(shuffled)
            self.unused[task] = shuffled

    def _key(self, name: str) -> Worker:
        principal = authenticate(self.store, create_key(self.store, "annotator", name)["key"])
        assert principal is not None
        return working(principal)

    def close(self) -> None:
        self.store.close()
        self._dir.cleanup()

    def add_embeddings(self, vectors: dict[str, np.ndarray]) -> None:
        rows = [
            {"key": k, "vector": np.asarray(v, np.float32).tobytes()} for k, v in vectors.items()
        ]
        with self.store.write() as conn:
            conn.execute(embeddings.insert(), rows)

    def add_tasks(self, names: list[str]) -> None:
        body = b"\n".join(
            orjson.dumps({"params": self.dataset.params[n], "unique_id": n}) for n in names
        )
        imported = import_tasks(self.store, self.project, None, body)
        if imported["rejected"]:
            raise RuntimeError(f"tasks rejected: {imported['errors'][:3]}")
        with self.store.read() as conn:
            self.names = dict(all_rows(conn, _NAMES, {"project": self.project}))

    def cycle(self) -> None:
        """The server's background work: refit the worker models, then (with automation)
        one model-in-the-loop cycle."""
        began = time.perf_counter()
        if self.args.refit:
            refit_project(self.store, self.project)
        self.seconds["refit"] += time.perf_counter() - began
        if self.automation is None:
            return
        began = time.perf_counter()
        report = run_cycle(self.store, self.project, self.rng)
        self.seconds["cycles"] += time.perf_counter() - began
        self.cycles.append(report | {"human_answers": self.human_answers})
        certified = report["certified"] or {}
        progress.print(
            f"  cycle {len(self.cycles):3d}: {self.human_answers:6d} answers, "
            f"{report['training_labels']:5d} training + {report['calibration']['labelled']:4d}"
            f" calibration labels, model {report['model_version']}, threshold"
            f" {certified.get('threshold', '-')!s:.6}, automated {report['automated']}",
            highlight=False,
        )

    def answer(self, offered: dict[str, Any]) -> bool:
        """Answer an offer with an unused real answer to its task, as the worker who gave
        it; False (and the offer skipped) when the task has none left."""
        left = self.unused.get(self.names[offered["task"]["id"]], [])
        if not left:
            skip(self.store, self.crowd, offered["id"])
            return False
        real, label = left.pop()
        if real not in self.workers:
            self.workers[real] = self._key(real)
        worker = self.workers[real]
        with self.store.write() as conn:
            run(conn, _HAND_OVER, {"worker": worker.id, "assignment": offered["id"]})
        submit(self.store, worker, offered["id"], {"label": label}, None)
        self.human_answers += 1
        return True

    def label(self) -> None:
        """People answer until the engine has no task left to offer, with the server's
        background work (`cycle`) every `cycle_every` answers and when they run out."""
        if self.automation is not None:
            self.cycle()
        since_cycle = 0
        pick = random.Random(self.rng.random())
        began = time.perf_counter()
        while True:
            offered = next_assignment(self.store, self.crowd, self.project, pick)
            if offered is None:
                if since_cycle:  # the last answers may let the model (or the refit) go on
                    self.seconds["people"] += time.perf_counter() - began
                    self.cycle()
                    began = time.perf_counter()
                    since_cycle = 0
                    continue
                break
            if not self.answer(offered):
                continue
            since_cycle += 1
            if since_cycle >= self.args.cycle_every:
                self.seconds["people"] += time.perf_counter() - began
                self.cycle()
                began = time.perf_counter()
                since_cycle = 0
        self.seconds["people"] += time.perf_counter() - began

    def delivered(self) -> dict[str, tuple[str | None, str]]:
        """Task name -> (delivered label or None, who: "model", "people" or "nobody")."""
        with self.store.read() as conn:
            rows = all_rows(conn, _TASKS, {"project": self.project})
        out = {}
        for name, status, response, _ in rows:
            if status != "completed" or response is None:
                out[name] = (None, "nobody")
                continue
            result = orjson.loads(response)
            out[name] = (result.get("label"), "model" if is_model_result(result) else "people")
        return out


# --- scoring ---------------------------------------------------------------------------


def _share(right: int, n: int) -> tuple[float | None, list[float] | None]:
    if n == 0:
        return None, None
    low, high = clopper_pearson(right, n)
    return right / n, [round(float(low), 4), round(float(high), 4)]


def score(
    dataset: Dataset, delivered: dict[str, tuple[str | None, str]], target: float
) -> dict[str, Any]:
    by: dict[str, list[bool]] = defaultdict(list)
    for name, (label, who) in delivered.items():
        by[who].append(label == dataset.truth.get(name))
    done = by["model"] + by["people"]
    accuracy, accuracy_ci = _share(sum(done), len(done))
    automated_accuracy, automated_ci = _share(sum(by["model"]), len(by["model"]))
    people_accuracy, people_ci = _share(sum(by["people"]), len(by["people"]))
    return {
        "target": target,
        "tasks": len(delivered),
        "automated": len(by["model"]),
        "by_people": len(by["people"]),
        "undelivered": len(by["nobody"]),
        "automated_share": len(by["model"]) / len(delivered) if delivered else 0.0,
        "accuracy": accuracy,
        "accuracy_ci": accuracy_ci,
        "automated_accuracy": automated_accuracy,
        "automated_accuracy_ci": automated_ci,
        "people_accuracy": people_accuracy,
        "people_accuracy_ci": people_ci,
        "target_held": automated_accuracy is None or automated_accuracy >= target,
    }


# --- model in the loop -------------------------------------------------------------------


def model_spec(dataset: Dataset, args) -> dict[str, Any]:
    """The text classifier both runs use, over every text column of items.csv."""
    return {
        "type": "text_classifier",
        "labels": dataset.labels,
        "fields": dataset.fields,
        "method": args.model,
    }


def hybrid(dataset: Dataset, vectors: dict, target: float, args) -> dict[str, Any]:
    began = time.perf_counter()
    automation = {
        "model": model_spec(dataset, args),
        "calibration_overlap": args.calibration_overlap,
        "target_accuracy": target,
        "confidence_level": args.confidence_level,
        "calibration_share": args.calibration_share,
        "min_training_labels": args.min_training_labels,
        "batch_size": args.batch_size or max(1, args.cycle_every // args.overlap),
    }
    replay = Replay(dataset, args, automation, random.Random(f"{args.seed}-hybrid"))
    try:
        replay.add_embeddings(vectors)
        replay.add_tasks(list(dataset.params))
        replay.label()
        figures = score(dataset, replay.delivered(), target)
        with replay.store.read() as conn:
            calibration = [
                name
                for name, _, _, drawn in all_rows(conn, _TASKS, {"project": replay.project})
                if drawn
            ]
        last = replay.cycles[-1] if replay.cycles else {}
        certified = [c["certified"] for c in replay.cycles if c["certified"]]
        return figures | {
            "human_answers": replay.human_answers,
            "calibration_tasks": len(calibration),
            "cycles": len(replay.cycles),
            "last_certified": last.get("certified"),
            "last_calibration": last.get("calibration"),
            "first_certified_at_answers": next(
                (c["human_answers"] for c in replay.cycles if c["certified"]), None
            ),
            "thresholds": [round(c["threshold"], 4) for c in certified],
            "seconds": round(time.perf_counter() - began, 1),
            "seconds_by_part": {k: round(v, 1) for k, v in replay.seconds.items()},
        }
    finally:
        replay.close()


# --- the Ground-Truth-style baseline -------------------------------------------------------


def lowest_threshold(confidences: np.ndarray, right: np.ndarray, target: float) -> float | None:
    """The lowest confidence t at which the items with confidence >= t are right at least
    `target` of the time (no confidence bound), None if there is none."""
    order = np.argsort(-confidences, kind="stable")
    conf, hits = confidences[order], right[order]
    accuracy = np.cumsum(hits) / np.arange(1, conf.size + 1)
    last_of_value = np.append(conf[1:] != conf[:-1], True)
    ok = np.flatnonzero(last_of_value & (accuracy >= target))
    return float(conf[ok[-1]]) if ok.size else None


def baseline(dataset: Dataset, vectors: dict, args) -> dict[str, Any]:
    began = time.perf_counter()
    rng = random.Random(f"{args.seed}-baseline")
    names = list(dataset.params)
    shuffled = rng.sample(names, len(names))
    size = max(1, round(args.calibration_share * len(names)))
    validation = shuffled[:size]
    training = shuffled[size : size + round(args.baseline_training_share * len(names))]
    replay = Replay(dataset, args, None, rng)
    try:
        replay.add_embeddings(vectors)
        progress.print(
            f"  baseline: people label {len(validation)} validation + {len(training)} training"
            " tasks",
            highlight=False,
        )
        # The validation set gets as many answers as assay's calibration sample, so the two
        # are checked against equally good references.
        update_project(replay.store, replay.project, {"overlap": args.calibration_overlap})
        replay.add_tasks(validation)
        replay.label()
        update_project(replay.store, replay.project, {"overlap": args.overlap})
        replay.add_tasks(training)
        replay.label()
        people = replay.delivered()
        model = load_model(model_spec(dataset, args), DatabaseEmbeddings(replay.store))
        taught = [n for n in training if people[n][0] is not None]
        model.fit([dataset.params[n] for n in taught], [people[n][0] for n in taught])
        checked = [n for n in validation if people[n][0] is not None]
        predicted = model.predict([dataset.params[n] for n in checked])
        right = [
            p.response["label"] == people[n][0] for p, n in zip(predicted, checked, strict=True)
        ]
        threshold = lowest_threshold(
            np.array([p.confidence for p in predicted]), np.array(right), args.baseline_target
        )
        labelled = set(validation) | set(training)
        rest = [n for n in names if n not in labelled]
        guesses = dict(zip(rest, model.predict([dataset.params[n] for n in rest]), strict=True))
        machine = {
            n: p for n, p in guesses.items() if threshold is not None and p.confidence >= threshold
        }
        to_people = [n for n in rest if n not in machine]
        progress.print(
            f"  baseline: threshold {threshold}, model labels {len(machine)},"
            f" people label {len(to_people)} more",
            highlight=False,
        )
        if to_people:
            replay.add_tasks(to_people)
            replay.label()
        delivered = replay.delivered() | {
            n: (p.response["label"], "model") for n, p in machine.items()
        }
        figures = score(dataset, delivered, args.baseline_target)
        return figures | {
            "human_answers": replay.human_answers,
            "validation_tasks": len(validation),
            "training_tasks": len(training),
            "threshold": threshold,
            "seconds": round(time.perf_counter() - began, 1),
        }
    finally:
        replay.close()


# --- the command -----------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def _ci(interval: list[float] | None) -> str:
    return "-" if interval is None else f"[{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]"


def table(results: list[dict[str, Any]]) -> Table:
    out = Table(title=f"model in the loop on {results[0]['dataset']} ({results[0]['tasks']} tasks)")
    for column in (
        "run",
        "target",
        "automated",
        "human answers",
        "delivered accuracy",
        "95 % CI",
        "automated accuracy",
        "95 % CI",
        "target held",
    ):
        out.add_column(column, justify="left" if column == "run" else "right")

    def row(name: str, r: dict[str, Any]) -> None:
        out.add_row(
            name,
            f"{r['target']:.2f}",
            _pct(r["automated_share"]),
            f"{r['human_answers']:,}",
            _pct(r["accuracy"]),
            _ci(r["accuracy_ci"]),
            _pct(r["automated_accuracy"]),
            _ci(r["automated_accuracy_ci"]),
            "yes" if r["target_held"] else "[red]no[/]",
        )

    for r in results:
        row("assay", r)
    row("baseline (Ground-Truth-style)", results[0]["baseline"])
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--target",
        type=float,
        nargs="+",
        action="extend",
        help="target accuracies (repeatable; default 0.90 0.95 0.99)",
    )
    parser.add_argument("--overlap", type=int, default=3)
    parser.add_argument("--calibration-share", type=float, default=0.1)
    parser.add_argument("--confidence-level", type=float, default=0.95)
    parser.add_argument("--min-training-labels", type=int, default=50)
    parser.add_argument("--cycle-every", type=int, default=200, help="human answers per cycle")
    parser.add_argument(
        "--batch-size", type=int, help="active-learning batch (cycle-every/overlap)"
    )
    parser.add_argument(
        "--calibration-overlap",
        type=int,
        default=5,
        help="answers per calibration (and baseline validation) task",
    )
    parser.add_argument(
        "--model", choices=("fine_tune", "logistic_regression"), default="fine_tune"
    )
    parser.add_argument("--no-refit", dest="refit", action="store_false")
    parser.add_argument("--baseline-target", type=float, default=0.95)
    parser.add_argument(
        "--baseline-training-share", type=float, help="default: the calibration share"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, help="only the first N tasks of items.csv")
    parser.add_argument("--json", action="store_true", help="one JSON object per target")
    parser.add_argument("--out", type=Path, help="also write all figures as JSON here")
    args = parser.parse_args(argv)
    targets = args.target or list(DEFAULT_TARGETS)
    if args.baseline_training_share is None:
        args.baseline_training_share = args.calibration_share

    began = time.perf_counter()
    dataset = load(args.data, args.limit)
    progress.print(
        f"{dataset.name}: {len(dataset.params)} tasks, {sum(map(len, dataset.answers.values()))}"
        f" answers, labels {dataset.labels}, fields {dataset.fields}",
        highlight=False,
    )
    vectors = embed_dataset(dataset)
    embedded = time.perf_counter() - began
    progress.print(f"embedded {len(vectors)} texts in {embedded:.1f} s", highlight=False)
    progress.print("baseline (Ground-Truth-style)", highlight=False)
    base = baseline(dataset, vectors, args)
    results = []
    for target in targets:
        progress.print(f"model in the loop, target {target}", highlight=False)
        figures = hybrid(dataset, vectors, target, args)
        results.append(
            {"dataset": dataset.name}
            | figures
            | {
                "target_held_means": TARGET_HELD,
                "guarantee": GUARANTEE,
                "settings": {
                    "overlap": args.overlap,
                    "calibration_overlap": args.calibration_overlap,
                    "model": args.model,
                    "calibration_share": args.calibration_share,
                    "confidence_level": args.confidence_level,
                    "min_training_labels": args.min_training_labels,
                    "cycle_every": args.cycle_every,
                    "refit": args.refit,
                    "seed": args.seed,
                    "fields": dataset.fields,
                },
                "embedding_seconds": round(embedded, 1),
                "baseline": base,
                "share_vs_baseline": figures["automated_share"] / base["automated_share"]
                if base["automated_share"]
                else None,
            }
        )
    progress.print(f"done in {time.perf_counter() - began:.0f} s", highlight=False)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(orjson.dumps(results, option=orjson.OPT_INDENT_2))
    if args.json:
        for r in results:
            sys.stdout.write(orjson.dumps(r).decode() + "\n")
    else:
        Console().print(table(results))


if __name__ == "__main__":
    main()
