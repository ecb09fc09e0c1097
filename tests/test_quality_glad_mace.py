"""GLAD and MACE: hand-made tables with known answers, gold, determinism, and accuracy on
the real crowd datasets."""

import csv
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from assay.quality import GLAD, MACE
from assay.quality.answers import UNKNOWN, Answers
from assay.quality.base import Aggregator, IterativeAggregator

CROWD = Path(__file__).resolve().parents[2] / "shared" / "data" / "crowd"
METHODS: dict[str, type[IterativeAggregator]] = {"glad": GLAD, "mace": MACE}

# Measured accuracy minus about 0.01 (GLAD / MACE measured: duck 0.750 / 0.898, product
# 0.929 / 0.937, sentiment 0.920 / 0.916, tempeval 0.939 / 0.944).
FLOORS = {
    ("glad", "duck"): 0.74,
    ("glad", "product"): 0.92,
    ("glad", "sentiment"): 0.91,
    ("glad", "tempeval"): 0.929,
    ("mace", "duck"): 0.88,
    ("mace", "product"): 0.926,
    ("mace", "sentiment"): 0.905,
    ("mace", "tempeval"): 0.933,
}


def table(rows: list[tuple[str, str, str]]) -> Answers:
    tasks, workers, labels = zip(*rows, strict=True)
    return Answers.from_columns(tasks, workers, labels)


def index_of(answers: Answers, worker: str) -> int:
    return list(answers.workers).index(worker)


def good_adversary_spammer(n_labels: int) -> tuple[Answers, list[str]]:
    """Three workers always right, one always wrong (the next label), one always 'a'."""
    labels = "abc"[:n_labels]
    truth = [labels[i % n_labels] for i in range(12)]
    rows = []
    for i, label in enumerate(truth):
        task = f"t{i:02}"
        rows += [(task, f"good{k}", label) for k in range(3)]
        rows.append((task, "adversary", labels[(labels.index(label) + 1) % n_labels]))
        rows.append((task, "spammer", "a"))
    return table(rows), truth


@pytest.mark.parametrize("n_labels", [2, 3])
@pytest.mark.parametrize("method", sorted(METHODS))
def test_reliable_workers_win_and_the_adversary_and_spammer_score_lowest(method, n_labels):
    answers, truth = good_adversary_spammer(n_labels)
    fit = METHODS[method]().fit(answers)
    assert list(fit.predict()) == truth
    assert fit.confidence_.min() > 0.99
    good = [index_of(answers, f"good{k}") for k in range(3)]
    adversary, spammer = index_of(answers, "adversary"), index_of(answers, "spammer")
    assert fit.worker_accuracy_[good].min() > 0.9
    assert fit.worker_accuracy_[adversary] < 0.1
    # the spammer's 'a' is right on a third or half of the tasks: so is their accuracy
    right = 12 // n_labels
    assert fit.worker_accuracy_[spammer] == pytest.approx((right + 1) / (12 + 2), abs=0.02)


def test_mace_sees_through_a_majority_of_habitual_clickers():
    """Two reliable workers and three who always answer 'a': the majority is wrong on every
    task whose truth is 'b', but the three are spammers with a habit."""
    truth = ["a", "b"] * 10
    rows = []
    for i, label in enumerate(truth):
        rows += [(f"t{i:02}", "good1", label), (f"t{i:02}", "good2", label)]
        rows += [(f"t{i:02}", f"lazy{k}", "a") for k in range(3)]
    answers = table(rows)
    fit = MACE().fit(answers)
    assert list(fit.predict()) == truth
    lazy = [index_of(answers, f"lazy{k}") for k in range(3)]
    good = index_of(answers, "good1")
    assert fit.knowing_[lazy].max() < 0.1  # spammers, by MACE's own measure...
    assert fit.knowing_[good] > 0.9
    # ...whose 'a' is still right on half of the tasks
    np.testing.assert_allclose(fit.worker_accuracy_[lazy], (10 + 1) / (20 + 2), atol=0.01)
    assert fit.worker_accuracy_[good] > 0.9


@pytest.mark.parametrize("method", sorted(METHODS))
def test_gold_rows_are_one_hot_even_against_every_answer(method):
    answers, _ = good_adversary_spammer(2)
    gold = answers.gold_vector({"t00": "b", "t03": "b"})  # t00 is 'a' to the three good workers
    fit = METHODS[method]().fit(answers, gold)
    np.testing.assert_array_equal(fit.posterior_[gold != UNKNOWN], [[0.0, 1.0], [0.0, 1.0]])
    np.testing.assert_allclose(fit.posterior_.sum(axis=1), 1.0)


@pytest.mark.parametrize("method", sorted(METHODS))
def test_gold_tells_which_of_two_always_disagreeing_workers_to_trust(method):
    truth = ["a", "b"] * 6
    rows = []
    for i, label in enumerate(truth):
        rows += [(f"t{i:02}", "right", label), (f"t{i:02}", "wrong", "b" if label == "a" else "a")]
    answers = table(rows)
    blind = METHODS[method]().fit(answers)
    np.testing.assert_allclose(blind.posterior_, 0.5)  # nothing tells the two apart
    fit = METHODS[method]().fit(answers, answers.gold_vector({"t00": "a", "t01": "b"}))
    assert list(fit.predict()) == truth
    assert (
        fit.worker_accuracy_[index_of(answers, "right")]
        > fit.worker_accuracy_[index_of(answers, "wrong")]
    )


def test_glad_finds_split_tasks_harder_than_unanimous_ones():
    rows = []
    for i in range(12):
        split = i % 3 == 0
        rows += [(f"t{i:02}", f"w{k}", "b" if split and k < 2 else "a") for k in range(5)]
    answers = table(rows)
    fit = GLAD().fit(answers)
    split = np.arange(12) % 3 == 0
    assert (fit.predict() == "a").all()
    assert fit.difficulty_[split].min() > fit.difficulty_[~split].max()


@cache
def crowd(name: str) -> tuple[Answers, dict[str, str]]:
    if not CROWD.is_dir():
        pytest.skip(f"no crowd datasets at {CROWD}")
    with (CROWD / name / "answers.csv").open(newline="") as f:
        rows = [(r["task"], r["worker"], r["label"]) for r in csv.DictReader(f)]
    with (CROWD / name / "truth.csv").open(newline="") as f:
        truth = {r["task"]: r["label"] for r in csv.DictReader(f)}
    return table(rows), truth


def accuracy(answers: Answers, fit: Aggregator, truth: dict[str, str]) -> float:
    chosen = dict(zip(answers.tasks, fit.predict(), strict=True))
    return float(np.mean([chosen[task] == label for task, label in truth.items()]))


@pytest.mark.parametrize("method", sorted(METHODS))
def test_fits_are_deterministic_and_well_formed(method):
    answers, truth = crowd("tempeval")
    gold = answers.gold_vector(dict(list(truth.items())[::10]))
    first, second = METHODS[method]().fit(answers, gold), METHODS[method]().fit(answers, gold)
    np.testing.assert_array_equal(first.posterior_, second.posterior_)
    np.testing.assert_array_equal(first.worker_accuracy_, second.worker_accuracy_)
    assert first.iterations_ == second.iterations_ <= 100
    assert first.posterior_.shape == (answers.n_tasks, answers.n_labels)
    np.testing.assert_allclose(first.posterior_.sum(axis=1), 1.0)
    assert ((first.worker_accuracy_ >= 0) & (first.worker_accuracy_ <= 1)).all()
    assert (first.posterior_[gold != UNKNOWN].max(axis=1) == 1.0).all()
    assert METHODS[method](max_iterations=1).fit(answers).iterations_ == 1


@pytest.mark.parametrize(("method", "dataset"), sorted(FLOORS))
def test_accuracy_on_real_datasets(method, dataset):
    answers, truth = crowd(dataset)
    assert accuracy(answers, METHODS[method]().fit(answers), truth) >= FLOORS[method, dataset]
