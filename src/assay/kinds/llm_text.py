"""What the writing kinds (response, chat) share: answers are free text, so they are not
merged. The result is the first answer as submitted (review then accepts, fixes or rejects
it; with one answer per task, the usual setting, that is the only answer). Its confidence is
1 / the number of distinct texts among the answers (whitespace-normalized): 1.0 with one
answer or when every worker wrote the same. Agreement is the mean, over pairs of answers to
the same task, of their normalized Indel similarity (rapidfuzz `fuzz.ratio` / 100)."""

from collections.abc import Callable, Sequence

from pydantic import BaseModel
from rapidfuzz import fuzz

from assay.kinds.base import Agreement, Answer, pairwise_agreement

SIMILARITY = "text_similarity"


def normalized(text: str) -> str:
    """Stripped, with every run of whitespace one space."""
    return " ".join(text.split())


def similarity(a: str, b: str) -> float:
    """In [0, 1]: 1 - Indel distance / total length of the normalized texts."""
    return fuzz.ratio(normalized(a), normalized(b)) / 100


def first_answer(answers: Sequence[Answer], text_of: Callable[[Answer], str]) -> Answer:
    """The first answer, with confidence 1 / distinct normalized texts."""
    distinct = {normalized(text_of(answer)) for answer in answers}
    return {**answers[0], "confidence": 1 / len(distinct)}


def similarity_agreement(
    items: Sequence[tuple[BaseModel, Sequence[Answer]]], text_of: Callable[[Answer], str]
) -> Agreement:
    """Mean pairwise similarity of the answers' texts, task by task."""
    return pairwise_agreement(SIMILARITY, items, lambda _, a, b: similarity(text_of(a), text_of(b)))
