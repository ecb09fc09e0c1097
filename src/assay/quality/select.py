"""`--method auto`: pick the categorical method that predicts held-out evidence best.

With at least MIN_GOLD gold tasks: K-fold cross-validation over the gold tasks. Each
method is fitted K times with one fold's gold hidden and scored by its accuracy on the
hidden fold; the best mean accuracy wins.

Without (enough) gold: held-out answers. For every task with at least 3 answers, one
answer (chosen with a fixed seed) is hidden; each method is fitted on the rest and
scored by the mean log-probability of the hidden answers under one observation model
for all methods, fed by each method's own posteriors: per-worker confusion matrices
estimated from the posteriors (as Dawid-Skene's M-step does), and P(label l) =
sum_k posterior[k] * C[worker, k, l].

Ties go to the method listed first in `CATEGORICAL` (the simplest). With neither enough
gold nor any task of 3 answers there is nothing to judge by: majority vote.
"""

import numpy as np

from assay.quality.answers import UNKNOWN, Answers
from assay.quality.base import Aggregator
from assay.quality.dawid_skene import confusion_matrices

MIN_GOLD = 20
FOLDS = 5
SEED = 0


def _gold_accuracy(method: type[Aggregator], answers: Answers, gold: np.ndarray) -> float:
    known = np.flatnonzero(gold != UNKNOWN)
    folds = np.array_split(np.random.default_rng(SEED).permutation(known), FOLDS)
    scores = []
    for fold in folds:
        training = gold.copy()
        training[fold] = UNKNOWN
        predicted = method().fit(answers, training).label_index_[fold]
        scores.append(np.mean(predicted == gold[fold]))
    return float(np.mean(scores))


def _subset(answers: Answers, keep: np.ndarray) -> Answers:
    return Answers(
        answers.task[keep],
        answers.worker[keep],
        answers.label[keep],
        answers.tasks,
        answers.workers,
        answers.labels,
    )


def _held_out_answers(answers: Answers) -> np.ndarray:
    """Indices of one answer per task with at least 3 answers."""
    rng = np.random.default_rng(SEED)
    order = np.lexsort((rng.random(len(answers.task)), answers.task))
    first = np.ones(len(order), dtype=bool)
    first[1:] = answers.task[order][1:] != answers.task[order][:-1]
    counts = np.bincount(answers.task, minlength=answers.n_tasks)
    chosen = order[first]
    return chosen[counts[answers.task[chosen]] >= 3]


def _log_likelihood(fit: Aggregator, answers: Answers, hidden: np.ndarray) -> float:
    confusion = confusion_matrices(fit.answers_, fit.posterior_)
    posterior = fit.posterior_[answers.task[hidden]]
    rows = confusion[answers.worker[hidden], :, answers.label[hidden]]  # [hidden, true label]
    return float(np.mean(np.log((posterior * rows).sum(axis=1))))


def choose_method(
    methods: dict[str, type[Aggregator]], answers: Answers, gold: np.ndarray | None
) -> tuple[str, str]:
    """(name of the chosen method, the rule that chose it)."""
    if gold is not None and np.count_nonzero(gold != UNKNOWN) >= MIN_GOLD:
        scores = {name: _gold_accuracy(m, answers, gold) for name, m in methods.items()}
        rule = f"best {FOLDS}-fold accuracy on gold"
    else:
        hidden = _held_out_answers(answers)
        if len(hidden) == 0:
            return "mv", "too little data to choose: no task has 3 answers (majority vote)"
        keep = np.ones(len(answers.task), dtype=bool)
        keep[hidden] = False
        training = _subset(answers, keep)
        scores = {
            name: _log_likelihood(m().fit(training, gold), answers, hidden)
            for name, m in methods.items()
        }
        rule = "best log-likelihood of held-out answers"
    best = max(scores, key=lambda name: scores[name])  # max keeps the first of equals
    return best, f"{rule} ({', '.join(f'{n}={s:.4f}' for n, s in scores.items())})"
