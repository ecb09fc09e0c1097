"""Truth inference for numeric answers (scores, counts, measurements).

- `mean` and `median` of each task's answers.
- `lfcn`: a worker-variance-weighted mean in the spirit of LFC-N (Raykar et al. 2010):
  each worker w answers truth + noise of variance s2_w; alternately estimate each task's
  value as the precision-weighted mean of its answers and each worker's variance from
  their residuals, with a prior of PRIOR_ANSWERS pseudo-answers at the pooled variance so
  a worker with few answers is not trusted blindly. Starts from the mean; stops when no
  estimate moves more than `tolerance` times the answers' spread, or after
  `max_iterations`.

Every method returns the estimate and its standard error per task, and (for lfcn) each
worker's noise standard deviation.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assay.quality.inference import DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE

PRIOR_ANSWERS = 2.0


@dataclass(frozen=True)
class NumericAnswers:
    task: np.ndarray  # int64 [n_answers]: index into `tasks`
    worker: np.ndarray  # int64 [n_answers]: index into `workers`
    value: np.ndarray  # float [n_answers]
    tasks: np.ndarray
    workers: np.ndarray

    @classmethod
    def from_columns(cls, tasks: Sequence, workers: Sequence, values: Sequence) -> "NumericAnswers":
        task_ids, task = np.unique(np.asarray(tasks, dtype=object), return_inverse=True)
        worker_ids, worker = np.unique(np.asarray(workers, dtype=object), return_inverse=True)
        try:
            value = np.asarray(values, dtype=float)
        except ValueError as exc:
            raise ValueError(f"numeric methods need numbers as labels: {exc}") from None
        return cls(task.astype(np.int64), worker.astype(np.int64), value, task_ids, worker_ids)

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)


@dataclass(frozen=True)
class Estimate:
    value: np.ndarray  # [n_tasks]
    std_error: np.ndarray  # [n_tasks]
    worker_sd: np.ndarray | None = None  # [n_workers] noise standard deviation (lfcn)
    iterations: int = 0


def _count(answers: NumericAnswers) -> np.ndarray:
    return np.bincount(answers.task, minlength=answers.n_tasks).astype(float)


def _weighted_mean(answers: NumericAnswers, weights: np.ndarray) -> np.ndarray:
    total = np.bincount(answers.task, weights, minlength=answers.n_tasks)
    return np.bincount(answers.task, weights * answers.value, minlength=answers.n_tasks) / total


def _spread_error(answers: NumericAnswers, centre: np.ndarray) -> np.ndarray:
    """Standard error of the mean from each task's sample spread around `centre`."""
    n = _count(answers)
    squares = np.bincount(
        answers.task, (answers.value - centre[answers.task]) ** 2, minlength=answers.n_tasks
    )
    variance = np.divide(squares, n - 1, out=np.zeros_like(n), where=n > 1)
    return np.sqrt(variance / n)


def mean(answers: NumericAnswers) -> Estimate:
    value = _weighted_mean(answers, np.ones_like(answers.value))
    return Estimate(value, _spread_error(answers, value))


def median(answers: NumericAnswers) -> Estimate:
    """Each task's median (the mean of the two middle answers for an even count)."""
    order = np.lexsort((answers.value, answers.task))
    ordered = answers.value[order]
    n = _count(answers).astype(np.int64)
    start = np.concatenate(([0], np.cumsum(n)[:-1]))
    low = ordered[start + (n - 1) // 2]
    high = ordered[start + n // 2]
    value = (low + high) / 2
    # Asymptotic standard error of a median: sqrt(pi / 2) times that of the mean.
    return Estimate(value, np.sqrt(np.pi / 2) * _spread_error(answers, value))


def lfcn(
    answers: NumericAnswers,
    *,
    max_iterations: int = DEFAULT_MAX_ITERATIONS,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Estimate:
    n_workers = len(answers.workers)
    value = mean(answers).value
    pooled = max(float(np.var(answers.value - value[answers.task])), 1e-12)
    scale = max(float(np.std(answers.value)), 1e-12)
    per_worker = np.bincount(answers.worker, minlength=n_workers)
    iteration = 0
    while iteration < max_iterations:
        iteration += 1
        residual = (answers.value - value[answers.task]) ** 2
        squares = np.bincount(answers.worker, residual, minlength=n_workers)
        variance = (squares + PRIOR_ANSWERS * pooled) / (per_worker + PRIOR_ANSWERS)
        updated = _weighted_mean(answers, 1.0 / variance[answers.worker])
        change = np.abs(updated - value).max()
        value = updated
        if change < tolerance * scale:
            break
    precision = np.bincount(answers.task, 1.0 / variance[answers.worker], minlength=answers.n_tasks)
    return Estimate(value, np.sqrt(1.0 / precision), np.sqrt(variance), iteration)
