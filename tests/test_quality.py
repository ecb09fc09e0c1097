"""Truth inference (voting, Dawid-Skene, numeric) and `assay aggregate`, on hand-made
tables with known answers and on the real crowd datasets."""

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assay.quality import CATEGORICAL, NUMERIC
from assay.quality.answers import UNKNOWN, Answers
from assay.quality.numeric import NumericAnswers

CROWD = Path(__file__).resolve().parents[2] / "shared" / "data" / "crowd"
ASSAY = str(Path(sys.executable).parent / "assay")


def crowd(name: str) -> tuple[list[str], list[str], list[str], dict[str, str]]:
    with (CROWD / name / "answers.csv").open() as f:
        rows = list(csv.DictReader(f))
    with (CROWD / name / "truth.csv").open() as f:
        truth = {r["task"]: r["label"] for r in csv.DictReader(f)}
    return [r["task"] for r in rows], [r["worker"] for r in rows], [r["label"] for r in rows], truth


def accuracy(answers: Answers, label_index: np.ndarray, truth: dict[str, str]) -> float:
    chosen = dict(zip(answers.tasks, answers.labels[label_index], strict=True))
    return float(np.mean([chosen[t] == label for t, label in truth.items() if t in chosen]))


def adversarial_table() -> tuple[Answers, list[str]]:
    """Two reliable workers and three who always answer 'a': the majority is wrong on
    every task whose truth is 'b'."""
    truth = ["a", "b"] * 10
    rows = []
    for i, label in enumerate(truth):
        rows += [(f"t{i:02}", "good1", label), (f"t{i:02}", "good2", label)]
        rows += [(f"t{i:02}", f"lazy{k}", "a") for k in range(3)]
    tasks, workers, labels = zip(*rows, strict=True)
    return Answers.from_columns(tasks, workers, labels), truth


def test_majority_vote_shares_and_tie_break():
    answers = Answers.from_columns(
        ["t1", "t1", "t1", "t2", "t2"], ["w1", "w2", "w3", "w1", "w2"], ["x", "y", "y", "x", "y"]
    )
    fit = CATEGORICAL["mv"]().fit(answers)
    np.testing.assert_allclose(fit.posterior_, [[1 / 3, 2 / 3], [0.5, 0.5]])
    assert list(fit.predict()) == ["y", "x"]  # the tie goes to 'x', first
    ordered = Answers.from_columns(["t"] * 2, ["w1", "w2"], ["x", "y"], label_order=["y", "x"])
    assert list(CATEGORICAL["mv"]().fit_predict(ordered)) == ["y"]


def test_dawid_skene_sees_through_a_lazy_majority():
    answers, truth = adversarial_table()
    mv = CATEGORICAL["mv"]().fit(answers)
    assert list(mv.predict()) == ["a"] * 20  # the floor: wrong on every 'b'
    fit = CATEGORICAL["ds"]().fit(answers)
    assert list(fit.predict()) == truth
    good = [list(answers.workers).index(w) for w in ("good1", "good2")]
    assert fit.worker_accuracy_[good].min() > np.delete(fit.worker_accuracy_, good).max()


@pytest.mark.parametrize("method", sorted(CATEGORICAL))
def test_gold_answers_are_certain_and_fits_are_deterministic(method):
    answers, _ = adversarial_table()
    gold = answers.gold_vector({"t05": "a", "t07": "b"})
    first = CATEGORICAL[method]().fit(answers, gold)
    second = CATEGORICAL[method]().fit(answers, gold)
    np.testing.assert_array_equal(first.posterior_, second.posterior_)
    np.testing.assert_allclose(first.posterior_.sum(axis=1), 1.0)
    known = gold != UNKNOWN
    assert (first.posterior_[known].max(axis=1) == 1.0).all()
    assert list(first.label_index_[known]) == list(gold[known])


def test_worker_accuracy_means_the_same_for_every_method():
    """Simulated workers right with known chances (wrong answers spread evenly): every
    method's `worker_accuracy_` estimates that chance, so one removal threshold fits all."""
    rng = np.random.default_rng(0)
    chances = {"w95": 0.95, "w90": 0.9, "w80": 0.8, "w70": 0.7, "w40": 0.4}
    truth = rng.integers(0, 3, 400)
    rows = []
    for t, true in enumerate(truth):
        for worker, chance in chances.items():
            label = true if rng.random() < chance else (true + rng.integers(1, 3)) % 3
            rows.append((f"t{t:03}", worker, "abc"[label]))
    answers = Answers.from_columns(*zip(*rows, strict=True))
    expected = np.array([chances[w] for w in answers.workers])
    for method, aggregator in CATEGORICAL.items():
        fit = aggregator().fit(answers)
        assert np.abs(fit.worker_accuracy_ - expected).max() < 0.08, method
        assert list(np.argsort(fit.worker_accuracy_)) == list(np.argsort(expected)), method


def test_gold_labels_must_be_answer_labels():
    answers, _ = adversarial_table()
    with pytest.raises(ValueError, match="'c'"):
        answers.gold_vector({"t00": "c"})


# Floors on the real data: what these methods reach, a little below (see BENCHMARKS.md).
FLOORS = {
    ("duck", "mv"): 0.75,
    ("duck", "ds"): 0.88,
    ("product", "mv"): 0.89,
    ("product", "ds"): 0.93,
    ("product", "onecoin"): 0.90,
    ("sentiment", "mv"): 0.88,
    ("sentiment", "wawa"): 0.89,
    ("sentiment", "ds"): 0.91,
    ("sentiment", "onecoin"): 0.91,
    ("tempeval", "wawa"): 0.93,
    ("tempeval", "ds"): 0.93,
}


@pytest.mark.parametrize(("dataset", "method"), sorted(FLOORS))
def test_accuracy_on_real_crowd_data(dataset, method):
    tasks, workers, labels, truth = crowd(dataset)
    answers = Answers.from_columns(tasks, workers, labels)
    assert (
        accuracy(answers, CATEGORICAL[method]().fit(answers).label_index_, truth)
        >= FLOORS[(dataset, method)]
    )


def test_numeric_methods_on_a_known_table():
    answers = NumericAnswers.from_columns(
        ["t1"] * 4 + ["t2"] * 3, ["a", "b", "c", "d", "a", "b", "c"], [1, 2, 3, 10, 5, 5, 8]
    )
    np.testing.assert_allclose(NUMERIC["mean"](answers).value, [4.0, 6.0])
    np.testing.assert_allclose(NUMERIC["median"](answers).value, [2.5, 5.0])


def test_lfcn_trusts_precise_workers_more():
    rng = np.random.default_rng(1)
    truth = rng.normal(0, 10, 300)
    sd = {"steady1": 1.0, "steady2": 1.0, "wild": 15.0}
    rows = [(t, w, truth[t] + rng.normal(0, s)) for t in range(300) for w, s in sd.items()]
    answers = NumericAnswers.from_columns(*zip(*rows, strict=True))
    lfcn, mean = NUMERIC["lfcn"](answers), NUMERIC["mean"](answers)
    assert np.abs(lfcn.value - truth).mean() < 0.5 * np.abs(mean.value - truth).mean()
    wild = list(answers.workers).index("wild")
    assert lfcn.worker_sd[wild] > 5 * np.delete(lfcn.worker_sd, wild).max()


def test_emotion_scores():
    tasks, workers, values, truth = crowd("emotion")
    answers = NumericAnswers.from_columns(tasks, workers, values)
    target = np.array([float(truth[t]) for t in answers.tasks])
    mae = {m: np.abs(NUMERIC[m](answers).value - target).mean() for m in NUMERIC}
    assert mae["mean"] == pytest.approx(12.02, abs=0.01)
    assert mae["median"] == pytest.approx(13.53, abs=0.01)
    assert mae["lfcn"] < 12.3


def test_aggregate_command(tmp_path):
    out, quality = tmp_path / "out.csv", tmp_path / "workers.csv"
    done = subprocess.run(
        [ASSAY, "aggregate", str(CROWD / "duck" / "answers.csv"), "--method", "ds"]
        + ["-o", str(out), "--workers", str(quality)],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = done.stderr.strip().splitlines()[-1]
    assert summary.startswith("method=ds tasks=108 workers=39 answers=4212")
    assert float(summary.split("fit_seconds=")[1]) > 0
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 108 and set(rows[0]) == {"task", "label", "confidence"}
    _, _, _, truth = crowd("duck")
    assert np.mean([truth[r["task"]] == r["label"] for r in rows]) >= 0.88
    with quality.open() as f:
        assert len(list(csv.DictReader(f))) == 39


def test_aggregate_auto_says_what_it_chose_and_bad_input_is_explained(tmp_path):
    answers = CROWD / "product" / "answers.csv"
    out = tmp_path / "o.csv"
    done = subprocess.run(
        [ASSAY, "aggregate", str(answers), "-o", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0 and "chosen_by=" in done.stderr
    assert done.stderr.split("method=")[1].split()[0] in CATEGORICAL
    with out.open() as f:
        chosen = {r["task"]: r["label"] for r in csv.DictReader(f)}
    _, _, _, truth = crowd("product")
    assert np.mean([chosen[t] == label for t, label in truth.items()]) >= 0.93
    wrong = subprocess.run(
        [ASSAY, "aggregate", str(answers), "--method", "best"], capture_output=True, text=True
    )
    assert wrong.returncode == 2 and "--method must be one of" in wrong.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("task,annotator,label\nt1,w1,a\n")
    missing = subprocess.run([ASSAY, "aggregate", str(bad)], capture_output=True, text=True)
    assert missing.returncode == 2 and "missing column(s) worker" in missing.stderr


def test_the_api_offers_every_method_there_is():
    from typing import get_args

    from assay.schemas import Consolidation

    assert set(get_args(Consolidation)) == set(CATEGORICAL)


def test_auto_with_too_little_data_says_so(tmp_path):
    tiny = tmp_path / "tiny.csv"
    tiny.write_text("task,worker,label\nt1,w1,a\nt1,w2,b\nt2,w1,a\n")
    done = subprocess.run(
        [ASSAY, "aggregate", str(tiny), "-o", str(tmp_path / "o.csv")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0 and "method=mv" in done.stderr
    assert "too little data to choose" in done.stderr and "Warning" not in done.stderr
