"""One interface for every categorical truth-inference method.

Each method is a small class: configure it, `fit(answers, gold)` it on a tidy (task,
worker, label) table (`Answers`, the table encoded as index arrays), then read what it
fitted. Every method fits the same fields, with one meaning each:

- `answers_`: the table it was fitted on.
- `posterior_` [n_tasks, n_labels]: P(true label | answers), each row summing to 1; a gold
  task's row is one-hot on its known answer.
- `worker_accuracy_` [n_workers]: the probability that the worker answers a task right,
  estimated as the expected share of their answers that equal the true label, with one
  right and one wrong pseudo-answer (so 1/2 for a worker without answers). The true label
  is weighed by `posterior_` for the methods with a model of the answers; the voting
  methods' shares of votes are no such probability, so for them the chosen label stands
  as the truth. The meaning is the same for every method, so one threshold (a project's
  `min_worker_quality`) means the same whichever method fitted it.
- `iterations_`: EM iterations run (0 for closed-form methods).

A method may fit more fields of its own model (Dawid-Skene's confusion matrices, MACE's
chance of not spamming, GLAD's abilities and task difficulties); those carry the model's
own meaning and are documented on the class.
"""

from abc import ABC, abstractmethod
from typing import Self

import numpy as np

from assay.quality.answers import Answers
from assay.quality.inference import DEFAULT_MAX_ITERATIONS, DEFAULT_TOLERANCE


def worker_accuracy(answers: Answers, posterior: np.ndarray) -> np.ndarray:
    """[n_workers] (expected right answers + 1) / (answers + 2), the truth weighed by
    `posterior`."""
    right = np.bincount(
        answers.worker, posterior[answers.task, answers.label], minlength=answers.n_workers
    )
    total = np.bincount(answers.worker, minlength=answers.n_workers)
    return (right + 1.0) / (total + 2.0)


class Aggregator(ABC):
    """A categorical truth-inference method (see the module docstring for its fields)."""

    PROBABILISTIC = True
    """Whether `posterior_` is a probability of the truth (False: shares of votes)."""
    answers_: Answers
    posterior_: np.ndarray
    worker_accuracy_: np.ndarray
    iterations_: int = 0

    def fit(self, answers: Answers, gold: np.ndarray | None = None) -> Self:
        """Fit on the answers; `gold` ([n_tasks] label index, UNKNOWN where none is known)
        fixes the true label of the tasks it names."""
        self.answers_ = answers
        self.posterior_ = self._posterior(answers, gold)
        truth = self.posterior_
        if not self.PROBABILISTIC:
            truth = np.eye(answers.n_labels)[self.label_index_]
        self.worker_accuracy_ = worker_accuracy(answers, truth)
        return self

    @abstractmethod
    def _posterior(self, answers: Answers, gold: np.ndarray | None) -> np.ndarray:
        """The posterior [n_tasks, n_labels]; sets `iterations_` and the method's own fields."""

    @property
    def label_index_(self) -> np.ndarray:
        """[n_tasks] the most probable label's index; a tie goes to the lowest index."""
        return np.argmax(self.posterior_, axis=1)  # argmax returns the first maximum

    @property
    def confidence_(self) -> np.ndarray:
        """[n_tasks] the posterior probability of the chosen label."""
        return self.posterior_.max(axis=1)

    def predict(self) -> np.ndarray:
        """[n_tasks] the chosen label of each task, in `answers_.tasks` order."""
        return self.answers_.labels[self.label_index_]

    def fit_predict(self, answers: Answers, gold: np.ndarray | None = None) -> np.ndarray:
        return self.fit(answers, gold).predict()


class IterativeAggregator(Aggregator):
    """A method fitted by EM: it stops once an iteration changes its fit by no more than
    `tolerance` (each method says of what), or after `max_iterations`."""

    TOLERANCE = DEFAULT_TOLERANCE

    def __init__(
        self, *, max_iterations: int = DEFAULT_MAX_ITERATIONS, tolerance: float | None = None
    ):
        self.max_iterations = max_iterations
        self.tolerance = self.TOLERANCE if tolerance is None else tolerance
