"""MACE: each worker either knows the answer or spams, and spammers have habits.

Hovy et al. 2013, "Learning whom to trust with MACE". On each task worker i answers the true
label with probability theta_i; otherwise (probability 1 - theta_i) they spam, picking a label
from their own strategy distribution xi_i whatever the truth. So with truth t ~ pi,
P(answer a | truth t) = theta_i [a = t] + (1 - theta_i) xi_i[a]. Unlike a single
accuracy per worker, this separates skill from habit: a worker who always clicks the same label
gets a low theta and a peaked xi, so their answers stop counting even when they are many.

EM with the paper's variational-Bayes M-step (priors theta_i ~ Beta(0.5, 0.5),
xi_i ~ Dirichlet(1, ..., 1)); each "probability" below is a VB weight
exp(E[log p]) = exp(digamma(count + prior) - digamma(total + prior total)), which shrinks workers
with few answers towards "half spammer, no habit":
- Expected counts, from the current posterior p: answer a was given knowingly with probability
  p[a] theta / (theta + (1 - theta) xi[a]); the rest of it is spam, counted for xi[a].
- M-step: theta and xi from those counts; the label prior pi from the posterior's column sums
  with a Dirichlet(1, ..., 1) prior. The paper keeps pi uniform, which on skewed data (most
  tasks one label) makes the honest majority label look like spam; pi is learnt here instead.
- E-step: log posterior[t] = log pi[t] + sum over the task's answers of
  log(theta [a = t] + (1 - theta) xi[a]).
Start, deterministic instead of the paper's random restarts: the majority-vote posterior,
theta_i = the mean of the worker's `gold_prior` Beta (0.5 without gold), xi_i = the worker's own
answer frequencies, and a uniform pi for the first E-step (a pi read off the majority vote would
lock in the label a majority of habitual clickers favours). Gold tasks keep one-hot posterior
rows every iteration (`clamp_gold`), so they are fixed truth in the E-step and exact evidence of
knowing and spamming in the M-step.

Stops when no posterior entry moved more than `tolerance` in an iteration, or after
`max_iterations` iterations. Besides the common fields (`assay.quality.base`), `knowing_` is
the posterior mean of theta_i, the chance the worker is not spamming: unlike
`worker_accuracy_`, a spammer's lucky hits on the truth do not count in it.
"""

import numpy as np

from assay.quality.answers import Answers
from assay.quality.base import IterativeAggregator
from assay.quality.inference import clamp_gold, gold_prior, normalize_rows
from assay.quality.special import digamma

KNOWING_PRIOR = 0.5
"""Beta(KNOWING_PRIOR, SPAMMING_PRIOR) prior on theta."""
SPAMMING_PRIOR = 0.5
STRATEGY_PRIOR = 1.0
"""Symmetric Dirichlet prior on each worker's spamming strategy xi (1: flat)."""
CLASS_PRIOR = 1.0
"""Symmetric Dirichlet prior on the label frequencies (1: flat)."""


class MACE(IterativeAggregator):
    """Fitted besides the common fields: `knowing_` [n_workers], each worker's chance of
    not spamming, and `strategy_` [n_workers, n_labels], the labels they pick when they
    spam (variational weights)."""

    knowing_: np.ndarray
    strategy_: np.ndarray

    def _posterior(self, answers: Answers, gold: np.ndarray | None) -> np.ndarray:
        n_workers, n_labels = answers.n_workers, answers.n_labels
        answered = np.bincount(answers.worker, minlength=n_workers).astype(float)
        correct, wrong = gold_prior(answers, gold, KNOWING_PRIOR, SPAMMING_PRIOR)
        knowing_weight = correct / (correct + wrong)
        spamming_weight = 1.0 - knowing_weight
        strategy = normalize_rows(
            np.bincount(answers.worker * n_labels + answers.label, minlength=n_workers * n_labels)
            .reshape(n_workers, n_labels)
            .astype(float)
        )
        posterior = clamp_gold(normalize_rows(answers.votes()), gold)
        label_weight = np.full(n_labels, 1.0 / n_labels)
        knowing = np.zeros(n_workers)
        self.iterations_ = 0
        while self.iterations_ < self.max_iterations:
            self.iterations_ += 1
            knowing, spam_by_label = _expected_counts(
                answers, posterior, knowing_weight, spamming_weight, strategy
            )
            knowing_weight, spamming_weight, strategy = _variational_m_step(
                answered, knowing, spam_by_label
            )
            updated = clamp_gold(
                _e_step(answers, label_weight, knowing_weight, spamming_weight, strategy), gold
            )
            change = np.abs(updated - posterior).max()
            posterior = updated
            label_weight = _dirichlet_weights(posterior.sum(axis=0), CLASS_PRIOR)
            if change < self.tolerance:
                break
        self.knowing_ = (knowing + KNOWING_PRIOR) / (answered + KNOWING_PRIOR + SPAMMING_PRIOR)
        self.strategy_ = strategy
        return posterior


def _expected_counts(
    answers: Answers,
    posterior: np.ndarray,
    knowing_weight: np.ndarray,
    spamming_weight: np.ndarray,
    strategy: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per worker: expected answers given knowingly [n_workers], and expected spam answers
    per label [n_workers, n_labels]."""
    know = knowing_weight[answers.worker]
    spam = spamming_weight[answers.worker] * strategy[answers.worker, answers.label]
    knowing_each = posterior[answers.task, answers.label] * know / (know + spam)
    knowing = np.bincount(answers.worker, knowing_each, answers.n_workers)
    spam_by_label = np.bincount(
        answers.worker * answers.n_labels + answers.label,
        1.0 - knowing_each,
        answers.n_workers * answers.n_labels,
    ).reshape(answers.n_workers, answers.n_labels)
    return knowing, spam_by_label


def _variational_m_step(
    answered: np.ndarray, knowing: np.ndarray, spam_by_label: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Variational weights exp(E[log theta]), exp(E[log(1 - theta)]) and exp(E[log xi])."""
    total = digamma(answered + KNOWING_PRIOR + SPAMMING_PRIOR)
    knowing_weight = np.exp(digamma(knowing + KNOWING_PRIOR) - total)
    spamming_weight = np.exp(digamma(answered - knowing + SPAMMING_PRIOR) - total)
    return knowing_weight, spamming_weight, _dirichlet_weights(spam_by_label, STRATEGY_PRIOR)


def _dirichlet_weights(counts: np.ndarray, prior: float) -> np.ndarray:
    """exp(E[log p]) under the Dirichlet posterior (counts + prior), along the last axis."""
    total = digamma(counts.sum(axis=-1, keepdims=True) + prior * counts.shape[-1])
    return np.exp(digamma(counts + prior) - total)


def _e_step(
    answers: Answers,
    label_weight: np.ndarray,
    knowing_weight: np.ndarray,
    spamming_weight: np.ndarray,
    strategy: np.ndarray,
) -> np.ndarray:
    """Posterior over each task's label given the current weights."""
    n_tasks, n_labels = answers.n_tasks, answers.n_labels
    know = knowing_weight[answers.worker]
    spam = spamming_weight[answers.worker] * strategy[answers.worker, answers.label]
    # every label takes each answer's spam term; the answered label adds the knowing term
    log_joint = np.bincount(answers.task, np.log(spam), n_tasks)[:, None] + np.bincount(
        answers.task * n_labels + answers.label, np.log1p(know / spam), n_tasks * n_labels
    ).reshape(n_tasks, n_labels)
    log_joint += np.log(label_weight)
    log_joint -= log_joint.max(axis=1, keepdims=True)
    return normalize_rows(np.exp(log_joint))
