"""Spam rules over how a worker answers, apart from whether the answers are right.

`fast_answers`: a worker whose share of answers faster than `fast_answer_ms`, over their
last `window` timed answers, is above `max_fast_share`. Someone who answers without
reading is fast on nearly every task; an honest expert is fast on the easy ones only.

False-positive rate, measured on simulated honest workers (`tests/test_fraud.py`): each
answer's active time drawn from a log-normal with a median of 6 s (sigma 0.8), each
worker's own pace scaled between 0.5 and 1.5 (fast and slow people), with the defaults
below (1,500 ms, share above 0.5 over the last 20): 0 of 10,000 honest workers flagged; a
worker who answers in under 1.2 s is flagged on their 20th timed answer.

`repeated_label`: a worker who gives one label in most of their last answers, far more
often than other workers give it (a one-sided binomial test against the others' rate).
Measured the same way (`tests/test_fraud.py`: honest workers right 70–97 % of the time,
checked after every one of 100 answers, far more often than the engine checks), with a
window of 50 and a chance of 1e-4: at most 1 of 1,000 honest workers flagged with labels
at 50/50, 70/30 or 40/30/20/10; a worker who always gives one label is flagged after
50 answers, unless that label is the answer nine times in ten (they are then mostly right).
"""

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

DEFAULT_FAST_ANSWER_MS = 1500
DEFAULT_MAX_FAST_SHARE = 0.5
DEFAULT_WINDOW = 20
DEFAULT_LABEL_WINDOW = 50
DEFAULT_LABEL_CHANCE = 1e-4
DOMINANT_SHARE = 0.8


@dataclass(frozen=True)
class Finding:
    """A rule's verdict on one worker: its code, a sentence, and the evidence behind it."""

    code: str
    reason: str
    evidence: dict[str, Any]


def fast_answers(
    durations_ms: list[int], fast_answer_ms: int, max_fast_share: float, window: int
) -> Finding | None:
    """The `fast_answers` finding for a worker's timed answers, newest last; None when
    there are fewer than `window` of them or the share of fast ones is within bounds."""
    recent = durations_ms[-window:]
    if len(recent) < window:
        return None
    fast = sum(1 for d in recent if d < fast_answer_ms)
    if fast / window <= max_fast_share:
        return None
    return Finding(
        "fast_answers",
        f"{fast} of their last {window} answers took under {fast_answer_ms} ms",
        {"fast": fast, "window": window, "fast_answer_ms": fast_answer_ms},
    )


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed exactly (n is a window: small)."""
    return min(1.0, sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k, n + 1)))


def repeated_label(
    labels: list[str], base_rate: dict[str, float], window: int, max_chance: float
) -> Finding | None:
    """The `repeated_label` finding for a worker's answers (their labels, newest last):
    one label is at least DOMINANT_SHARE of their last `window` answers, and so much more
    often than its share among other workers' answers (`base_rate`) that an honest worker
    would do so with a chance below `max_chance`."""
    recent = labels[-window:]
    if len(recent) < window:
        return None
    top, count = Counter(recent).most_common(1)[0]
    if count < DOMINANT_SHARE * window:
        return None  # a run of a rare label among others is how honest people see clusters
    rate = base_rate.get(top, 0.0)
    chance = binomial_tail(count, window, rate)
    if chance >= max_chance:
        return None
    return Finding(
        "repeated_label",
        f"{count} of their last {window} answers were {top!r}, which others answer "
        f"{rate:.0%} of the time (chance {chance:.1e})",
        {"label": top, "count": count, "window": window, "base_rate": round(rate, 4)},
    )
