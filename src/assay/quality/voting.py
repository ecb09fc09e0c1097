"""Vote-based truth inference: majority vote and Wawa (worker agreement with aggregate).

Majority vote is the floor every other method must beat; Wawa is one refinement of it
that needs no model: weigh each worker by how often they agree with the majority, then
vote again. Both are closed-form (no iterations) and deterministic: a tie goes to the
label with the lowest index (the one listed first).
"""

import numpy as np

from assay.quality.answers import Answers
from assay.quality.inference import Inference, clamp_gold, gold_prior, normalize_rows


def _agreement(answers: Answers, label_index: np.ndarray, gold: np.ndarray | None) -> np.ndarray:
    """[n_workers] share of each worker's answers equal to the chosen label, smoothed by
    the Beta prior from their gold answers (Laplace's (k + 1) / (n + 2) without gold)."""
    agree = answers.label == label_index[answers.task]
    hits = np.bincount(answers.worker[agree], minlength=answers.n_workers)
    total = np.bincount(answers.worker, minlength=answers.n_workers)
    a, b = gold_prior(answers, gold)
    return (hits + a) / (total + a + b)


def majority_vote(answers: Answers, gold: np.ndarray | None = None) -> Inference:
    """Posterior = each label's share of the task's answers; gold tasks are certain."""
    posterior = clamp_gold(normalize_rows(answers.votes()), gold)
    quality = _agreement(answers, np.argmax(posterior, axis=1), gold)
    return Inference(posterior, quality)


def wawa(answers: Answers, gold: np.ndarray | None = None) -> Inference:
    """Vote again with each worker weighted by their agreement with the majority vote."""
    first = majority_vote(answers, gold)
    weights = first.worker_quality
    posterior = clamp_gold(normalize_rows(answers.votes(weights[answers.worker])), gold)
    return Inference(posterior, _agreement(answers, np.argmax(posterior, axis=1), gold))
