"""GLAD: each answer's chance of being right depends on the worker and on the task.

Whitehill et al. 2009, "Whose vote should count more". Worker i has an ability alpha_i (any
real; negative means the worker leans towards wrong labels) and task j an easiness
beta_j = exp(log_beta_j) > 0 (its difficulty is 1 / beta_j). An answer is right with probability
sigmoid(alpha_i * beta_j); a wrong answer is any of the other K - 1 labels with equal chance
(the multi-class form). Unlike a single accuracy per worker, this lets a hard task's
disagreement count against the task rather than against the workers who answered it. The
label prior is kept uniform: learning it lost accuracy (product 0.90 vs 0.93, duck 0.58 vs 0.75).

EM, starting from the majority-vote posterior:
- M-step: alpha and log_beta climb the expected complete log-likelihood
  sum over answers of p_a log s_a + (1 - p_a) log(1 - s_a) (p_a the posterior of the answered
  label, s_a = sigmoid(alpha * beta)) plus weak Gaussian priors alpha_i ~ N(mu_i, 4) and
  log_beta_j ~ N(1, 4): M_STEP_ITERATIONS rounds of a Newton step on every alpha (each a 1-D
  concave problem, so all at once through np.bincount) then a Fisher-scoring step on every
  log_beta, warm started from the previous iteration (a generalised EM: each M-step climbs
  the objective rather than maximising it). mu_i is the logit of the worker's accuracy on gold
  tasks smoothed by `gold_prior` with e : 1 pseudo-counts, so 1 without gold.
- E-step: log posterior = sum over the task's answers of log s_a for the answered label and
  log((1 - s_a) / (K - 1)) for every other label.
Gold tasks keep one-hot posterior rows every iteration (`clamp_gold`), so they are fixed truth
in the E-step and full-weight evidence about workers and tasks in the M-step.

Stops when no posterior entry moved more than `tolerance` in an iteration, or after
`max_iterations` iterations. Besides the common fields (`assay.quality.base`), `ability_` is
alpha and `difficulty_` each task's 1 / beta_j (the prior's typical value is 1 / e).
"""

import numpy as np

from assay.quality.answers import Answers
from assay.quality.base import IterativeAggregator
from assay.quality.inference import clamp_gold, gold_prior, normalize_rows

GOLD_PSEUDO_CORRECT = np.e
"""Pseudo-counts behind the ability prior's mean: e right to 1 wrong is logit 1."""
GOLD_PSEUDO_WRONG = 1.0
LOG_EASINESS_MEAN = 1.0
"""Prior mean of log_beta."""
PRIOR_VARIANCE = 4.0
"""Variance of the Gaussian priors on alpha and log_beta."""
M_STEP_ITERATIONS = 2
"""Rounds of (alpha step, log_beta step) per M-step."""
MAX_STEP = 1.0
"""No step moves a parameter by more than this."""


class GLAD(IterativeAggregator):
    """Fitted besides the common fields: `ability_` [n_workers] (alpha) and `difficulty_`
    [n_tasks] (1 / beta)."""

    ability_: np.ndarray
    difficulty_: np.ndarray

    def _posterior(self, answers: Answers, gold: np.ndarray | None) -> np.ndarray:
        correct, wrong = gold_prior(answers, gold, GOLD_PSEUDO_CORRECT, GOLD_PSEUDO_WRONG)
        ability_prior = np.log(correct / wrong)
        ability = ability_prior.copy()
        log_easiness = np.full(answers.n_tasks, LOG_EASINESS_MEAN)
        posterior = clamp_gold(normalize_rows(answers.votes()), gold)
        self.iterations_ = 0
        while self.iterations_ < self.max_iterations:
            self.iterations_ += 1
            ability, log_easiness = _m_step(
                answers,
                posterior[answers.task, answers.label],
                ability,
                log_easiness,
                ability_prior,
            )
            updated = clamp_gold(_e_step(answers, ability, log_easiness), gold)
            change = np.abs(updated - posterior).max()
            posterior = updated
            if change < self.tolerance:
                break
        self.ability_, self.difficulty_ = ability, np.exp(-log_easiness)
        return posterior


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _m_step(
    answers: Answers,
    answer_posterior: np.ndarray,
    ability: np.ndarray,
    log_easiness: np.ndarray,
    ability_prior: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """alpha and log_beta moved up the expected log-likelihood plus log priors."""
    for _ in range(M_STEP_ITERATIONS):
        easiness = np.exp(log_easiness)[answers.task]
        logit = ability[answers.worker] * easiness
        right = _sigmoid(logit)
        residual = answer_posterior - right  # d log-likelihood / d logit
        curvature = right * (1.0 - right)  # -d2 log-likelihood / d logit2
        gradient = np.bincount(answers.worker, residual * easiness, answers.n_workers)
        gradient -= (ability - ability_prior) / PRIOR_VARIANCE
        precision = np.bincount(answers.worker, curvature * easiness**2, answers.n_workers)
        precision += 1.0 / PRIOR_VARIANCE
        ability = ability + np.clip(gradient / precision, -MAX_STEP, MAX_STEP)

        # Fisher scoring: in log_beta the exact second derivative need not be negative
        logit = ability[answers.worker] * easiness
        right = _sigmoid(logit)
        residual = answer_posterior - right
        curvature = right * (1.0 - right)
        gradient = np.bincount(answers.task, residual * logit, answers.n_tasks)
        gradient -= (log_easiness - LOG_EASINESS_MEAN) / PRIOR_VARIANCE
        precision = np.bincount(answers.task, curvature * logit**2, answers.n_tasks)
        precision += 1.0 / PRIOR_VARIANCE
        log_easiness = log_easiness + np.clip(gradient / precision, -MAX_STEP, MAX_STEP)
    return ability, log_easiness


def _e_step(answers: Answers, ability: np.ndarray, log_easiness: np.ndarray) -> np.ndarray:
    """Posterior over each task's label given the current parameters."""
    n_tasks, n_labels = answers.n_tasks, answers.n_labels
    logit = ability[answers.worker] * np.exp(log_easiness[answers.task])
    log_wrong_labels = np.log(max(n_labels - 1, 1))
    # log(1 - sigmoid(x)) = -softplus(x), and log sigmoid(x) - log(1 - sigmoid(x)) = x
    log_wrong_each = -(np.maximum(logit, 0.0) + np.log1p(np.exp(-np.abs(logit)))) - log_wrong_labels
    # every label takes each answer's "wrong" term; the answered label swaps it for "right"
    log_joint = np.bincount(answers.task, log_wrong_each, n_tasks)[:, None] + np.bincount(
        answers.task * n_labels + answers.label, logit + log_wrong_labels, n_tasks * n_labels
    ).reshape(n_tasks, n_labels)
    log_joint -= log_joint.max(axis=1, keepdims=True)
    return normalize_rows(np.exp(log_joint))
