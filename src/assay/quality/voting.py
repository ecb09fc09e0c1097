"""Vote-based truth inference: majority vote and Wawa (worker agreement with aggregate).

Majority vote is the floor every other method must beat; Wawa is one refinement of it
that needs no model: weigh each worker by how often they agree with the majority, then
vote again. Both are closed-form (no iterations) and deterministic: a tie goes to the
label with the lowest index (the one listed first).
"""

import numpy as np

from assay.quality.answers import Answers
from assay.quality.base import Aggregator
from assay.quality.inference import clamp_gold, gold_prior, normalize_rows


def _agreement(answers: Answers, label_index: np.ndarray, gold: np.ndarray | None) -> np.ndarray:
    """[n_workers] share of each worker's answers equal to the chosen label, smoothed by
    the Beta prior from their gold answers (Laplace's (k + 1) / (n + 2) without gold)."""
    agree = answers.label == label_index[answers.task]
    hits = np.bincount(answers.worker[agree], minlength=answers.n_workers)
    total = np.bincount(answers.worker, minlength=answers.n_workers)
    a, b = gold_prior(answers, gold)
    return (hits + a) / (total + a + b)


def _vote(answers: Answers, gold: np.ndarray | None, weights: np.ndarray | None = None):
    return clamp_gold(normalize_rows(answers.votes(weights)), gold)


class MajorityVote(Aggregator):
    """Posterior = each label's share of the task's answers; gold tasks are certain."""

    PROBABILISTIC = False

    def _posterior(self, answers: Answers, gold: np.ndarray | None) -> np.ndarray:
        return _vote(answers, gold)


class Wawa(Aggregator):
    """Vote again with each worker weighted by their agreement with the majority vote.

    Fitted besides the common fields: `weights_` [n_workers], that agreement (smoothed by
    the worker's gold answers)."""

    PROBABILISTIC = False
    weights_: np.ndarray

    def _posterior(self, answers: Answers, gold: np.ndarray | None) -> np.ndarray:
        majority = np.argmax(_vote(answers, gold), axis=1)
        self.weights_ = _agreement(answers, majority, gold)
        return _vote(answers, gold, self.weights_[answers.worker])
