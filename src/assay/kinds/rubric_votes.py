"""Voting helpers for kinds that consolidate answers part by part: rating criteria, form
fields, the word slots of aligned transcripts.

Every rule here is deterministic: a tie goes to the value listed first, so a caller puts
the value it prefers on ties (the first answer, a pivot transcript) at the front.
"""

from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def plurality(values: Sequence[T], key: Callable[[T], Hashable] = lambda v: v) -> T:
    """The value whose key the most values share; on a tie, the earliest of the tied."""
    counts = Counter(key(v) for v in values)
    top = max(counts.values())
    return next(v for v in values if counts[key(v)] == top)


def share(values: Sequence[T], agrees: Callable[[T], bool]) -> float:
    """The share of values for which `agrees` holds."""
    return sum(1 for v in values if agrees(v)) / len(values)


def combine_parts(field: str, decided: Mapping[str, tuple[Any, float]]) -> dict[str, Any]:
    """A result from per-part decisions {part: (value, share agreeing)}: the values under
    `field` (parts decided as None are left out), "confidence" the mean share over all parts,
    and "confidences" each part's share."""
    shares = {name: part_share for name, (_, part_share) in decided.items()}
    return {
        field: {name: value for name, (value, _) in decided.items() if value is not None},
        "confidence": sum(shares.values()) / len(shares),
        "confidences": shares,
    }
