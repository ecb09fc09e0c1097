"""The confidence threshold above which a model's answers may stand without people, with a
guarantee: Learn-then-Test (Angelopoulos et al. 2021, "Learn then Test: Calibrating
Predictive Algorithms to Achieve Risk Control") with fixed-sequence testing.

Candidates are the distinct confidences of a calibration set (items people labelled, so
each model answer is known right or wrong), tested from the highest downward. For a
candidate t with n calibration items at or above it, k of them right:

    H0(t): accuracy on items with confidence >= t is below the target
    p(t) = P(X >= k), X ~ Binomial(n, target)      (exact binomial tail)

A sequence rejects H0(t) while p(t) <= its level and stops at the first candidate it does
not reject. Testing in a fixed order and stopping at the first failure bounds the chance
of rejecting any true H0 by the level with no multiplicity correction: a wrong certificate
needs the first true H0 in the order to be rejected, which has chance <= the level.

One early unlucky error ends a single sequence (at target 0.9 its first candidate must be
29 of 29 right), which in simulation left 10-20 % of otherwise certifiable calibration
sets with nothing. So `starts` sequences run side by side, each at delta / starts
(Bonferroni, so the family-wise error stays <= delta): sequence s starts at the first
candidate with at least 2**s times the smallest count that can reject at all. The lowest
threshold any of them rejects is the answer. Candidates below that smallest count are
never tested: no record, however good, could pass them. Starts and skips depend on counts
only, never on who was right. starts=1 is the plain single sequence.

Assumptions, which are the caller's to keep:
- The calibration items are an exchangeable (random or stratified-random) sample of the
  items the threshold will be applied to: drawn before the model saw them, never chosen by
  the model (active learning picks, low-confidence picks) and never from another
  population.
- The guarantee is on the expected accuracy of the automated items as a whole (the items at
  or above the threshold), not on each item, and holds with probability >= confidence_level
  over the draw of the calibration set.
- Higher confidence is not less often right (the ordering isotonic calibration also
  assumes). Candidates come from the calibration data itself; the exact p-value at such a
  data-chosen threshold rests on the items just below the failing boundary being right less
  often than the target.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from assay.quality.intervals import clopper_pearson

STARTS = 2


@dataclass(frozen=True)
class CertifiedThreshold:
    """A threshold that passed the test, and the calibration figures behind it."""

    threshold: float
    """Automate items whose confidence is >= this."""
    count: int
    """Calibration items at or above the threshold."""
    accuracy: float
    """Their observed accuracy."""
    lower_bound: float
    """One-sided Clopper-Pearson lower bound of that accuracy at `confidence_level`; at least
    the target (the bound and the binomial test are the same exact computation)."""
    p_value: float
    """The binomial-tail p-value of H0 'accuracy above the threshold < target'."""


def certify_threshold(
    confidences: ArrayLike,
    correct: ArrayLike,
    target_accuracy: float,
    confidence_level: float = 0.95,
    starts: int = STARTS,
) -> CertifiedThreshold | None:
    """The lowest confidence threshold whose automated accuracy is >= `target_accuracy`
    with probability >= `confidence_level`, from calibration pairs (the model's confidence,
    whether its answer was right by human labels). None when no threshold can be
    certified: too few calibration items, or the model not accurate enough anywhere."""
    from scipy.stats import binom  # the automation extra

    conf = np.asarray(confidences, dtype=float).ravel()
    right = np.asarray(correct, dtype=bool).ravel()
    if conf.shape != right.shape:
        raise ValueError("confidences and correct must have the same length")
    if np.isnan(conf).any():
        raise ValueError("confidences must not be NaN")
    if not 0 < target_accuracy < 1:
        raise ValueError("target_accuracy must be in (0, 1)")
    if not 0 < confidence_level < 1:
        raise ValueError("confidence_level must be in (0, 1)")
    if starts < 1:
        raise ValueError("starts must be >= 1")
    if conf.size == 0:
        return None
    level = (1 - confidence_level) / starts

    order = np.argsort(-conf, kind="stable")
    conf, right = conf[order], right[order]
    counts = np.arange(1, conf.size + 1)
    rights = np.cumsum(right)
    # A threshold at a value takes every item with that value: the last of each run of ties.
    last_of_value = np.append(conf[1:] != conf[:-1], True)
    can_reject = binom.sf(counts - 1, counts, target_accuracy) <= level
    candidates = np.flatnonzero(last_of_value & can_reject)
    if candidates.size == 0:
        return None
    p_values = binom.sf(rights[candidates] - 1, counts[candidates], target_accuracy)
    # Candidates run from the highest confidence down, so a later index is a lower threshold.
    lowest = -1
    for sequence in range(starts):
        first = int(np.searchsorted(counts[candidates], 2**sequence * counts[candidates[0]]))
        failed = np.flatnonzero(p_values[first:] > level)
        passed = failed[0] if failed.size else candidates.size - first
        if passed:
            lowest = max(lowest, first + passed - 1)
    if lowest < 0:
        return None
    i = candidates[lowest]
    n, k = int(counts[i]), int(rights[i])
    low, _ = clopper_pearson(k, n, level=1 - 2 * (1 - confidence_level))
    return CertifiedThreshold(
        threshold=float(conf[i]),
        count=n,
        accuracy=k / n,
        lower_bound=float(low),
        p_value=float(p_values[lowest]),
    )
