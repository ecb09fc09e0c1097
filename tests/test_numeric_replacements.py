"""Our NumPy stand-ins for SciPy (assay.quality.special, assay.kinds.assignment and the
Bradley-Terry solver) against SciPy itself, on many random inputs. SciPy is only in the
dev and automation extras; the base install must not need it."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
from scipy import special as scipy_special
from scipy import stats
from scipy.optimize import linear_sum_assignment as scipy_assignment
from scipy.optimize import minimize

from assay.kinds.assignment import linear_sum_assignment
from assay.quality import bradley_terry
from assay.quality.intervals import clopper_pearson
from assay.quality.special import beta_ppf, betainc, digamma, expit, kendall_tau


def test_expit_matches_scipy_without_overflow():
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(0, 30, 5000), [0.0, -745.0, 745.0, -1e308, 1e308]])
    with np.errstate(over="raise", invalid="raise"):
        ours = expit(x)
    np.testing.assert_allclose(ours, scipy_special.expit(x), rtol=1e-15, atol=1e-300)
    assert float(expit(3.0)) == pytest.approx(1 / (1 + np.exp(-3.0)), rel=1e-15)


def test_digamma_matches_scipy():
    rng = np.random.default_rng(2)
    x = np.concatenate(
        [
            rng.uniform(1e-6, 1, 2000),
            rng.uniform(1, 20, 2000),
            np.exp(rng.uniform(3, 30, 2000)),
            [1.4616321449683622],  # near the root
        ]
    )
    expected = scipy_special.digamma(x)
    np.testing.assert_allclose(digamma(x), expected, rtol=1e-13, atol=1e-14)
    # Shapes are kept (MACE passes matrices); outside x > 0 it is NaN, never a wrong number.
    assert digamma(np.ones((2, 3))).shape == (2, 3)
    assert np.isnan(digamma([0.0, -1.5, np.nan])).all()


def test_betainc_matches_scipy():
    rng = np.random.default_rng(3)
    for _ in range(4000):
        a, b = np.exp(rng.uniform(-4, 11, 2))
        x = float(rng.uniform())
        # Large a and b cost accuracy in the power terms (as ln x * a); 1e-10 is ample.
        assert betainc(a, b, x) == pytest.approx(scipy_special.betainc(a, b, x), abs=1e-10)
    assert betainc(2, 3, 0.0) == 0.0 and betainc(2, 3, 1.0) == 1.0


def test_beta_ppf_matches_scipy_on_clopper_pearson_arguments():
    rng = np.random.default_rng(4)
    for _ in range(3000):
        n = int(rng.integers(1, rng.choice([10, 100, 5000, 10**6])))
        k = int(rng.integers(0, n + 1))
        q = float(rng.choice([0.025, 0.975, 0.05, 0.95, 0.005, 0.995, rng.uniform()]))
        a, b = (k, n - k + 1) if rng.uniform() < 0.5 else (k + 1, n - k)
        if a == 0 or b == 0:
            continue
        ours = float(beta_ppf(q, a, b))
        assert ours == pytest.approx(stats.beta.ppf(q, a, b), abs=1e-11, rel=1e-9), (q, a, b)


def test_beta_ppf_matches_scipy_on_any_shape():
    rng = np.random.default_rng(5)
    q = rng.uniform(size=3000)
    a, b = np.exp(rng.uniform(-4, 10, (2, 3000)))
    ours, expected = beta_ppf(q, a, b), stats.beta.ppf(q, a, b)
    np.testing.assert_allclose(ours, expected, atol=1e-10)
    # Deep tails: relative accuracy, where an absolute bound says nothing.
    for q, a, b in [(0.001, 0.01, 0.01), (0.01, 0.05, 3), (1e-10, 1, 5), (0.975, 5, 1e7)]:
        assert float(beta_ppf(q, a, b)) == pytest.approx(stats.beta.ppf(q, a, b), rel=1e-9)


def test_beta_ppf_edges_and_bad_arguments():
    assert list(beta_ppf([0.0, 1.0], 2, 3)) == [0.0, 1.0]
    assert beta_ppf(np.full((2, 2), 0.5), 1, 1).shape == (2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow or domain warnings either
        assert np.isnan(
            beta_ppf([0.5, 0.5, 0.5, -0.1, 1.1], [0, 1, -1, 1, 1], [1, 0, 1, 1, 1])
        ).all()
        assert 0 <= float(beta_ppf(0.99, 3, 0.05)) <= 1


def test_clopper_pearson_matches_scipy_formula():
    rng = np.random.default_rng(6)
    n = rng.integers(0, 2000, 500)
    k = (rng.uniform(size=500) * (n + 1)).astype(int).clip(0, n)
    low, high = clopper_pearson(k, n)
    with np.errstate(all="ignore"):
        expected_low = np.nan_to_num(
            np.where(k > 0, stats.beta.ppf(0.025, k, n - k + 1), 0.0), nan=0.0
        )
        expected_high = np.nan_to_num(
            np.where(k < n, stats.beta.ppf(0.975, k + 1, n - k), 1.0), nan=1.0
        )
    np.testing.assert_allclose(low, expected_low, atol=1e-11)
    np.testing.assert_allclose(high, expected_high, atol=1e-11)
    assert [float(v) for v in clopper_pearson(0, 0)] == [0.0, 1.0]


def test_kendall_tau_matches_scipy_with_ties():
    rng = np.random.default_rng(7)
    for trial in range(3000):
        n = int(rng.integers(0, 30))
        x = rng.integers(0, rng.integers(1, 6), n) if trial % 2 else rng.permutation(n)
        y = rng.integers(0, rng.integers(1, 6), n) if trial % 3 else rng.permutation(n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SciPy warns on constant input
            expected = stats.kendalltau(x, y).statistic
        ours = kendall_tau(x, y)
        if np.isnan(expected):
            assert np.isnan(ours)
        else:
            assert ours == pytest.approx(expected, abs=1e-14)
    with pytest.raises(ValueError):
        kendall_tau([1, 2], [1, 2, 3])


def _random_costs(rng: np.random.Generator, trial: int) -> np.ndarray:
    n, m = rng.integers(0, 12, 2)
    match trial % 5:
        case 0:
            return rng.normal(size=(n, m))
        case 1:  # small integers: ties everywhere
            return rng.integers(0, 3, (n, m)).astype(float)
        case 2:  # what geometry.match passes: 0 below the threshold, just over 1 above
            keep = rng.uniform(size=(n, m)) < 0.5
            return np.where(keep, 1 + rng.uniform(size=(n, m)) / (min(n, m) + 1), 0.0)
        case 3:
            return rng.integers(0, 2, (n, m)).astype(float)
        case _:  # some forbidden pairs
            costs = rng.uniform(size=(n, m))
            costs[rng.uniform(size=(n, m)) < 0.2] = np.inf
            return costs


def test_assignment_is_scipys_assignment_ties_included():
    rng = np.random.default_rng(8)
    compared = 0
    for trial in range(5000):
        costs = _random_costs(rng, trial)
        maximize = bool(rng.integers(2)) and trial % 5 != 4
        try:
            expected = scipy_assignment(costs, maximize=maximize)
        except ValueError:
            with pytest.raises(ValueError):
                linear_sum_assignment(costs, maximize=maximize)
            continue
        rows, cols = linear_sum_assignment(costs, maximize=maximize)
        np.testing.assert_array_equal(rows, expected[0])
        np.testing.assert_array_equal(cols, expected[1])
        compared += 1
    assert compared > 4500


def test_assignment_large_and_refusals():
    rng = np.random.default_rng(9)
    costs = np.where(rng.uniform(size=(300, 200)) < 0.3, 1 + rng.uniform(size=(300, 200)), 0)
    rows, cols = linear_sum_assignment(costs, maximize=True)
    expected = scipy_assignment(costs, maximize=True)
    assert costs[rows, cols].sum() == pytest.approx(costs[expected].sum(), rel=1e-12)
    np.testing.assert_array_equal(cols, expected[1])
    for bad in ([[np.nan, 1.0]], [[-np.inf, 1.0]], [[np.inf, np.inf], [np.inf, np.inf]]):
        with pytest.raises(ValueError):
            linear_sum_assignment(bad)
    with pytest.raises(ValueError):
        linear_sum_assignment([1.0, 2.0])
    empty = linear_sum_assignment(np.zeros((0, 3)))
    assert empty[0].size == 0 and empty[1].size == 0


def _scipy_bradley_terry(first, second, outcome, ridge):
    """The optimum of the same objective by SciPy's L-BFGS-B, run to a tight tolerance."""
    names = np.asarray([*first, *second], dtype=object)
    models, index = np.unique(names, return_inverse=True)
    a, b = index[: len(first)], index[len(first) :]
    found = minimize(
        lambda s: bradley_terry._objective(s, a, b, outcome, ridge)[:2],
        np.zeros(models.size),
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-16, "maxiter": 100_000, "maxcor": 50},
    )
    return found, a, b


@pytest.mark.parametrize("seed", range(3))
def test_bradley_terry_reaches_scipys_optimum(seed):
    rng = np.random.default_rng(10 + seed)
    for _ in range(40):
        n = int(rng.integers(2, rng.choice([5, 30, 120])))
        m = int(rng.integers(1, rng.choice([10, 300, 3000])))
        skill = rng.normal(0, rng.choice([0.5, 2, 6]), n)
        i = rng.integers(0, n, m)
        j = (i + rng.integers(1, n, m)) % n
        outcome = (rng.uniform(size=m) < expit(skill[i] - skill[j])).astype(float)
        outcome[rng.uniform(size=m) < 0.1] = 0.5
        first, second = [f"m{k:03d}" for k in i], [f"m{k:03d}" for k in j]
        fit = bradley_terry.fit(first, second, outcome)
        reference, a, b = _scipy_bradley_terry(first, second, outcome, bradley_terry.RIDGE)
        assert fit.converged
        ours = bradley_terry._objective(fit.scores, a, b, outcome, bradley_terry.RIDGE)[0]
        assert ours <= reference.fun + 1e-9 * max(1.0, abs(reference.fun))
        np.testing.assert_allclose(fit.scores, reference.x, atol=1e-4)
        # Every connected group sums to 0 (the ridge alone sets its level).
        assert abs(fit.scores.sum()) < 1e-9


def test_bradley_terry_many_models_stays_cheap():
    # A chain of 5,000 models (each compared with the next) and 5,000 separate pairs: a
    # dense Hessian would be 10^4 squared; the solver never forms it.
    n = 5000
    chain = [f"c{k}" for k in range(n)]
    pairs = [f"p{k}" for k in range(2 * n)]
    first = chain[:-1] + pairs[0::2]
    second = chain[1:] + pairs[1::2]
    outcome = np.resize([1.0, 0.0, 0.5], len(first))
    fit = bradley_terry.fit(first, second, outcome)
    assert fit.converged and np.isfinite(fit.scores).all()
    scores = dict(zip(fit.models, fit.scores, strict=True))
    assert abs(sum(scores[name] for name in chain)) < 1e-6
    assert scores["p0"] + scores["p1"] == pytest.approx(0, abs=1e-9)


def test_base_server_modules_import_without_scipy():
    """The server's import path (app, kinds, quality, automation's pure parts) with SciPy
    made unimportable, as in a base install."""
    code = (
        "import sys; sys.modules['scipy'] = None\n"
        "import assay.api.app, assay.kinds, assay.quality, assay.automation, assay.cli\n"
        "from assay.quality.intervals import accuracy_summary\n"
        "assert accuracy_summary(3, 4)['ci95'][0] > 0\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
