"""The certified threshold: its guarantee holds over repeated calibration draws, a naive
threshold's does not, and the edge cases say None rather than guess."""

import numpy as np
import pytest
from scipy.stats import binom

from assay.automation.thresholds import certify_threshold

TRIALS = 500
DELTA = 0.05
# A correct method fails in at most DELTA of all draws, so over TRIALS independent draws its
# failures are at most Binomial(TRIALS, DELTA); the allowance is that count's 99.9 %
# quantile (41 of 500, a rate of 0.082), so a sound method fails this check with chance
# <= 0.001 whatever the seed.
MAX_FAILURES = int(binom.ppf(0.999, TRIALS, DELTA))

# Generating models for (confidence, right): confidence ~ U(0.5, 1) and P(right | c) = c
# (calibrated), c**2 (overconfident) or 0.899 whatever c (a model just short of a 0.9
# target everywhere: every certificate is wrong, the hardest case for the guarantee).
# Exact accuracy above t, E[P(right | c) | c >= t]: (1 + t) / 2, (1 + t + t**2) / 3, 0.899.
WORLDS = {
    "calibrated": (lambda c: c, lambda t: (1 + t) / 2),
    "overconfident": (lambda c: c**2, lambda t: (1 + t + t**2) / 3),
    "just_short": (lambda c: np.full_like(c, 0.899), lambda t: 0.899),
}


def draw(rng: np.random.Generator, world: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    p_right, _ = WORLDS[world]
    conf = rng.uniform(0.5, 1.0, n)
    return conf, rng.random(n) < p_right(conf)


def naive_threshold(conf: np.ndarray, right: np.ndarray, target: float) -> float | None:
    """The lowest threshold whose observed accuracy reaches the target: no guarantee."""
    order = np.argsort(-conf)
    observed = np.cumsum(right[order]) / np.arange(1, conf.size + 1)
    ok = np.flatnonzero(observed >= target)
    return float(conf[order][ok[-1]]) if ok.size else None


def failure_rates(
    world: str, n: int, target: float, seed: int, starts: int = 2
) -> dict[str, float]:
    """Share of trials whose threshold's true accuracy is below target (no threshold is no
    failure: it claims nothing), for the certified and the naive thresholds."""
    rng = np.random.default_rng(seed)
    _, exact = WORLDS[world]
    failures = {"certified": 0, "naive": 0, "none": 0}
    coverage = []
    for _ in range(TRIALS):
        conf, right = draw(rng, world, n)
        found = certify_threshold(conf, right, target, 1 - DELTA, starts)
        if found is None:
            failures["none"] += 1
        else:
            failures["certified"] += exact(found.threshold) < target
            coverage.append((1 - found.threshold) / 0.5)
        naive = naive_threshold(conf, right, target)
        failures["naive"] += naive is not None and exact(naive) < target
    mean_coverage = float(np.mean(coverage)) if coverage else 0.0
    return {k: v / TRIALS for k, v in failures.items()} | {"coverage": mean_coverage}


@pytest.mark.parametrize(
    ("world", "n", "starts"),
    [
        ("calibrated", 2000, 2),
        ("overconfident", 5000, 2),
        ("just_short", 2000, 1),
        ("just_short", 2000, 2),
    ],
)
def test_guarantee_holds_over_repeated_calibration_draws(world, n, starts):
    rates = failure_rates(world, n=n, target=0.9, seed=7, starts=starts)
    assert rates["certified"] <= MAX_FAILURES / TRIALS, rates
    # Picking the threshold where the observed accuracy reaches the target fails far more
    # often: the guarantee is what the test adds.
    assert rates["naive"] >= 0.3, rates
    assert rates["naive"] > 3 * rates["certified"], rates


@pytest.mark.parametrize(
    ("world", "n", "best_coverage"), [("calibrated", 2000, 0.4), ("overconfident", 5000, 0.226)]
)
def test_the_threshold_is_useful_not_timid(world, n, best_coverage):
    # It certifies in almost every draw and automates a good part of what an oracle would
    # (best_coverage: the share of items above the exact threshold).
    rates = failure_rates(world, n=n, target=0.9, seed=8)
    assert rates["none"] <= 0.05, rates
    assert rates["coverage"] >= 0.5 * best_coverage, rates


def test_the_certificate_figures_agree():
    rng = np.random.default_rng(1)
    conf, right = draw(rng, "calibrated", 3000)
    found = certify_threshold(conf, right, 0.9, 0.95)
    assert found is not None
    above = conf >= found.threshold
    assert found.count == above.sum()
    assert found.accuracy == pytest.approx(right[above].mean())
    # The exact binomial test and the one-sided Clopper-Pearson bound are the same inversion.
    assert found.p_value <= 0.05
    assert found.lower_bound >= 0.9
    assert binom.sf(right[above].sum() - 1, found.count, 0.9) == pytest.approx(found.p_value)


def test_empty_calibration_certifies_nothing():
    assert certify_threshold([], [], 0.95) is None


@pytest.mark.parametrize(("starts", "needed"), [(1, 59), (2, 72)])
def test_all_right_certifies_every_item_once_there_are_enough(starts, needed):
    # At target 0.95 an all-right record of n items has p-value 0.95**n: below 0.05 (one
    # sequence) from n = 59, below 0.025 (two sequences, delta split) from n = 72.
    conf = np.linspace(0.6, 0.99, needed)
    right = np.ones(needed, bool)
    found = certify_threshold(conf, right, 0.95, 0.95, starts=starts)
    assert (found.threshold, found.count, found.accuracy) == (pytest.approx(0.6), needed, 1.0)
    assert certify_threshold(conf[1:], right[1:], 0.95, 0.95, starts=starts) is None


def test_a_model_never_accurate_enough_gets_nothing():
    rng = np.random.default_rng(2)
    conf = rng.random(5000)
    assert certify_threshold(conf, rng.random(5000) < 0.8, 0.9) is None


def test_tied_confidences_are_automated_together():
    # 100 items at 0.9 (all right), 100 at 0.8 (half right): the threshold is a value, so it
    # takes all 100 tied items at 0.9 and none of those at 0.8.
    conf = np.repeat([0.9, 0.8], 100)
    right = np.r_[np.ones(100, bool), np.arange(100) % 2 == 0]
    found = certify_threshold(conf, right, 0.9)
    assert (found.threshold, found.count) == (0.9, 100)


def test_testing_stops_at_the_first_threshold_it_cannot_certify():
    # The most confident items are often wrong, below them all are right: overall accuracy
    # would pass, but the fixed sequence starts at the top and stops there. (Its guarantee
    # assumes higher confidence is not less accurate; this model breaks that.)
    conf = np.r_[np.linspace(0.99, 0.95, 100), np.linspace(0.94, 0.5, 5000)]
    right = np.r_[np.arange(100) % 2 == 0, np.ones(5000, bool)]
    assert right.mean() > 0.98
    assert certify_threshold(conf, right, 0.9) is None


@pytest.mark.parametrize(
    ("conf", "right", "target", "level"),
    [
        ([0.5, 0.6], [True], 0.9, 0.95),
        ([np.nan], [True], 0.9, 0.95),
        ([0.5], [True], 1.0, 0.95),
        ([0.5], [True], 0.9, 1.0),
    ],
)
def test_bad_input_is_refused(conf, right, target, level):
    with pytest.raises(ValueError):
        certify_threshold(conf, right, target, level)
