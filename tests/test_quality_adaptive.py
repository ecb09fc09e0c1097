"""Adaptive overlap's pure parts: one task's posterior from worker models, and when to stop."""

import numpy as np
import pytest

from assay.quality.adaptive import StoppingRule, task_posterior

# Two workers over labels (0, 1): a careful one (95 % right) and a coin-flipper.
CONFUSION = np.array([[[0.95, 0.05], [0.05, 0.95]], [[0.5, 0.5], [0.5, 0.5]]])
PRIOR = np.array([0.5, 0.5])


def test_posterior_follows_good_workers_and_ignores_coin_flips():
    careful = task_posterior(PRIOR, CONFUSION, np.array([0]), np.array([1]))
    np.testing.assert_allclose(careful, [0.05, 0.95])
    flipped = task_posterior(PRIOR, CONFUSION, np.array([0, 1]), np.array([1, 0]))
    np.testing.assert_allclose(flipped, careful)  # the coin-flipper's answer changes nothing
    twice = task_posterior(PRIOR, CONFUSION, np.array([0, 0]), np.array([1, 1]))
    assert twice[1] == pytest.approx(0.95**2 / (0.95**2 + 0.05**2))


def test_stopping_rule():
    rule = StoppingRule(min_overlap=2, max_overlap=4, target_confidence=0.99)
    assert not rule.done(np.array([0.001, 0.999]), answers=1)  # sure, but too few answers
    assert rule.done(np.array([0.001, 0.999]), answers=2)
    assert not rule.done(np.array([0.4, 0.6]), answers=3)
    assert rule.done(np.array([0.4, 0.6]), answers=4)  # the cap, however unsure
    with pytest.raises(ValueError):
        StoppingRule(min_overlap=3, max_overlap=2, target_confidence=0.9)
    with pytest.raises(ValueError):
        StoppingRule(min_overlap=1, max_overlap=2, target_confidence=1.5)
