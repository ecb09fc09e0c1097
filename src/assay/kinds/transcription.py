"""Transcription: write down the text of an item (OCR of an image, speech of a recording).

A task carries the item as given (any JSON object, typically {"image": url} or
{"audio": url}). An answer is {"text": str}; the project may bound its length with
`min_length` / `max_length` (characters, counted without leading/trailing whitespace).

Comparison: with `normalize` (the default) texts compare after Unicode NFC, casefolding
and collapsing whitespace runs to one space; without it they compare as written.

Consolidation (ROVER-style): the pivot is the medoid answer, the one with the least total
normalized character edit distance (rapidfuzz Levenshtein over the longer length) to the
others, ties to the earliest answer. With fewer than 3 answers the result is the medoid as
written. Otherwise every answer's words are aligned to the pivot's words and voted slot by
slot, deletions included, ties to the pivot (see `text_align`); the result's words are
joined by single spaces. Result: {"text", "confidence"}, confidence = 1 - the mean
normalized edit distance from each answer to the result.

Gold: an answer matches when its character error rate against the gold text (edits over
the gold's length, after normalization) is at most 0.05.

Agreement: "char_similarity", the mean over every pair of answers to the same task of
1 - normalized character edit distance (1 = identical texts).

Export "text": one line per task, `id<TAB>text`, with whitespace runs inside the text
written as one space so each task stays on one line (JSONL keeps the exact text).
"""

from collections.abc import Iterable, Iterator, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from assay.errors import FieldError
from assay.kinds.base import Agreement, AnyItem, Export, Kind, pairwise_agreement
from assay.kinds.text_align import combine, distance, error_rate, medoid, normalized
from assay.text import Text

MAX_GOLD_ERROR_RATE = 0.05
MIN_VOTERS = 3


class TranscriptionParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_length: Annotated[int, Field(ge=0)] | None = None
    max_length: Annotated[int, Field(ge=1, le=200_000)] | None = None
    normalize: bool = True


def check_params(params: TranscriptionParams) -> list[FieldError]:
    low, high = params.min_length, params.max_length
    if low is not None and high is not None and low > high:
        return [FieldError("max_length", "must be at least min_length")]
    return []


class TranscriptionResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[Text, Field(max_length=200_000)]


def check_response(
    params: TranscriptionParams, task: AnyItem, response: TranscriptionResponse
) -> list[FieldError]:
    length = len(response.text.strip())
    if params.min_length is not None and length < params.min_length:
        return [FieldError("text", f"{length} characters; at least {params.min_length} needed")]
    if params.max_length is not None and length > params.max_length:
        return [FieldError("text", f"{length} characters; at most {params.max_length} allowed")]
    return []


def compared(params: TranscriptionParams, text: str) -> str:
    """The text as comparisons see it (normalized unless the project says not to)."""
    return normalized(text) if params.normalize else text


def consolidate(
    params: TranscriptionParams, task: AnyItem, answers: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    texts = [answer["text"] for answer in answers]
    keys = [compared(params, text) for text in texts]
    pivot = medoid(keys)
    if len(texts) < MIN_VOTERS:
        text = texts[pivot]
    else:
        text = combine(texts, pivot, key=lambda word: compared(params, word))
    result = compared(params, text)
    mean_distance = sum(distance(key, result) for key in keys) / len(keys)
    return {"text": text, "confidence": 1.0 - mean_distance}


def matches(
    params: TranscriptionParams, task: AnyItem, answer: dict[str, Any], gold: dict[str, Any]
) -> bool:
    rate = error_rate(compared(params, answer["text"]), compared(params, gold["text"]))
    return rate <= MAX_GOLD_ERROR_RATE


def agreement(
    params: TranscriptionParams, items: Sequence[tuple[AnyItem, Sequence[dict[str, Any]]]]
) -> Agreement:
    def similarity(task: AnyItem, a: dict[str, Any], b: dict[str, Any]) -> float:
        return 1.0 - distance(compared(params, a["text"]), compared(params, b["text"]))

    return pairwise_agreement("char_similarity", items, similarity)


def write_text(params: BaseModel, tasks: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    for task in tasks:
        yield f"{task['id']}\t{normalized(task['response']['text'], fold=False)}\n".encode()


KIND = Kind(
    name="transcription",
    summary="write down the text of an image or a recording",
    widget="transcription",
    params_model=TranscriptionParams,
    task_model=AnyItem,
    check_params=check_params,
    response_model=TranscriptionResponse,
    check_response=check_response,
    consolidate=consolidate,
    matches=matches,
    agreement=agreement,
    exports={"text": Export("text/tab-separated-values", ".tsv", write_text)},
)
