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
group, so the ridge alone fixes its level). The optimum is found by scipy's L-BFGS-B from
all-zero scores with the exact gradient.

Convergence: stops when every component of the gradient is at most `tolerance` (default
1e-9) in absolute value, or when an iteration lowers the objective by less than
`tolerance` relative to its size, or after `max_iterations` (default 1000); `converged` says
whether one of the first two held. Deterministic: models are ordered by name and the same
comparisons in any order give the same scores (up to floating-point summation order).
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

RIDGE = 1e-3
TOLERANCE = 1e-9
MAX_ITERATIONS = 1000


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
) -> tuple[float, np.ndarray]:
    """Penalised negative log-likelihood and its gradient."""
    diff = scores[first] - scores[second]
    loss = outcome * np.logaddexp(0.0, -diff) + (1.0 - outcome) * np.logaddexp(0.0, diff)
    slope = expit(diff) - outcome  # d loss / d diff
    n = scores.size
    gradient = np.bincount(first, slope, minlength=n) - np.bincount(second, slope, minlength=n)
    return float(loss.sum() + 0.5 * ridge * scores @ scores), gradient + ridge * scores


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
    found = minimize(
        _objective,
        np.zeros(models.size),
        args=(a, b, results, ridge),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": tolerance, "ftol": tolerance, "maxiter": max_iterations},
    )
    return BradleyTerry(models, found.x, comparisons, bool(found.success), int(found.nit))
