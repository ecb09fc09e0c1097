"""Turn a model's raw scores into probabilities of being right, fitted on human labels.

Raw confidences lie: softmax outputs of fine-tuned networks are overconfident, LLM
token probabilities and self-reported confidences are worse. Fitting a monotone map from
score to "how often people agreed" on a labelled sample makes the number mean what it
says, so thresholds and routing read it as a probability.

- Isotonic regression (a non-decreasing step map; sklearn.isotonic) when there are at least
  `min_isotonic` pairs: it assumes nothing about the shape, but overfits small samples
  (Niculescu-Mizil & Caruana 2005 find it behind Platt below about a thousand).
- Platt scaling (a logistic curve in the score, two parameters) below that, fitted with
  Platt's smoothed targets (N+ + 1) / (N+ + 2) and 1 / (N- + 2), so a sample that is all
  right, all wrong or perfectly separated still yields a finite curve.

Both maps are plain frozen data (`dataclasses.asdict` stores them) applied with NumPy.
"""

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import ArrayLike

from assay.quality.special import expit

MIN_ISOTONIC = 1000


@dataclass(frozen=True)
class IsotonicCalibration:
    """Piecewise-linear through the fitted knots, flat beyond the ends (as sklearn's
    `predict` with out_of_bounds="clip")."""

    method: ClassVar[str] = "isotonic"
    xs: tuple[float, ...]
    ys: tuple[float, ...]

    def __call__(self, scores: ArrayLike) -> np.ndarray:
        return np.interp(np.asarray(scores, dtype=float), self.xs, self.ys)


@dataclass(frozen=True)
class PlattCalibration:
    """P(right | score) = 1 / (1 + exp(-(slope * score + intercept)))."""

    method: ClassVar[str] = "platt"
    slope: float
    intercept: float

    def __call__(self, scores: ArrayLike) -> np.ndarray:
        return expit(self.slope * np.asarray(scores, dtype=float) + self.intercept)


Calibration = IsotonicCalibration | PlattCalibration


def fit_calibration(
    scores: ArrayLike, correct: ArrayLike, min_isotonic: int = MIN_ISOTONIC
) -> Calibration:
    """A map from raw score to P(the model's answer is right), fitted on pairs (score, whether
    people found the answer right): isotonic from `min_isotonic` pairs up, Platt below."""
    s = np.asarray(scores, dtype=float).ravel()
    y = np.asarray(correct, dtype=bool).ravel()
    if s.shape != y.shape:
        raise ValueError("scores and correct must have the same length")
    if s.size == 0:
        raise ValueError("need at least one labelled score to calibrate")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite")
    if s.size >= min_isotonic:
        from sklearn.isotonic import IsotonicRegression  # the automation extra

        fit = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(s, y)
        return IsotonicCalibration(
            tuple(map(float, fit.X_thresholds_)), tuple(map(float, fit.y_thresholds_))
        )
    return _platt(s, y)


def _platt(s: np.ndarray, y: np.ndarray) -> PlattCalibration:
    from scipy.optimize import minimize  # the automation extra

    positives = int(y.sum())
    negatives = y.size - positives
    target = np.where(y, (positives + 1) / (positives + 2), 1 / (negatives + 2))

    def loss(params: np.ndarray) -> tuple[float, np.ndarray]:
        z = params[0] * s + params[1]
        residual = expit(z) - target
        value = float(np.sum(np.logaddexp(0.0, z) - target * z))
        return value, np.array([residual @ s, residual.sum()])

    start = np.array([0.0, np.log((positives + 1) / (negatives + 1))])
    fit = minimize(loss, start, jac=True, method="L-BFGS-B")
    return PlattCalibration(slope=float(fit.x[0]), intercept=float(fit.x[1]))
