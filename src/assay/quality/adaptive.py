"""Adaptive overlap: stop collecting answers for a task once its result is sure enough.

Given worker models (each worker's confusion matrix, from a Dawid-Skene fit) and a class
prior, the posterior of one task after m answers is

    P(k | answers) ∝ prior_k · Π_i C[w_i, k, l_i]

A task stops when that posterior's largest entry reaches `target_confidence` and it has
at least `min_overlap` answers, or when it has `max_overlap` answers whatever its
posterior. Easy tasks (workers agree, workers are good) stop early; hard ones get more
people.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class StoppingRule:
    min_overlap: int
    max_overlap: int
    target_confidence: float

    def __post_init__(self) -> None:
        if not 1 <= self.min_overlap <= self.max_overlap:
            raise ValueError("need 1 <= min_overlap <= max_overlap")
        if not 0 < self.target_confidence <= 1:
            raise ValueError("target_confidence must be in (0, 1]")

    def done(self, posterior: np.ndarray, answers: int) -> bool:
        if answers >= self.max_overlap:
            return True
        return answers >= self.min_overlap and float(posterior.max()) >= self.target_confidence


def task_posterior(
    prior: np.ndarray, confusion: np.ndarray, workers: np.ndarray, labels: np.ndarray
) -> np.ndarray:
    """[n_labels] posterior of one task from its answers (worker and label indices) under
    worker confusion matrices `confusion` [n_workers, true, answered] and `prior`."""
    log_t = np.log(prior) + np.log(confusion[workers, :, labels]).sum(axis=0)
    t = np.exp(log_t - log_t.max())
    return t / t.sum()
