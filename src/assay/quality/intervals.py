"""Confidence intervals for proportions (accuracy on gold, audited accuracy)."""

import numpy as np

from assay.quality.special import beta_ppf


def clopper_pearson(
    successes: np.ndarray | int, trials: np.ndarray | int, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) interval of a binomial proportion: conservative, so it
    never claims more certainty than the counts give. With no trials: (0, 1)."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    tail = (1 - level) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(k > 0, beta_ppf(tail, k, n - k + 1), 0.0)
        high = np.where(k < n, beta_ppf(1 - tail, k + 1, n - k), 1.0)
    return np.nan_to_num(low, nan=0.0), np.nan_to_num(high, nan=1.0)


def accuracy_summary(correct: int, total: int) -> dict:
    """{correct, accuracy, ci95} of `correct` right out of `total`, for reports."""
    low, high = clopper_pearson(correct, total)
    return {
        "correct": int(correct),
        "accuracy": correct / total if total else None,
        "ci95": [float(low), float(high)],
    }
