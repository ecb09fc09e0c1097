"""Spam rules over how a worker answers, apart from whether the answers are right.

`fast_answers`: a worker whose share of answers faster than `fast_answer_ms`, over their
last `window` timed answers, is above `max_fast_share`. Someone who answers without
reading is fast on nearly every task; an honest expert is fast on the easy ones only.

False-positive rate, measured on simulated honest workers (`tests/test_fraud.py`): each
answer's active time drawn from a log-normal with a median of 6 s (sigma 0.8), each
worker's own pace scaled between 0.5 and 1.5 (fast and slow people), with the defaults
below (1,500 ms, share above 0.5 over the last 20): 0 of 10,000 honest workers flagged; a
worker who answers in under 1.2 s is flagged on their 20th timed answer.
"""

from dataclasses import dataclass
from typing import Any

DEFAULT_FAST_ANSWER_MS = 1500
DEFAULT_MAX_FAST_SHARE = 0.5
DEFAULT_WINDOW = 20


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
