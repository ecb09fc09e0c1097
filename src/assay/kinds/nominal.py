"""Agreement of kinds whose answers are categories; not a kind itself."""

from collections.abc import Callable, Sequence

from pydantic import BaseModel

from assay.kinds.base import Agreement, Answer
from assay.quality.agreement import json_number, krippendorff_alpha
from assay.quality.answers import Answers

MEASURE = "krippendorff_alpha_nominal"


def nominal_agreement(
    items: Sequence[tuple[BaseModel, Sequence[Answer]]], key: Callable[[Answer], str]
) -> Agreement:
    """Krippendorff's alpha (nominal) over every task's answers, each answer coded as
    `key(answer)`; None while no task has two answers."""
    pairs = sum(len(a) * (len(a) - 1) // 2 for _, a in items)
    if not pairs:
        return Agreement(MEASURE, None, 0)
    rows = [(i, w, key(a)) for i, (_, answers) in enumerate(items) for w, a in enumerate(answers)]
    answers = Answers.from_columns(*zip(*rows, strict=True))
    return Agreement(MEASURE, json_number(krippendorff_alpha(answers)), pairs)
