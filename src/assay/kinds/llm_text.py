"""What the writing kinds (response, chat) share: answers are free text, so they are not
merged. The result is the first answer as submitted (review then accepts, fixes or rejects
it; with one answer per task, the usual setting, that is the only answer). Its confidence is
1 / the number of distinct texts among the answers (whitespace-normalized, case kept): 1.0
with one answer or when every worker wrote the same. Agreement is the mean, over pairs of
answers to the same task, of their normalized Indel similarity (rapidfuzz `fuzz.ratio` /
100). Both kinds also bound their answers from below and, optionally, from above."""

from collections.abc import Callable, Sequence

from pydantic import BaseModel
from rapidfuzz import fuzz

from assay.errors import FieldError
from assay.kinds.base import Agreement, Answer, pairwise_agreement
from assay.kinds.text_align import normalized

SIMILARITY = "text_similarity"


def bounds_errors(params: BaseModel, low: str, high: str) -> list[FieldError]:
    """The params' upper bound `high` (None: unbounded) must be at least their `low`."""
    least, most = getattr(params, low), getattr(params, high)
    if most is not None and most < least:
        return [FieldError(high, f"must be at least {low} ({least})")]
    return []


def similarity(a: str, b: str) -> float:
    """In [0, 1]: 1 - Indel distance / total length of the normalized texts."""
    return fuzz.ratio(normalized(a, fold=False), normalized(b, fold=False)) / 100


def first_answer(answers: Sequence[Answer], text_of: Callable[[Answer], str]) -> Answer:
    """The first answer, with confidence 1 / distinct normalized texts."""
    distinct = {normalized(text_of(answer), fold=False) for answer in answers}
    return {**answers[0], "confidence": 1 / len(distinct)}


def similarity_agreement(
    items: Sequence[tuple[BaseModel, Sequence[Answer]]], text_of: Callable[[Answer], str]
) -> Agreement:
    """Mean pairwise similarity of the answers' texts, task by task."""
    return pairwise_agreement(SIMILARITY, items, lambda _, a, b: similarity(text_of(a), text_of(b)))
