"""Helpers for kinds whose answers are made of named parts (rating criteria, form fields)
and are consolidated part by part, and voting helpers they and the word slots of aligned
transcripts use.

Every rule here is deterministic: a tie goes to the value listed first, so a caller puts
the value it prefers on ties (the first answer, a pivot transcript) at the front.
"""

from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from assay.errors import FieldError

T = TypeVar("T")


class Part(Protocol):
    """A named part of every answer: a rating criterion, a form field."""

    @property
    def name(self) -> str: ...


P = TypeVar("P", bound=Part)


def plurality(values: Sequence[T], key: Callable[[T], Hashable] = lambda v: v) -> T:
    """The value whose key the most values share; on a tie, the earliest of the tied."""
    counts = Counter(key(v) for v in values)
    top = max(counts.values())
    return next(v for v in values if counts[key(v)] == top)


def share(values: Sequence[T], agrees: Callable[[T], bool]) -> float:
    """The share of values for which `agrees` holds."""
    return sum(1 for v in values if agrees(v)) / len(values)


def part_errors(
    field: str, parts: Sequence[P], check: Callable[[P, str], list[FieldError]]
) -> list[FieldError]:
    """Part by part, at `<field>[i]`: its name if an earlier part has it ("'x' is
    repeated", at `<field>[i].name`), then what `check(part, path)` finds."""
    errors: list[FieldError] = []
    seen: set[str] = set()
    for i, part in enumerate(parts):
        path = f"{field}[{i}]"
        if part.name in seen:
            errors.append(FieldError(f"{path}.name", f"{part.name!r} is repeated"))
        seen.add(part.name)
        errors.extend(check(part, path))
    return errors


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


def vote_parts(
    field: str,
    parts: Sequence[P],
    answers: Sequence[Mapping[str, Any]],
    decide: Callable[[P, list[Any]], Any],
    agrees: Callable[[P, Any, Any], bool],
) -> dict[str, Any]:
    """Answers {field: {part name: value}} consolidated part by part: a part's result is
    `decide(part, values)` over every answer's value (None where not given), its share the
    share of those values for which `agrees(part, value, result)`; combined by
    `combine_parts`."""

    def decided(part: P) -> tuple[Any, float]:
        values = [answer[field].get(part.name) for answer in answers]
        result = decide(part, values)
        return result, share(values, lambda value: agrees(part, value, result))

    return combine_parts(field, {part.name: decided(part) for part in parts})
