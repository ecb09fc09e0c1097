"""Bradley-Terry scores from pairwise comparisons (pure, no server)."""

import math

import numpy as np
import pytest

from assay.quality import bradley_terry


def mm_reference(wins: np.ndarray, iterations: int = 20_000) -> np.ndarray:
    """Hunter's (2004) MM iteration on a win matrix wins[i, j] = times i beat j, centred
    log-strengths: the plain maximum-likelihood scores of a connected, non-separable set."""
    games = wins + wins.T
    strength = np.ones(len(wins))
    for _ in range(iterations):
        denominator = (games / (strength[:, None] + strength[None, :])).sum(axis=1)
        strength = wins.sum(axis=1) / denominator
        strength /= strength.sum()
    logs = np.log(strength)
    return logs - logs.mean()


def comparisons_of(wins: np.ndarray, names: list[str]) -> tuple[list[str], list[str]]:
    first, second = [], []
    for i, j in zip(*np.nonzero(wins), strict=True):
        first += [names[i]] * int(wins[i, j])
        second += [names[j]] * int(wins[i, j])
    return first, second


def test_two_models_score_gap_is_the_log_odds():
    fit = bradley_terry.fit(["a", "a", "a", "b"], ["b", "b", "b", "a"], ridge=1e-9)
    assert list(fit.models) == ["a", "b"]
    assert fit.scores[0] - fit.scores[1] == pytest.approx(math.log(3), abs=1e-5)
    assert fit.win_probability("a", "b") == pytest.approx(0.75, abs=1e-5)
    assert list(fit.comparisons) == [4, 4]
    assert fit.converged


def test_matches_hunter_mm_maximum_likelihood():
    names = ["a", "b", "c", "d"]
    wins = np.array([[0, 3, 2, 4], [1, 0, 2, 3], [2, 1, 0, 2], [1, 1, 2, 0]], dtype=float)
    first, second = comparisons_of(wins, names)
    fit = bradley_terry.fit(first, second, ridge=1e-9)
    np.testing.assert_allclose(fit.scores, mm_reference(wins), atol=1e-4)
    assert list(fit.comparisons) == list((wins + wins.T).sum(axis=1).astype(int))


def test_undefeated_and_disconnected_models_stay_finite_and_centred():
    fit = bradley_terry.fit(["a", "a", "c"], ["b", "b", "d"])
    assert np.all(np.isfinite(fit.scores))
    scores = dict(zip(fit.models, fit.scores, strict=True))
    assert scores["a"] > 0 > scores["b"]
    assert scores["c"] > 0 > scores["d"]
    # Each group never met the other: the ridge centres each on 0.
    assert scores["a"] + scores["b"] == pytest.approx(0, abs=1e-6)
    assert scores["c"] + scores["d"] == pytest.approx(0, abs=1e-6)
    # Two wins are more evidence than one.
    assert scores["a"] > scores["c"]


def test_ties_count_half_a_win_each_way():
    fit = bradley_terry.fit(["a", "b"], ["b", "a"], [0.5, 1.0], ridge=1e-9)
    # a: 0.5 of 2 games, b: 1.5 of 2 games -> odds 3 for b.
    assert fit.scores[1] - fit.scores[0] == pytest.approx(math.log(3), abs=1e-5)
    tie = bradley_terry.fit(["a"], ["b"], [0.5])
    assert list(tie.scores) == pytest.approx([0, 0])


def test_deterministic_and_order_free():
    first = ["a", "b", "c", "a", "c", "b", "a"]
    second = ["b", "c", "a", "c", "b", "a", "b"]
    fit = bradley_terry.fit(first, second)
    again = bradley_terry.fit(first[::-1], second[::-1])
    assert list(fit.models) == list(again.models) == ["a", "b", "c"]
    np.testing.assert_allclose(fit.scores, again.scores, atol=1e-7)
    np.testing.assert_array_equal(fit.scores, bradley_terry.fit(first, second).scores)


def test_empty_input_fits_nothing():
    fit = bradley_terry.fit([], [])
    assert fit.models.size == 0 and fit.scores.size == 0 and fit.converged


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="itself"):
        bradley_terry.fit(["a"], ["a"])
    with pytest.raises(ValueError, match="outcome"):
        bradley_terry.fit(["a"], ["b"], [1.5])
    with pytest.raises(ValueError, match="same length"):
        bradley_terry.fit(["a", "b"], ["b"])
