"""Dawid-Skene (1979): each worker has a confusion matrix; EM finds truths and matrices.

Model: task j has a true label k with prior pi_k; worker w answers l with probability
C[w, k, l]. EM starts from the majority vote's posterior, then alternates
  M-step: pi and C from the current posteriors (expected counts plus a small pseudo-count
          SMOOTHING, so no probability is ever exactly 0);
  E-step: log T[j, k] = log pi_k + sum over j's answers of log C[w, k, l], normalised.
The one-coin variant gives each worker a single accuracy p_w (wrong answers spread evenly
over the other labels): far fewer parameters, better with few answers per worker.

Gold tasks keep a one-hot posterior throughout, so they are fixed truths and, through the
M-step, evidence about the workers who answered them.

Stops when an iteration raises the log-likelihood of the answers by no more than
`tolerance` (default 1e-5) of its value, or after `max_iterations` (default 100): on the
real datasets a tighter tolerance changes no label and only adds iterations.
Deterministic.
"""

import numpy as np

from assay.quality.answers import Answers
from assay.quality.base import IterativeAggregator, worker_accuracy
from assay.quality.inference import clamp_gold, normalize_rows

SMOOTHING = 0.01
LIKELIHOOD_TOLERANCE = 1e-5


def _per_task(answers: Answers, values: np.ndarray) -> np.ndarray:
    """[n_tasks, n_labels] sums of per-answer rows `values` [n_answers, n_labels] by task."""
    return np.stack(
        [
            np.bincount(answers.task, values[:, k], minlength=answers.n_tasks)
            for k in range(values.shape[1])
        ],
        axis=1,
    )


def _softmax_rows(log_t: np.ndarray) -> np.ndarray:
    shifted = np.exp(log_t - log_t.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def confusion_matrices(answers: Answers, posterior: np.ndarray) -> np.ndarray:
    """[n_workers, true label, answered label] expected counts, smoothed and normalised."""
    n_w, n_l = answers.n_workers, answers.n_labels
    cell = answers.worker * n_l + answers.label
    counts = np.empty((n_w, n_l, n_l))
    for true in range(n_l):
        weights = posterior[answers.task, true]
        counts[:, true, :] = np.bincount(cell, weights, minlength=n_w * n_l).reshape(n_w, n_l)
    counts += SMOOTHING
    return counts / counts.sum(axis=2, keepdims=True)


SHRINK_ANSWERS = 5.0
"""Worker models for new answers are pulled toward the average worker by this many
pseudo-answers: a worker seen a few times otherwise looks surer than they are."""


def shrunk_confusions(answers: Answers, confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(each worker's confusion matrix shrunk toward the answer-weighted average one, that
    average): (n_w C_w + s C_avg) / (n_w + s), s = SHRINK_ANSWERS. A worker with no answers
    gets the average."""
    seen = np.bincount(answers.worker, minlength=answers.n_workers).astype(float)
    average = np.tensordot(seen / seen.sum(), confusion, axes=1)
    weight = seen[:, None, None]
    return (weight * confusion + SHRINK_ANSWERS * average) / (weight + SHRINK_ANSWERS), average


def _em(answers: Answers, gold, log_likelihood, max_iterations: int, tolerance: float):
    """Shared EM loop: `log_likelihood(posterior)` -> ([n_answers, n_labels] log P(answer |
    true label), [n_labels] log prior). Returns (posterior, iterations)."""
    posterior = clamp_gold(normalize_rows(answers.votes()), gold)
    iteration, previous = 0, -np.inf
    while iteration < max_iterations:
        iteration += 1
        log_answer, log_prior = log_likelihood(posterior)
        log_joint = log_prior + _per_task(answers, log_answer)
        posterior = clamp_gold(_softmax_rows(log_joint), gold)
        likelihood = float(_log_sum_exp_rows(log_joint).sum())
        if likelihood - previous <= tolerance * abs(likelihood):
            break
        previous = likelihood
    return posterior, iteration


def _log_sum_exp_rows(log_t: np.ndarray) -> np.ndarray:
    top = log_t.max(axis=1)
    return top + np.log(np.exp(log_t - top[:, None]).sum(axis=1))


def _log_prior(posterior: np.ndarray) -> np.ndarray:
    prior = posterior.sum(axis=0) + SMOOTHING
    return np.log(prior / prior.sum())


class DawidSkene(IterativeAggregator):
    """Fitted besides the common fields: `prior_` [n_labels], the label frequencies, and
    `confusion_` [n_workers, true label, answered label], each worker's chance of each
    answer given each truth."""

    TOLERANCE = LIKELIHOOD_TOLERANCE
    prior_: np.ndarray
    confusion_: np.ndarray

    def _posterior(self, answers: Answers, gold: np.ndarray | None) -> np.ndarray:
        def log_likelihood(posterior):
            confusion = confusion_matrices(answers, posterior)
            # For each answer: log C[w, k, l] over every true label k.
            log_answer = np.log(confusion)[answers.worker, :, answers.label]
            return log_answer, _log_prior(posterior)

        posterior, self.iterations_ = _em(
            answers, gold, log_likelihood, self.max_iterations, self.tolerance
        )
        self.confusion_ = confusion_matrices(answers, posterior)
        self.prior_ = np.exp(_log_prior(posterior))
        return posterior


class OneCoin(IterativeAggregator):
    """Dawid-Skene with one accuracy per worker: its model's accuracy is
    `worker_accuracy_` itself."""

    TOLERANCE = LIKELIHOOD_TOLERANCE

    def _posterior(self, answers: Answers, gold: np.ndarray | None) -> np.ndarray:
        n_labels = answers.n_labels

        def log_likelihood(posterior):
            p = worker_accuracy(answers, posterior)[answers.worker]
            wrong = np.log((1.0 - p) / max(n_labels - 1, 1))
            log_answer = np.repeat(wrong[:, None], n_labels, axis=1)
            log_answer[np.arange(len(p)), answers.label] = np.log(p)
            return log_answer, _log_prior(posterior)

        posterior, self.iterations_ = _em(
            answers, gold, log_likelihood, self.max_iterations, self.tolerance
        )
        return posterior
