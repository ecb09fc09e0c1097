"""The few special functions and statistics the core needs, in plain NumPy and `math`.

They are ours rather than SciPy's to keep the base install small: SciPy with its bundled
libraries is about 144 MB, over a third of the server's install with it, for five
functions. `tests/test_numeric_replacements.py` checks each against SciPy.

- `expit`: the logistic function 1 / (1 + exp(-x)), without overflow.
- `digamma`: d/dx log Gamma(x) for x > 0 (recurrence up to 10, then the asymptotic series).
- `betainc`: the regularised incomplete beta function I_x(a, b) (continued fraction).
- `beta_ppf`: its inverse in x, the quantile of Beta(a, b) (Halley's method kept inside a
  shrinking bracket, bisecting when a step would leave it).
- `kendall_tau`: Kendall's tau-b of two short sequences, ties allowed.
"""

import math

import numpy as np
from numpy.typing import ArrayLike

TINY = 1e-300
"""Stands in for 0 in the continued fraction so that no term divides by zero."""
CF_TOLERANCE = 1e-15
CF_MAX_TERMS = 100_000
"""The fraction needs about sqrt(max(a, b)) terms; this covers counts into the billions."""
PPF_MAX_STEPS = 200
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
DIGAMMA_SERIES = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)
"""B_2k / 2k, k = 1..7: psi(x) ~ ln x - 1/(2x) - sum of these over x^2k."""
STIRLING_SERIES = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188)
"""B_2k / (2k (2k - 1)), k = 1..5: lgamma(x) - Stirling ~ sum of these over x^(2k - 1)."""
LOGIT_LIMIT = 700.0
"""Bisection of a quantile works on logit(x) within +-this (x from about 1e-304)."""


def expit(x: ArrayLike) -> np.ndarray:
    """1 / (1 + exp(-x)), elementwise, exact to rounding for any finite x."""
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def digamma(x: ArrayLike) -> np.ndarray:
    """The digamma function psi(x), elementwise, for x > 0 (NaN elsewhere); absolute error
    below 1e-14. psi(x) = psi(x + 1) - 1 / x lifts x to at least 10, where the asymptotic
    series ln x - 1/(2x) - sum B_2k / (2k x^2k) to the x^-14 term is exact to rounding."""
    x = np.array(x, dtype=float)
    valid = x > 0
    x = np.where(valid, x, 1.0)
    shift = np.zeros_like(x)
    for _ in range(10):
        low = x < 10
        shift -= np.where(low, 1 / x, 0.0)
        x = np.where(low, x + 1, x)
    inv = 1 / (x * x)
    series = np.zeros_like(x)
    for coefficient in reversed(DIGAMMA_SERIES):
        series = (series + coefficient) * inv
    return np.where(valid, np.log(x) - 0.5 / x - series + shift, np.nan)


def _stirling_rest(x: float) -> float:
    """lgamma(x) less Stirling's (x - 1/2) ln x - x + ln(2 pi) / 2: a small number, by its
    series from x = 10 on (error below 1e-16)."""
    if x < 10:
        return math.lgamma(x) - ((x - 0.5) * math.log(x) - x + HALF_LOG_2PI)
    inv, series = 1 / (x * x), 0.0
    for coefficient in reversed(STIRLING_SERIES):
        series = series * inv + coefficient
    return series / x


def _log_beta(a: float, b: float) -> float:
    """ln B(a, b) without subtracting large lgamma values (they would cost relative
    accuracy of order lgamma(a + b) * 1e-16 once exponentiated)."""
    small, large = sorted((a, b))
    total = a + b
    return (
        (small - 0.5) * math.log(small / total)
        + (large - 0.5) * math.log1p(-small / total)
        - 0.5 * math.log(total)
        + HALF_LOG_2PI
        + _stirling_rest(a)
        + _stirling_rest(b)
        - _stirling_rest(total)
    )


def _continued_fraction(a: float, b: float, x: float) -> float:
    """1 / (1 + d1 / (1 + d2 / (1 + ...))), the continued fraction of I_x(a, b), with
    d(2k+1) = -(a+k)(a+b+k)x / ((a+2k)(a+2k+1)) and d(2k) = k(b-k)x / ((a+2k-1)(a+2k)),
    by the modified Lentz method. Converges fast for x < (a + 1) / (a + b + 2)."""
    value, c, d = 1.0, 1.0, 0.0
    for m in range(1, CF_MAX_TERMS):
        k = m // 2
        if m % 2:
            term = -(a + k) * (a + b + k) * x / ((a + 2 * k) * (a + 2 * k + 1))
        else:
            term = k * (b - k) * x / ((a + 2 * k - 1) * (a + 2 * k))
        d = 1 + term * d
        d = 1 / (d if abs(d) > TINY else TINY)
        c = 1 + term / c
        c = c if abs(c) > TINY else TINY
        value *= c * d
        if abs(c * d - 1) < CF_TOLERANCE:
            break
    return 1 / value


def betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b) for a, b > 0: P(X <= x) for
    X ~ Beta(a, b). Relative error about 1e-15 where the fraction is evaluated; the other
    side comes from I_x(a, b) = 1 - I_{1-x}(b, a)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    if x > (a + 1) / (a + b + 2):
        return 1.0 - betainc(b, a, 1.0 - x)
    front = math.exp(a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b)) / a
    return front * _continued_fraction(a, b, x)


def _logit(p: float) -> float:
    if p <= 0 or p >= 1:
        return math.copysign(LOGIT_LIMIT, p - 0.5)
    return max(-LOGIT_LIMIT, min(LOGIT_LIMIT, math.log(p) - math.log1p(-p)))


def _logit_midpoint(lo: float, hi: float) -> float:
    """Halfway between lo and hi in logit(x): a bracket from 0 or to 1 narrows by orders of
    magnitude per step, so a quantile far in a tail takes tens of steps, not hundreds.
    The plain midpoint where that rounds onto an end (next to 1, where floats are sparse)."""
    middle = 1 / (1 + math.exp(-(_logit(lo) + _logit(hi)) / 2))
    return middle if lo < middle < hi else 0.5 * (lo + hi)


def _beta_ppf(q: float, a: float, b: float) -> float:
    if not (a > 0 and b > 0 and 0 <= q <= 1):
        return math.nan
    if q in (0.0, 1.0):
        return q
    log_beta = _log_beta(a, b)
    lo, hi = 0.0, 1.0
    x = a / (a + b)
    for _ in range(PPF_MAX_STEPS):
        error = betainc(a, b, x) - q
        if error == 0:
            return x
        if error > 0:
            hi = x
        else:
            lo = x
        density = math.exp((a - 1) * math.log(x) + (b - 1) * math.log1p(-x) - log_beta)
        newton = error / density if density > 0 else math.inf
        # Halley's correction: the density's log-derivative is (a-1)/x - (b-1)/(1-x).
        bend = 1 - 0.5 * newton * ((a - 1) / x - (b - 1) / (1 - x))
        step = newton / bend if 0.5 < bend < 2 else newton
        if abs(step) <= 1e-15 * x:
            return x - step if lo <= x - step <= hi else x
        x = x - step if lo < x - step < hi else _logit_midpoint(lo, hi)
        if not lo < x < hi:  # the bracket is down to adjacent floats
            return x
    return x


def beta_ppf(q: ArrayLike, a: ArrayLike, b: ArrayLike) -> np.ndarray:
    """The q-quantile of Beta(a, b), elementwise over the broadcast arguments: the x with
    I_x(a, b) = q, to a relative 1e-15 or so (far inside the 1e-10 callers need). NaN where
    a <= 0, b <= 0 or q is outside [0, 1]."""
    q, a, b = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (q, a, b)))
    flat = zip(q.ravel().tolist(), a.ravel().tolist(), b.ravel().tolist(), strict=True)
    out = np.array([_beta_ppf(*v) for v in flat])
    return out.reshape(q.shape)


def kendall_tau(x: ArrayLike, y: ArrayLike) -> float:
    """Kendall's tau-b of two equally long sequences: (concordant - discordant pairs) /
    sqrt(pairs untied in x * pairs untied in y); NaN when either is constant or shorter
    than 2. Compares every pair at once, so it is meant for short sequences (rankings)."""
    x, y = np.asarray(x), np.asarray(y)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("kendall_tau needs two 1-d sequences of the same length")
    i, j = np.triu_indices(x.size, 1)
    sx, sy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
    untied = float(np.abs(sx).sum()) * float(np.abs(sy).sum())
    return float((sx * sy).sum()) / math.sqrt(untied) if untied else math.nan
