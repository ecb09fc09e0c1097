"""Calibration maps raw scores to how often the model is right: Platt on small samples,
isotonic on large ones, stored as plain data."""

from dataclasses import asdict

import numpy as np
import pytest
from scipy.special import expit

from assay.automation.calibration import (
    IsotonicCalibration,
    PlattCalibration,
    fit_calibration,
)


def test_small_samples_get_platt_and_recover_the_curve():
    rng = np.random.default_rng(0)
    scores = rng.normal(0, 2, 800)
    right = rng.random(800) < expit(1.5 * scores + 0.5)
    fitted = fit_calibration(scores, right)
    assert isinstance(fitted, PlattCalibration)
    assert fitted.slope == pytest.approx(1.5, rel=0.2)
    assert fitted.intercept == pytest.approx(0.5, abs=0.25)


def test_large_samples_get_isotonic_and_fix_an_overconfident_model():
    # Raw confidence c, but the model is right with probability c**2 only.
    rng = np.random.default_rng(1)
    raw = rng.uniform(0.5, 1, 20_000)
    right = rng.random(raw.size) < raw**2
    fitted = fit_calibration(raw, right)
    assert isinstance(fitted, IsotonicCalibration)
    grid = np.linspace(0.55, 0.95, 9)
    assert np.abs(fitted(grid) - grid**2).max() < 0.05
    assert np.abs(grid - grid**2).max() > 0.2  # what the raw score got wrong
    assert np.all(np.diff(fitted(np.linspace(0, 2, 200))) >= 0)  # monotone, flat outside


def test_degenerate_small_samples_still_give_finite_probabilities():
    scores = np.array([0.1, 0.2, 0.8, 0.9])
    for right in ([True] * 4, [False] * 4, [False, False, True, True]):
        probs = fit_calibration(scores, right)(np.linspace(-1, 2, 7))
        assert np.all((probs > 0) & (probs < 1))
    all_right = fit_calibration(scores, [True] * 4)(scores)
    assert np.allclose(all_right, all_right[0], atol=0.1)  # (4 + 1) / (4 + 2), roughly flat
    assert all_right[0] == pytest.approx(5 / 6, abs=0.05)


@pytest.mark.parametrize("n", [50, 2000])
def test_a_calibration_is_plain_data(n):
    rng = np.random.default_rng(2)
    scores = rng.random(n)
    fitted = fit_calibration(scores, rng.random(n) < scores)
    again = type(fitted)(**asdict(fitted))
    np.testing.assert_array_equal(again(scores), fitted(scores))
    assert fitted.method in ("platt", "isotonic")


def test_the_switch_to_isotonic_is_a_parameter():
    scores = np.linspace(0, 1, 100)
    right = scores > 0.5
    assert isinstance(fit_calibration(scores, right, min_isotonic=100), IsotonicCalibration)
    assert isinstance(fit_calibration(scores, right, min_isotonic=101), PlattCalibration)


@pytest.mark.parametrize(("scores", "right"), [([], []), ([0.1, 0.2], [True]), ([np.inf], [True])])
def test_bad_input_is_refused(scores, right):
    with pytest.raises(ValueError):
        fit_calibration(scores, right)
