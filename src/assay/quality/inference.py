"""Helpers the categorical truth-inference methods share."""

import numpy as np

from assay.quality.answers import UNKNOWN, Answers

DEFAULT_TOLERANCE = 1e-6
"""EM stops when no posterior entry moved more than this between two iterations."""
DEFAULT_MAX_ITERATIONS = 100
"""...or after this many iterations, whichever comes first."""


def normalize_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to sum to 1; an all-zero row becomes uniform."""
    totals = matrix.sum(axis=1, keepdims=True)
    uniform = np.full_like(matrix, 1.0 / matrix.shape[1])
    return np.divide(matrix, totals, out=uniform, where=totals > 0)


def clamp_gold(posterior: np.ndarray, gold: np.ndarray | None) -> np.ndarray:
    """Known answers are certain: their rows become one-hot (in place; returns it)."""
    if gold is not None:
        known = gold != UNKNOWN
        posterior[known] = 0.0
        posterior[known, gold[known]] = 1.0
    return posterior


def gold_prior(
    answers: Answers, gold: np.ndarray | None, a: float = 1.0, b: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Per worker (correct + a, wrong + b) on gold tasks: a Beta prior on their accuracy.
    Without gold every worker gets Beta(a, b)."""
    correct = np.zeros(answers.n_workers)
    wrong = np.zeros(answers.n_workers)
    if gold is not None:
        on_gold = gold[answers.task] != UNKNOWN
        right = on_gold & (gold[answers.task] == answers.label)
        correct = np.bincount(answers.worker[right], minlength=answers.n_workers).astype(float)
        wrong = np.bincount(answers.worker[on_gold & ~right], minlength=answers.n_workers).astype(
            float
        )
    return correct + a, wrong + b
