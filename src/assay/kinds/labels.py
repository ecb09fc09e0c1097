"""Label names and the checks on them that several kinds share; not a kind itself."""

from collections import Counter
from collections.abc import Sequence
from typing import Annotated

from pydantic import Field

from assay.errors import FieldError
from assay.text import Text

Label = Annotated[Text, Field(min_length=1, max_length=200)]


def repeats(values: Sequence[str], field: str = "labels", what: str = "label") -> list[FieldError]:
    """Each repeat of a value, named by its index under `field`: "<what> 'x' is repeated"."""
    seen: set[str] = set()
    errors = []
    for i, value in enumerate(values):
        if value in seen:
            errors.append(FieldError(f"{field}[{i}]", f"{what} {value!r} is repeated"))
        seen.add(value)
    return errors


def label_errors(labels: Sequence[str], path: str, label: str) -> list[FieldError]:
    """An error at `path` unless `label` is one of the project's labels."""
    if label in labels:
        return []
    return [FieldError(path, f"{label!r} is not one of the project's labels")]


def vote(labels: Sequence[str], chosen: Sequence[str]) -> tuple[str, int]:
    """The most chosen label and its votes; ties go to the label listed first in `labels`
    (a label not listed loses ties to every listed one, then goes by name)."""
    order = {label: i for i, label in enumerate(labels)}
    votes = Counter(chosen)
    winner = min(votes, key=lambda label: (-votes[label], order.get(label, len(order)), label))
    return winner, votes[winner]
