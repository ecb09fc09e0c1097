"""`assay aggregate`: read answer tables, run one truth-inference method, write results.

Only the fit itself is timed (`fit_seconds`), not reading or writing the files.
"""

import time
from pathlib import Path

import numpy as np

from assay.exchange.answer_tables import read_answers, read_gold, write_table
from assay.quality import CATEGORICAL, NUMERIC
from assay.quality.answers import Answers
from assay.quality.numeric import NumericAnswers
from assay.quality.select import choose_method


class UnknownMethod(ValueError):
    pass


def _worker_rows(ids, quality, worker_index) -> list[tuple]:
    counts = np.bincount(worker_index, minlength=len(ids))
    return [(w, f"{q:.6f}", int(n)) for w, q, n in zip(ids, quality, counts, strict=True)]


def aggregate_files(
    answers_csv: Path,
    method: str,
    gold_csv: Path | None,
    out: Path,
    workers_csv: Path | None,
) -> str:
    """Run `method` on the answers and write the tables; returns the summary line."""
    if method not in (*CATEGORICAL, *NUMERIC, "auto"):
        known = ", ".join([*CATEGORICAL, *NUMERIC, "auto"])
        raise UnknownMethod(f"--method must be one of {known}, not {method!r}")
    tasks, workers, labels = read_answers(answers_csv)
    gold = read_gold(gold_csv) if gold_csv else None
    if method in NUMERIC:
        return _numeric(method, tasks, workers, labels, out, workers_csv)
    answers = Answers.from_columns(tasks, workers, labels)
    gold_vector = answers.gold_vector(gold) if gold else None
    chosen = ""
    if method == "auto":
        method, why = choose_method(CATEGORICAL, answers, gold_vector)
        chosen = f' chosen_by="{why}"'
    start = time.perf_counter()
    fit = CATEGORICAL[method]().fit(answers, gold_vector)
    seconds = time.perf_counter() - start
    rows = zip(answers.tasks, fit.predict(), (f"{c:.6f}" for c in fit.confidence_), strict=True)
    write_table(out, ("task", "label", "confidence"), rows)
    if workers_csv:
        accuracy = _worker_rows(answers.workers, fit.worker_accuracy_, answers.worker)
        write_table(workers_csv, ("worker", "quality", "answers"), accuracy)
    return (
        f"method={method} tasks={answers.n_tasks} workers={answers.n_workers} "
        f"answers={len(answers.task)} labels={answers.n_labels} iterations={fit.iterations_} "
        f"fit_seconds={seconds:.6f}{chosen}"
    )


def _numeric(method, tasks, workers, values, out: Path, workers_csv: Path | None) -> str:
    answers = NumericAnswers.from_columns(tasks, workers, values)
    start = time.perf_counter()
    estimate = NUMERIC[method](answers)
    seconds = time.perf_counter() - start
    rows = zip(
        answers.tasks,
        (f"{v:.6g}" for v in estimate.value),
        (f"{e:.6g}" for e in estimate.std_error),
        strict=True,
    )
    write_table(out, ("task", "label", "std_error"), rows)
    if workers_csv and estimate.worker_sd is not None:
        sd = _worker_rows(answers.workers, estimate.worker_sd, answers.worker)
        write_table(workers_csv, ("worker", "noise_sd", "answers"), sd)
    return (
        f"method={method} tasks={answers.n_tasks} workers={len(answers.workers)} "
        f"answers={len(answers.task)} iterations={estimate.iterations} "
        f"fit_seconds={seconds:.6f}"
    )
