"""Inter-annotator agreement: how far workers agree beyond what chance would give.

- `krippendorff_alpha`: the general reliability coefficient (Krippendorff 2011, "Computing
  Krippendorff's Alpha-Reliability"): any number of answers per task, nominal, ordinal or
  interval labels. The headline number for a dataset.
- `fleiss_kappa`: chance-corrected agreement of many workers on nominal labels; comparable with
  kappas reported in the literature.
- `cohen_kappa`: agreement of two given workers on the tasks both answered.
- `per_worker_agreement`: how often each worker sides with the other workers' majority; a
  screen for careless workers that needs no gold.
- `bootstrap_interval`: a percentile confidence interval for any of these, resampling tasks.
- `agreement_report`: the dataset-level measures with intervals and the per-worker shares,
  as a JSON-ready dict.

Missing data: answers are a list, so a worker who skipped a task is simply absent from it.
Only tasks with at least two answers carry information about agreement ("pairable" values in
Krippendorff's terms); tasks with a single answer are ignored by every measure here. Every
answer counts as one value, so a worker who answered a task twice contributes two values
(`cohen_kappa` and `per_worker_agreement` say how they treat this). A measure that is
undefined (nothing pairable, or every value the same so chance agreement is already perfect)
is NaN.
"""

import numbers
from collections.abc import Callable
from functools import partial

import numpy as np

from assay.quality.answers import UNKNOWN, Answers

LEVELS = ("nominal", "ordinal", "interval")
"""Levels of measurement `krippendorff_alpha` accepts."""


def task_votes(answers: Answers) -> tuple[np.ndarray, np.ndarray]:
    """[n_tasks, n_labels] answer counts per task and label, and [n_tasks] answers per task."""
    cells = answers.task * answers.n_labels + answers.label
    votes = np.bincount(cells, minlength=answers.n_tasks * answers.n_labels)
    per_task = np.bincount(answers.task, minlength=answers.n_tasks)
    return votes.reshape(answers.n_tasks, answers.n_labels).astype(float), per_task


def coincidence_matrix(answers: Answers) -> np.ndarray:
    """[n_labels, n_labels] Krippendorff's coincidences o_ck: within each task with 2+ answers
    every ordered pair of distinct answers adds 1 / (answers on the task - 1) to cell (c, k).
    Row sums are the label counts over those tasks, the total their number of answers."""
    votes, per_task = task_votes(answers)
    pair_weight = np.zeros(answers.n_tasks)
    np.divide(1.0, per_task - 1, out=pair_weight, where=per_task >= 2)
    weighted_counts = pair_weight @ votes
    return (votes.T * pair_weight) @ votes - np.diag(weighted_counts)


def krippendorff_alpha(answers: Answers, level: str = "nominal") -> float:
    """Krippendorff's alpha = 1 - observed / expected disagreement, from the coincidence matrix.

    "nominal": labels are categories. "ordinal": labels are ranked by label index (fix the
    order with `Answers.from_columns(..., label_order=...)`), with Krippendorff's ordinal metric
    built on the label frequencies. "interval": label values are numbers, the difference is
    their squared distance; ValueError if a label value is not a finite number. NaN when no
    task has two answers or all their answers carry the same label."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    label_values = numeric_label_values(answers) if level == "interval" else None
    coincidences = coincidence_matrix(answers)
    label_counts = coincidences.sum(axis=1)
    n_values = label_counts.sum()
    if level == "nominal":
        differences = 1.0 - np.eye(answers.n_labels)
    elif level == "ordinal":
        # Krippendorff's ordinal difference (sum of n_g from c to k - (n_c + n_k) / 2)^2 is the
        # squared distance between the labels' mid-ranks in the pooled pairable values.
        differences = squared_distances(np.cumsum(label_counts) - label_counts / 2)
    else:
        differences = squared_distances(label_values)
    expected = label_counts @ differences @ label_counts
    if expected == 0:
        return float("nan")
    return float(1.0 - (n_values - 1) * np.sum(coincidences * differences) / expected)


def numeric_label_values(answers: Answers) -> np.ndarray:
    """[n_labels] the label values as floats; ValueError unless all are finite numbers."""
    values = answers.labels
    bad = [v for v in values if not isinstance(v, numbers.Real) or not np.isfinite(v)]
    if bad:
        raise ValueError(f"interval agreement needs numeric label values, got {bad[0]!r}")
    return np.asarray(values, dtype=float)


def squared_distances(positions: np.ndarray) -> np.ndarray:
    """[n, n] (positions[c] - positions[k])^2."""
    return (positions[:, None] - positions[None, :]) ** 2


def fleiss_kappa(answers: Answers) -> float:
    """Fleiss' kappa over the tasks with 2+ answers.

    Observed agreement is the share of agreeing ordered answer pairs among all within-task
    pairs, so with unequal answer counts each task weighs by its number of pairs m(m-1);
    chance agreement is the sum of the squared label shares of those tasks' answers. With the
    same number of answers on every task this is Fleiss (1971) exactly."""
    votes, per_task = task_votes(answers)
    pairable = per_task >= 2
    pairs = np.sum(per_task * (per_task - 1))  # tasks with one answer have none
    if pairs == 0:
        return float("nan")
    observed = np.sum(votes * (votes - 1)) / pairs
    label_shares = pairable.astype(float) @ votes / per_task[pairable].sum()
    chance = label_shares @ label_shares
    if chance == 1:
        return float("nan")
    return float((observed - chance) / (1 - chance))


def cohen_kappa(answers: Answers, worker_a, worker_b) -> float:
    """Cohen's kappa of two workers (ids as in `answers.workers`) over the tasks both answered;
    NaN if they share none. If a worker answered a task more than once, their last answer
    counts."""
    labels_a = labels_of_worker(answers, worker_a)
    labels_b = labels_of_worker(answers, worker_b)
    shared = (labels_a != UNKNOWN) & (labels_b != UNKNOWN)
    n_shared = np.count_nonzero(shared)
    if n_shared == 0:
        return float("nan")
    n_labels = answers.n_labels
    cells = labels_a[shared] * n_labels + labels_b[shared]
    table = np.bincount(cells, minlength=n_labels * n_labels).reshape(n_labels, n_labels)
    observed = np.trace(table) / n_shared
    chance = table.sum(axis=1) @ table.sum(axis=0) / n_shared**2
    if chance == 1:
        return float("nan")
    return float((observed - chance) / (1 - chance))


def labels_of_worker(answers: Answers, worker_id) -> np.ndarray:
    """[n_tasks] the worker's label index on each task, UNKNOWN where they gave none."""
    index = np.flatnonzero(answers.workers == worker_id)
    if index.size == 0:
        raise ValueError(f"no answers from worker {worker_id!r}")
    mine = answers.worker == index[0]
    # Reversed, so that np.unique's first occurrence of a task is the worker's last answer.
    tasks, labels_given = answers.task[mine][::-1], answers.label[mine][::-1]
    answered, last_answer = np.unique(tasks, return_index=True)
    labels = np.full(answers.n_tasks, UNKNOWN, dtype=np.int64)
    labels[answered] = labels_given[last_answer]
    return labels


def per_worker_agreement(answers: Answers) -> np.ndarray:
    """[n_workers] how often each worker agrees with the others: the mean, over their answers
    on tasks someone else answered too, of the share of the other workers' answers to that
    task that are the same label. (Agreement with the others' majority would not do: with
    three answers a task, one dissent makes a tie of the two others, and every worker's score
    collapses to the share of unanimous tasks.) A worker who answered a task twice has both
    answers scored, and neither among their own "others". Answers on tasks that no other
    worker answered are left out; NaN for a worker with only such."""
    n_labels = answers.n_labels
    # One row per (task, worker): that worker's own counts, and everyone else's on the task.
    pair_key = answers.task * answers.n_workers + answers.worker
    pair_keys, pair_of_answer = np.unique(pair_key, return_inverse=True)
    own = np.zeros((len(pair_keys), n_labels))
    np.add.at(own, (pair_of_answer, answers.label), 1.0)
    others = answers.votes()[pair_keys // answers.n_workers] - own
    total = others.sum(axis=1)[pair_of_answer]
    compared = total > 0
    same = others[pair_of_answer, answers.label]
    match = np.divide(same, total, out=np.zeros_like(same), where=compared)
    n_compared = np.bincount(answers.worker[compared], minlength=answers.n_workers)
    n_agreed = np.bincount(answers.worker[compared], match[compared], minlength=answers.n_workers)
    share = np.full(answers.n_workers, np.nan)
    np.divide(n_agreed, n_compared, out=share, where=n_compared > 0)
    return share


def bootstrap_interval(
    statistic: Callable[[Answers], float],
    answers: Answers,
    *,
    samples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of `statistic`, resampling tasks with replacement.

    A resampled task keeps all its answers; a task drawn twice becomes two distinct tasks (both
    with the original id in `tasks`). Resamples on which the statistic is NaN are left out;
    (NaN, NaN) if all are."""
    if samples < 1:
        raise ValueError("samples must be at least 1")
    if not 0 < level < 1:
        raise ValueError("level must be between 0 and 1")
    n_tasks = answers.n_tasks
    by_task = np.argsort(answers.task, kind="stable")
    worker_by_task, label_by_task = answers.worker[by_task], answers.label[by_task]
    answers_per_task = np.bincount(answers.task, minlength=n_tasks)
    first_answer = np.cumsum(answers_per_task) - answers_per_task
    task_range = np.arange(n_tasks)
    rng = np.random.default_rng(seed)
    values = np.empty(samples)
    for sample in range(samples):
        copies = np.bincount(rng.integers(0, n_tasks, size=n_tasks), minlength=n_tasks)
        drawn = np.repeat(task_range, copies)  # sorted, so `tasks` stays in id order
        lengths = answers_per_task[drawn]
        new_first_answer = np.cumsum(lengths) - lengths
        new_task = np.repeat(task_range, lengths)
        # Answer i of the resample is answer i - new_first_answer + first_answer in `by_task`.
        shift = np.repeat(first_answer[drawn] - new_first_answer, lengths)
        picked = np.arange(len(new_task)) + shift
        resample = Answers(
            task=new_task,
            worker=worker_by_task[picked],
            label=label_by_task[picked],
            tasks=answers.tasks[drawn],
            workers=answers.workers,
            labels=answers.labels,
        )
        values[sample] = statistic(resample)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    tail = (1 - level) / 2
    low, high = np.quantile(values, [tail, 1 - tail])
    return float(low), float(high)


def agreement_report(
    answers: Answers, level: str = "nominal", samples: int = 1000, seed: int = 0
) -> dict:
    """Krippendorff's alpha (at `level`) and Fleiss' kappa, each with a 95% bootstrap interval,
    and each worker's agreement with the others' majority keyed by str(worker id). NaN
    becomes None so the dict serialises as JSON."""

    def with_interval(statistic: Callable[[Answers], float]) -> dict:
        low, high = bootstrap_interval(statistic, answers, samples=samples, level=0.95, seed=seed)
        return {
            "value": json_number(statistic(answers)),
            "ci95": [json_number(low), json_number(high)],
        }

    worker_agreement = per_worker_agreement(answers)
    return {
        "krippendorff_alpha": with_interval(partial(krippendorff_alpha, level=level)),
        "fleiss_kappa": with_interval(fleiss_kappa),
        "workers": {
            str(worker_id): json_number(share)
            for worker_id, share in zip(answers.workers, worker_agreement, strict=True)
        },
    }


def json_number(value: float) -> float | None:
    """`value` as a float, None for NaN."""
    return None if np.isnan(value) else float(value)
