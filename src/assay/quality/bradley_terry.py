"""Bradley-Terry scores: one strength per model from pairwise comparisons of their outputs.

Model (Bradley & Terry 1952): model i beats model j with probability
sigma(s_i - s_j) = 1 / (1 + exp(s_j - s_i)), where s is a model's score (a log-strength,
natural log). A comparison's outcome is 1.0 when the first model won, 0.0 when the second
did and 0.5 for a tie (a tie counts as half a win each way, as in Chatbot Arena).

Fit: the scores minimise the negative log-likelihood of the outcomes plus a tiny ridge
(ridge / 2) * sum(s^2). Without it a model that never lost (or never won), or a group of
models never compared with the rest, would have no finite maximum-likelihood score; with it
the objective is strictly convex, so the optimum is unique and finite, and within every
connected group of models the scores sum to 0 (the likelihood's gradient sums to 0 over a
group, so the ridge alone fixes its level). The optimum is found by Newton's method from
all-zero scores with a backtracking (Armijo) line search; each Newton step solves with the
Hessian (ridge plus the comparison graph's Laplacian weighted by p(1 - p)) by Jacobi-
preconditioned conjugate gradients without forming it, so memory grows with the
comparisons, not with models squared. Our own solver rather than SciPy's keeps the base
install small; `tests/test_numeric_replacements.py` checks it reaches SciPy's optimum.

Convergence: stops when every component of the gradient is at most `tolerance` (default
1e-9) in absolute value, or when the Newton step predicts a decrease of the objective of
at most `tolerance` relative to its size (that step is taken: Newton converges
quadratically there, and the objective itself could no longer resolve the difference), or
when no step lowers the objective at all, or after `max_iterations` (default 1000) Newton
steps; `converged` says whether one of the first three held.
Deterministic: models are ordered by name and the same comparisons in any order give the
same scores (up to floating-point summation order).
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assay.quality.special import expit

RIDGE = 1e-3
TOLERANCE = 1e-9
MAX_ITERATIONS = 1000
CG_STEPS = 200
"""Most conjugate-gradient steps per Newton step (a truncated step still descends)."""
ARMIJO = 1e-4
"""Least share of the predicted decrease a line-search step must achieve."""


@dataclass(frozen=True)
class BradleyTerry:
    models: np.ndarray  # [n_models] model names, sorted
    scores: np.ndarray  # [n_models] log-strengths; each connected group sums to 0
    comparisons: np.ndarray  # [n_models] comparisons each model took part in
    converged: bool
    iterations: int

    def win_probability(self, winner: str, loser: str) -> float:
        """The fitted chance that `winner`'s output is preferred to `loser`'s."""
        index = {name: i for i, name in enumerate(self.models)}
        return float(expit(self.scores[index[winner]] - self.scores[index[loser]]))


def _objective(
    scores: np.ndarray, first: np.ndarray, second: np.ndarray, outcome: np.ndarray, ridge: float
) -> tuple[float, np.ndarray, np.ndarray]:
    """Penalised negative log-likelihood, its gradient, and each comparison's curvature
    p(1 - p) (d2 loss / d diff2)."""
    diff = scores[first] - scores[second]
    loss = outcome * np.logaddexp(0.0, -diff) + (1.0 - outcome) * np.logaddexp(0.0, diff)
    p = expit(diff)
    slope = p - outcome  # d loss / d diff
    n = scores.size
    gradient = np.bincount(first, slope, minlength=n) - np.bincount(second, slope, minlength=n)
    value = float(loss.sum() + 0.5 * ridge * scores @ scores)
    return value, gradient + ridge * scores, p * (1 - p)


def _newton_direction(
    gradient: np.ndarray, first: np.ndarray, second: np.ndarray, curvature: np.ndarray, ridge: float
) -> np.ndarray:
    """-H^-1 gradient by preconditioned conjugate gradients, solved to a residual of
    min(0.5, |gradient|) * |gradient| (so Newton converges quadratically near the optimum)."""
    n = gradient.size

    def hessian_times(v: np.ndarray) -> np.ndarray:
        flow = curvature * (v[first] - v[second])
        return ridge * v + np.bincount(first, flow, n) - np.bincount(second, flow, n)

    diagonal = ridge + np.bincount(first, curvature, n) + np.bincount(second, curvature, n)
    size = float(np.linalg.norm(gradient))
    target = min(0.5, size) * size
    step, residual = np.zeros(n), -gradient
    preconditioned = residual / diagonal
    direction, product = preconditioned, residual @ preconditioned
    for _ in range(CG_STEPS):
        along = hessian_times(direction)
        alpha = product / (direction @ along)
        step += alpha * direction
        residual -= alpha * along
        if np.linalg.norm(residual) <= target:
            break
        preconditioned = residual / diagonal
        product, previous = residual @ preconditioned, product
        direction = preconditioned + (product / previous) * direction
    return step


def _groups(first: np.ndarray, second: np.ndarray, n: int) -> np.ndarray:
    """Each model's connected group, named by its lowest model index (label propagation
    with pointer jumping: labels only fall, so it ends)."""
    label = np.arange(n)
    while True:
        low = np.minimum(label[first], label[second])
        lowered = label.copy()
        np.minimum.at(lowered, first, low)
        np.minimum.at(lowered, second, low)
        lowered = lowered[lowered]
        if np.array_equal(lowered, label):
            return label
        label = lowered


def _centred(v: np.ndarray, group: np.ndarray) -> np.ndarray:
    """`v` less its mean over each group. The likelihood cannot tell a group's level, so
    at the optimum only the ridge sets it, at a sum of 0; a step's level is set here
    exactly rather than left to the (inexact) solve along the ridge's tiny curvature."""
    sums = np.bincount(group, v, v.size)
    counts = np.bincount(group, minlength=v.size)
    return v - (sums / np.maximum(counts, 1))[group]


def _minimise(
    first: np.ndarray,
    second: np.ndarray,
    outcome: np.ndarray,
    n: int,
    ridge: float,
    tolerance: float,
    max_iterations: int,
) -> tuple[np.ndarray, bool, int]:
    """Damped Newton from zero scores: (scores, converged, Newton steps taken)."""
    group = _groups(first, second, n)
    scores = np.zeros(n)
    value, gradient, curvature = _objective(scores, first, second, outcome, ridge)
    for iteration in range(1, max_iterations + 1):
        if np.abs(gradient).max() <= tolerance:
            return scores, True, iteration - 1
        direction = _centred(_newton_direction(gradient, first, second, curvature, ridge), group)
        predicted = float(gradient @ direction)  # < 0: a descent direction
        if -predicted <= tolerance * max(abs(value), 1.0):
            # Within `tolerance` of the least objective, where Newton converges
            # quadratically: one full step finishes (the objective could not even tell).
            return scores + direction, True, iteration
        length = 1.0
        while True:
            trial = scores + length * direction
            found = _objective(trial, first, second, outcome, ridge)
            if found[0] <= value + ARMIJO * length * predicted:
                break
            length /= 2
            if length < 1e-12:  # no step lowers the objective: as low as it gets
                return scores, True, iteration
        scores, (value, gradient, curvature) = trial, found
    return scores, bool(np.abs(gradient).max() <= tolerance), max_iterations


def fit(
    first: Sequence[str],
    second: Sequence[str],
    outcome: Sequence[float] | None = None,
    ridge: float = RIDGE,
    tolerance: float = TOLERANCE,
    max_iterations: int = MAX_ITERATIONS,
) -> BradleyTerry:
    """Scores from comparisons `first[c]` vs `second[c]` with `outcome[c]` in [0, 1] (1: the
    first won; default all 1). A model compared with itself is a ValueError."""
    if len(first) != len(second):
        raise ValueError("first and second must have the same length")
    results = np.ones(len(first)) if outcome is None else np.asarray(outcome, dtype=float)
    if results.shape != (len(first),) or np.any((results < 0) | (results > 1)):
        raise ValueError("outcome must hold one value in [0, 1] per comparison")
    if ridge <= 0:
        raise ValueError("ridge must be positive")
    names = np.asarray([*first, *second], dtype=object)
    models, index = np.unique(names, return_inverse=True)
    a, b = index[: len(first)], index[len(first) :]
    if np.any(a == b):
        raise ValueError(f"model {models[a[a == b][0]]!r} is compared with itself")
    comparisons = np.bincount(index, minlength=models.size)
    if not len(first):
        return BradleyTerry(models, np.zeros(0), comparisons, True, 0)
    scores, converged, iterations = _minimise(
        a, b, results, models.size, ridge, tolerance, max_iterations
    )
    return BradleyTerry(models, scores, comparisons, converged, iterations)
