"""Agreement measures: published worked examples, definitions computed the slow way, and a
real crowd dataset."""

import csv
from collections import Counter
from fractions import Fraction
from itertools import permutations
from pathlib import Path

import numpy as np
import orjson
import pytest

from assay.quality.agreement import (
    LEVELS,
    agreement_report,
    bootstrap_interval,
    cohen_kappa,
    coincidence_matrix,
    fleiss_kappa,
    krippendorff_alpha,
    per_worker_agreement,
)
from assay.quality.answers import Answers

CROWD = Path(__file__).resolve().parents[2] / "shared" / "data" / "crowd"

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: observers A-D
# (rows) x units 1-12 (columns), None where an observer gave no value.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]
# The example of Wikipedia's "Krippendorff's alpha" article: coders A-C x units 1-15.
WIKIPEDIA_ALPHA = [
    [None, None, None, None, None, 3, 4, 1, 2, 1, 1, 3, 3, None, 3],
    [1, None, 2, 1, 3, 3, 4, 3, None, None, None, None, None, None, None],
    [None, None, 2, 1, 3, 4, 4, None, 2, 1, 1, 3, 3, None, 4],
]
# Wikipedia's "Fleiss' kappa" worked example: 10 subjects (rows), 14 raters, number of raters
# who chose each of 5 categories.
WIKIPEDIA_FLEISS = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def from_reliability_data(rows: list[list]) -> Answers:
    """Observers x units matrix (None = missing) as answers."""
    cells = [
        (unit, observer, value)
        for observer, row in enumerate(rows)
        for unit, value in enumerate(row)
        if value is not None
    ]
    return Answers.from_columns(*zip(*cells, strict=True))


def from_category_counts(rows: list[list[int]]) -> Answers:
    """Subjects x categories rater counts as answers (rater r gives the subject's r-th label)."""
    cells = []
    for subject, counts in enumerate(rows):
        labels = [category for category, count in enumerate(counts) for _ in range(count)]
        cells += [(subject, rater, label) for rater, label in enumerate(labels)]
    return Answers.from_columns(*zip(*cells, strict=True), label_order=range(len(rows[0])))


def units_of(answers: Answers) -> list[list[float]]:
    """The label values given to each task."""
    units = [[] for _ in range(answers.n_tasks)]
    for task, label in zip(answers.task, answers.label, strict=True):
        units[task].append(answers.labels[label])
    return units


def pairwise_alpha(units: list[list[float]], level: str) -> float:
    """Krippendorff's alpha from its definition, pair by pair: the mean difference between two
    values of one unit (each unit's pairs weighted 1 / (m_u - 1)) over the mean difference
    between any two pairable values."""
    units = [unit for unit in units if len(unit) >= 2]
    pooled = [value for unit in units for value in unit]
    n = len(pooled)
    frequency = Counter(pooled)

    def difference(c: float, k: float) -> float:
        if level == "nominal":
            return float(c != k)
        if level == "interval":
            return float(c - k) ** 2
        low, high = sorted((c, k))
        between = sum(count for value, count in frequency.items() if low <= value <= high)
        return (between - (frequency[c] + frequency[k]) / 2) ** 2

    observed = sum(
        difference(c, k) / (len(unit) - 1) for unit in units for c, k in permutations(unit, 2)
    )
    expected = sum(difference(c, k) for c, k in permutations(pooled, 2)) / (n - 1)
    return 1 - observed / expected


def random_answers(
    seed: int, n_tasks: int = 40, n_workers: int = 6, n_labels: int = 4, accuracy: float = 0.7
) -> Answers:
    """Workers who give a task's true label with probability `accuracy`, else a random one;
    each worker skips a task with probability 0.4."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_labels, n_tasks)
    cells = []
    for task in range(n_tasks):
        for worker in range(n_workers):
            if rng.random() < 0.4:
                continue
            right = rng.random() < accuracy
            label = truth[task] if right else rng.integers(0, n_labels)
            cells.append((task, f"w{worker}", int(label)))
    return Answers.from_columns(*zip(*cells, strict=True), label_order=range(n_labels))


def load_crowd(name: str) -> Answers:
    with open(CROWD / name / "answers.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    return Answers.from_columns(
        [row["task"] for row in rows],
        [row["worker"] for row in rows],
        [int(row["label"]) for row in rows],
    )


# --- Krippendorff's alpha ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_alpha_on_krippendorff_2011_example(level, published):
    answers = from_reliability_data(KRIPPENDORFF_2011)
    alpha = krippendorff_alpha(answers, level)
    assert alpha == pytest.approx(pairwise_alpha(units_of(answers), level), abs=1e-12)
    assert round(alpha, 3) == published


def test_coincidences_on_krippendorff_2011_example():
    # The paper's nominal coincidence matrix (times 3) and its marginals n_c, n = 40.
    expected_times_3 = [
        [21, 4, 1, 1, 0],
        [4, 30, 4, 1, 0],
        [1, 4, 24, 1, 0],
        [1, 1, 1, 12, 0],
        [0, 0, 0, 0, 9],
    ]
    coincidences = coincidence_matrix(from_reliability_data(KRIPPENDORFF_2011))
    np.testing.assert_allclose(coincidences * 3, expected_times_3)
    np.testing.assert_allclose(coincidences.sum(axis=1), [9, 13, 10, 5, 3])


@pytest.mark.parametrize(("level", "published"), [("nominal", 0.691), ("interval", 0.811)])
def test_alpha_on_wikipedia_example(level, published):
    answers = from_reliability_data(WIKIPEDIA_ALPHA)
    alpha = krippendorff_alpha(answers, level)
    assert alpha == pytest.approx(pairwise_alpha(units_of(answers), level), abs=1e-12)
    assert round(alpha, 3) == published


@pytest.mark.parametrize("seed", range(5))
def test_alpha_matches_pairwise_definition_on_random_data(seed):
    answers = random_answers(seed)
    units = units_of(answers)
    for level in LEVELS:
        expected = pairwise_alpha(units, level)
        assert krippendorff_alpha(answers, level) == pytest.approx(expected, abs=1e-12)


def test_ordinal_alpha_follows_label_order_not_values():
    # Ordinal alpha uses ranks only: relabelling monotonically leaves it unchanged.
    answers = from_reliability_data(KRIPPENDORFF_2011)
    squashed = [
        [None if v is None else {1: 1, 2: 10, 3: 11, 4: 50, 5: 51}[v] for v in row]
        for row in KRIPPENDORFF_2011
    ]
    assert krippendorff_alpha(from_reliability_data(squashed), "ordinal") == pytest.approx(
        krippendorff_alpha(answers, "ordinal")
    )
    words = {1: "low", 2: "fair", 3: "mid", 4: "good", 5: "top"}
    named = [[None if v is None else words[v] for v in row] for row in KRIPPENDORFF_2011]
    cells = from_reliability_data(named)
    ordered = Answers.from_columns(
        cells.task, cells.worker, cells.labels[cells.label], label_order=list(words.values())
    )
    assert krippendorff_alpha(ordered, "ordinal") == pytest.approx(
        krippendorff_alpha(answers, "ordinal")
    )
    alphabetical = Answers.from_columns(cells.task, cells.worker, cells.labels[cells.label])
    assert krippendorff_alpha(alphabetical, "ordinal") != pytest.approx(
        krippendorff_alpha(answers, "ordinal")
    )


def test_interval_alpha_needs_numeric_labels_and_levels_are_checked():
    answers = Answers.from_columns([1, 1, 2, 2], ["a", "b", "a", "b"], ["x", "x", "y", "y"])
    assert krippendorff_alpha(answers, "nominal") == 1.0
    assert krippendorff_alpha(answers, "ordinal") == 1.0
    with pytest.raises(ValueError, match="numeric"):
        krippendorff_alpha(answers, "interval")
    with pytest.raises(ValueError, match="level"):
        krippendorff_alpha(answers, "ratio")


def test_single_answer_tasks_are_ignored_and_nothing_pairable_is_nan():
    answers = from_reliability_data(KRIPPENDORFF_2011)
    cells = list(zip(answers.task, answers.worker, answers.labels[answers.label], strict=True))
    cells += [(100 + i, 0, 1 + i % 5) for i in range(20)]  # 20 more tasks, one answer each
    padded = Answers.from_columns(*zip(*cells, strict=True))
    for level in LEVELS:
        assert krippendorff_alpha(padded, level) == pytest.approx(
            krippendorff_alpha(answers, level)
        )
    assert fleiss_kappa(padded) == pytest.approx(fleiss_kappa(answers))
    lonely = Answers.from_columns([1, 2, 3], ["a", "b", "c"], [0, 1, 0])
    assert np.isnan(krippendorff_alpha(lonely))
    assert np.isnan(fleiss_kappa(lonely))


# --- Fleiss' and Cohen's kappa -------------------------------------------------------------


def test_fleiss_kappa_on_wikipedia_example():
    assert round(fleiss_kappa(from_category_counts(WIKIPEDIA_FLEISS)), 3) == 0.210


def test_fleiss_kappa_with_unequal_counts_weighs_tasks_by_pairs():
    answers = random_answers(7)
    units = [unit for unit in units_of(answers) if len(unit) >= 2]
    agreeing_pairs = sum(c == k for unit in units for c, k in permutations(unit, 2))
    all_pairs = sum(len(unit) * (len(unit) - 1) for unit in units)
    pooled = Counter(value for unit in units for value in unit)
    n = sum(pooled.values())
    chance = sum((count / n) ** 2 for count in pooled.values())
    observed = agreeing_pairs / all_pairs
    expected = (observed - chance) / (1 - chance)
    assert fleiss_kappa(answers) == pytest.approx(expected, abs=1e-12)


def cohen_example() -> tuple[Answers, list[list[int]]]:
    """Workers a and b on 20 shared tasks with a known 3 x 3 table (rows: a's label, columns:
    b's), plus tasks only one of them answered and a third worker."""
    table = [[5, 1, 0], [2, 6, 1], [0, 1, 4]]
    cells = []
    task = 0
    for label_a, row in enumerate(table):
        for label_b, count in enumerate(row):
            for _ in range(count):
                cells += [(task, "a", label_a), (task, "b", label_b), (task, "c", 0)]
                task += 1
    cells += [(100, "a", 2), (101, "b", 0), (102, "c", 1)]
    return Answers.from_columns(*zip(*cells, strict=True)), table


def test_cohen_kappa_on_a_hand_made_table():
    answers, table = cohen_example()
    n = sum(map(sum, table))
    observed = Fraction(sum(table[i][i] for i in range(3)), n)
    rows = [sum(row) for row in table]
    columns = [sum(column) for column in zip(*table, strict=True)]
    chance = Fraction(sum(r * c for r, c in zip(rows, columns, strict=True)), n * n)
    expected = float((observed - chance) / (1 - chance))  # 0.6169
    assert cohen_kappa(answers, "a", "b") == pytest.approx(expected, abs=1e-12)
    assert cohen_kappa(answers, "b", "a") == pytest.approx(expected, abs=1e-12)


def labels_by_task(answers: Answers, worker_id: str) -> dict[int, int]:
    mine = answers.worker == list(answers.workers).index(worker_id)
    return dict(zip(answers.task[mine], answers.label[mine], strict=True))


def test_cohen_kappa_matches_sklearn():
    metrics = pytest.importorskip("sklearn.metrics")
    answers, _ = cohen_example()
    for seed in range(3):
        sample = random_answers(seed, n_tasks=80)
        for first, second in [("w0", "w1"), ("w2", "w5")]:
            in_first, in_second = labels_by_task(sample, first), labels_by_task(sample, second)
            shared = sorted(in_first.keys() & in_second.keys())
            expected = metrics.cohen_kappa_score(
                [in_first[t] for t in shared], [in_second[t] for t in shared]
            )
            assert cohen_kappa(sample, first, second) == pytest.approx(expected, abs=1e-12)
    labels_a = [0] * 6 + [1] * 9 + [2] * 5
    labels_b = [0, 0, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 2, 1, 2, 2, 2, 2]
    assert cohen_kappa(answers, "a", "b") == pytest.approx(
        metrics.cohen_kappa_score(labels_a, labels_b), abs=1e-12
    )


def test_cohen_kappa_without_shared_tasks_is_nan_and_unknown_workers_fail():
    answers = Answers.from_columns([1, 2, 3, 3], ["a", "b", "a", "c"], [0, 1, 1, 1])
    assert np.isnan(cohen_kappa(answers, "a", "b"))
    with pytest.raises(ValueError, match="worker"):
        cohen_kappa(answers, "a", "nobody")


def test_cohen_kappa_takes_a_workers_last_answer_to_a_task():
    cells = [(1, "a", 0), (1, "b", 1), (2, "a", 1), (2, "b", 0), (1, "a", 1), (3, "b", 1)]
    answers = Answers.from_columns(*zip(*cells, strict=True))
    # a's last answers are 1 on task 1 and 1 on task 2; b's are 1 and 0.
    assert cohen_kappa(answers, "a", "b") == 0.0


# --- perfect agreement, per-worker agreement -----------------------------------------------


def test_perfect_agreement_is_one():
    tasks = [t for t in range(6) for _ in range(3)]
    workers = ["a", "b", "c"] * 6
    labels = [t % 3 for t in tasks]
    answers = Answers.from_columns(tasks, workers, labels)
    for level in LEVELS:
        assert krippendorff_alpha(answers, level) == 1.0
    assert fleiss_kappa(answers) == 1.0
    assert cohen_kappa(answers, "a", "c") == 1.0
    np.testing.assert_array_equal(per_worker_agreement(answers), [1.0, 1.0, 1.0])


def test_no_variation_at_all_is_nan():
    # Every answer the same label: chance agreement is already perfect, so nothing is measured.
    answers = Answers.from_columns([1, 1, 2, 2], ["a", "b", "a", "b"], [1, 1, 1, 1])
    assert np.isnan(krippendorff_alpha(answers))
    assert np.isnan(fleiss_kappa(answers))
    assert np.isnan(cohen_kappa(answers, "a", "b"))


def test_per_worker_agreement_by_hand():
    cells = [
        # task 1: everyone says x; each answer matches all of its others: 1 each.
        (1, "a", "x"), (1, "b", "x"), (1, "c", "x"),
        # task 2: a's others (b: y, d: x) -> 1/2; b's others (x, x) -> 0; d's -> 1/2.
        (2, "a", "x"), (2, "b", "y"), (2, "d", "x"),
        # task 3: c alone -> not compared.
        (3, "c", "y"),
        # task 4: e alone -> e is never compared.
        (4, "e", "x"),
    ]  # fmt: skip
    answers = Answers.from_columns(*zip(*cells, strict=True))
    np.testing.assert_array_equal(per_worker_agreement(answers), [0.75, 0.5, 1.0, 0.5, np.nan])


def test_per_worker_agreement_tells_good_workers_from_worse_at_overlap_three():
    """With the others' majority as the reference, all three would score alike."""
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 2, 3000)
    accuracy = {"good": 0.95, "fair": 0.9, "poor": 0.8}
    cells = [
        (t, w, truth[t] if rng.random() < p else 1 - truth[t])
        for t in range(3000)
        for w, p in accuracy.items()
    ]
    answers = Answers.from_columns(*zip(*cells, strict=True))
    scores = dict(zip(answers.workers, per_worker_agreement(answers), strict=True))
    assert scores["good"] > scores["fair"] > scores["poor"]


def naive_per_worker_agreement(answers: Answers) -> np.ndarray:
    agreed = np.zeros(answers.n_workers)
    compared = np.zeros(answers.n_workers)
    for task, worker, label in zip(answers.task, answers.worker, answers.label, strict=True):
        others = [
            other_label
            for other_task, other_worker, other_label in zip(
                answers.task, answers.worker, answers.label, strict=True
            )
            if other_task == task and other_worker != worker
        ]
        if not others:
            continue
        compared[worker] += 1
        agreed[worker] += others.count(label) / len(others)
    with np.errstate(invalid="ignore", divide="ignore"):
        return agreed / compared


@pytest.mark.parametrize("seed", range(3))
def test_per_worker_agreement_matches_a_loop(seed):
    answers = random_answers(seed, n_labels=3, accuracy=0.6)
    np.testing.assert_allclose(
        per_worker_agreement(answers), naive_per_worker_agreement(answers), equal_nan=True
    )


def test_per_worker_agreement_leaves_out_the_workers_own_repeated_answers():
    # a answered task 1 twice; only b's and c's answers are a's others there.
    cells = [(1, "a", 0), (1, "a", 0), (1, "b", 1), (1, "c", 1), (2, "a", 1), (2, "b", 1)]
    answers = Answers.from_columns(*zip(*cells, strict=True))
    # a: 0, 0 on task 1 and 1 on task 2 -> 1/3; b: 1/3 then 1 -> 2/3; c: 1/3.
    np.testing.assert_allclose(per_worker_agreement(answers), [1 / 3, 2 / 3, 1 / 3])


# --- bootstrap -----------------------------------------------------------------------------


def test_bootstrap_interval_contains_estimate_and_narrows_with_more_tasks():
    small, large = random_answers(1, n_tasks=100), random_answers(1, n_tasks=1600)
    widths = []
    for answers in (small, large):
        for statistic in (krippendorff_alpha, fleiss_kappa):
            low, high = bootstrap_interval(statistic, answers, samples=300)
            assert low <= statistic(answers) <= high
        low, high = bootstrap_interval(krippendorff_alpha, answers, samples=300)
        widths.append(high - low)
    assert widths[1] < widths[0] / 2  # 16 x the tasks: about a quarter of the width


def test_bootstrap_is_deterministic_for_a_seed():
    answers = random_answers(2, n_tasks=200)
    first = bootstrap_interval(krippendorff_alpha, answers, samples=200, seed=5)
    assert bootstrap_interval(krippendorff_alpha, answers, samples=200, seed=5) == first
    assert bootstrap_interval(krippendorff_alpha, answers, samples=200, seed=6) != first
    narrower = bootstrap_interval(krippendorff_alpha, answers, samples=200, level=0.5, seed=5)
    assert first[0] < narrower[0] < narrower[1] < first[1]


def cells_of_task(answers: Answers, task: int) -> list[tuple[int, int]]:
    mine = answers.task == task
    return sorted(zip(answers.worker[mine], answers.label[mine], strict=True))


def test_bootstrap_resamples_whole_tasks():
    answers = random_answers(3, n_tasks=30)
    original = {answers.tasks[t]: cells_of_task(answers, t) for t in range(answers.n_tasks)}
    seen_twice = 0

    def check(resample: Answers) -> float:
        nonlocal seen_twice
        assert resample.n_tasks == answers.n_tasks
        assert list(resample.tasks) == sorted(resample.tasks)
        for t in range(resample.n_tasks):
            assert cells_of_task(resample, t) == original[resample.tasks[t]]
        seen_twice += len(set(resample.tasks)) < resample.n_tasks
        return float(len(resample.task))

    bootstrap_interval(check, answers, samples=20)
    assert seen_twice == 20  # 30 draws from 30 tasks are all distinct with odds of 1e-12


def test_bootstrap_skips_nan_resamples_and_checks_arguments():
    answers = random_answers(4, n_tasks=20)
    assert all(np.isnan(bootstrap_interval(lambda _: float("nan"), answers, samples=5)))
    with pytest.raises(ValueError):
        bootstrap_interval(krippendorff_alpha, answers, samples=0)
    with pytest.raises(ValueError):
        bootstrap_interval(krippendorff_alpha, answers, level=1.0)


# --- real data -----------------------------------------------------------------------------


def test_on_real_sentiment_answers():
    # 27,746 answers of 203 workers on 4,999 binary tasks, 4-10 answers each.
    answers = load_crowd("sentiment")
    alpha = krippendorff_alpha(answers)
    assert round(alpha, 3) == 0.428  # moderate agreement, as expected for crowd sentiment
    for level in ("ordinal", "interval"):  # with two labels every metric is the same
        assert krippendorff_alpha(answers, level) == pytest.approx(alpha)
    assert round(fleiss_kappa(answers), 3) == 0.415
    low, high = bootstrap_interval(krippendorff_alpha, answers, samples=200)
    assert 0.40 < low < alpha < high < 0.46
    agreement = per_worker_agreement(answers)
    assert np.all((agreement >= 0) & (agreement <= 1))
    assert 0.7 < np.median(agreement) < 0.9
    busiest = answers.workers[np.argsort(np.bincount(answers.worker))[-2:]]
    assert -1 <= cohen_kappa(answers, *busiest) <= 1

    report = agreement_report(answers, samples=100)
    assert set(report) == {"krippendorff_alpha", "fleiss_kappa", "workers"}
    assert report["krippendorff_alpha"]["value"] == pytest.approx(alpha)
    assert len(report["krippendorff_alpha"]["ci95"]) == 2
    assert len(report["workers"]) == answers.n_workers
    assert orjson.loads(orjson.dumps(report)) == report


def test_report_turns_undefined_values_into_null():
    answers = Answers.from_columns([1, 2], ["a", "b"], [0, 1])
    report = agreement_report(answers, samples=10)
    assert report == {
        "krippendorff_alpha": {"value": None, "ci95": [None, None]},
        "fleiss_kappa": {"value": None, "ci95": [None, None]},
        "workers": {"a": None, "b": None},
    }
    orjson.dumps(report)
