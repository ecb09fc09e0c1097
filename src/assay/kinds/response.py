"""Response: write (or edit a draft of) the ideal reply to a prompt, for supervised
fine-tuning demonstrations.

Project params: `mode` "write" (from scratch) or "edit" (improve the task's draft, e.g. a
model's reply), `min_length` (default 1) and `max_length` (default none), in characters of
the reply with surrounding whitespace stripped.

A task carries {prompt, draft?, system?}: edit projects need the draft; `system` is the
system prompt the reply was written under. An answer is {"text": reply}.

Consolidation: answers are not merged (review accepts, fixes or rejects the result): the
result is the first answer, confidence 1 / the number of distinct (whitespace-normalized)
texts. In edit mode the result also carries `edit_distance` (Levenshtein distance from the
draft, in characters) and `diff`: the changes as rapidfuzz opcodes [op, draft_start,
draft_end, text_start, text_end] with op "replace", "delete" or "insert" (the draft's
[draft_start:draft_end] became the text's [text_start:text_end]).

Agreement: mean pairwise text similarity ("text_similarity", rapidfuzz ratio / 100). An
answer matches a gold answer when the whitespace-normalized texts are equal.

Exports (JSONL): `trl` (TRL prompt-completion {prompt, completion}), `messages` and `openai`
(conversational / OpenAI chat fine-tuning {"messages": [system?, user, assistant]}).
"""

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from rapidfuzz.distance import Levenshtein

from assay.errors import FieldError
from assay.exchange.llm_formats import (
    JSONL_MEDIA_TYPE,
    JSONL_SUFFIX,
    Row,
    conversation,
    jsonl_writer,
    message,
    prompt_completion,
)
from assay.kinds.base import Agreement, Answer, Export, Kind
from assay.kinds.llm_text import bounds_errors, first_answer, similarity_agreement
from assay.kinds.text_align import normalized
from assay.text import Text


class ResponseParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["write", "edit"] = "write"
    min_length: Annotated[int, Field(ge=0)] = 1
    max_length: Annotated[int, Field(ge=1)] | None = None


def check_params(params: ResponseParams) -> list[FieldError]:
    return bounds_errors(params, "min_length", "max_length")


class ResponseTask(BaseModel):
    model_config = ConfigDict(extra="allow")

    prompt: Annotated[Text, Field(min_length=1)]
    draft: Text | None = None
    system: Text | None = None


def check_task(params: ResponseParams, task: ResponseTask) -> list[FieldError]:
    if params.mode == "edit" and task.draft is None:
        return [FieldError("draft", "this project edits drafts: give the draft to edit")]
    return []


class ResponseAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text


def check_response(
    params: ResponseParams, task: ResponseTask, response: ResponseAnswer
) -> list[FieldError]:
    length = len(response.text.strip())
    if length < params.min_length:
        return [FieldError("text", f"too short: {length} characters, at least {params.min_length}")]
    if params.max_length is not None and length > params.max_length:
        return [FieldError("text", f"too long: {length} characters, at most {params.max_length}")]
    return []


def _text(answer: Answer) -> str:
    return answer["text"]


def edit_summary(draft: str, text: str) -> dict[str, Any]:
    """{edit_distance, diff}: how `text` differs from `draft`, character by character."""
    changes = [
        [op.tag, op.src_start, op.src_end, op.dest_start, op.dest_end]
        for op in Levenshtein.opcodes(draft, text)
        if op.tag != "equal"
    ]
    return {"edit_distance": Levenshtein.distance(draft, text), "diff": changes}


def consolidate(params: ResponseParams, task: ResponseTask, answers: Sequence[Answer]) -> Answer:
    result = first_answer(answers, _text)
    if params.mode == "edit" and task.draft is not None:
        result |= edit_summary(task.draft, result["text"])
    return result


def matches(params: ResponseParams, task: ResponseTask, answer: Answer, gold: Answer) -> bool:
    return normalized(answer["text"], fold=False) == normalized(gold["text"], fold=False)


def agreement(
    params: ResponseParams, items: Sequence[tuple[ResponseTask, Sequence[Answer]]]
) -> Agreement:
    return similarity_agreement(items, _text)


def _completion_row(params: BaseModel, task: dict[str, Any]) -> list[Row]:
    return [prompt_completion(task["params"]["prompt"], task["response"]["text"])]


def _conversation_row(params: BaseModel, task: dict[str, Any]) -> list[Row]:
    turns = [
        message("user", task["params"]["prompt"]),
        message("assistant", task["response"]["text"]),
    ]
    return [conversation(task["params"].get("system"), turns)]


KIND = Kind(
    name="response",
    summary="write or edit the ideal reply to a prompt (SFT demonstrations)",
    widget="response",
    params_model=ResponseParams,
    check_params=check_params,
    task_model=ResponseTask,
    check_task=check_task,
    response_model=ResponseAnswer,
    check_response=check_response,
    consolidate=consolidate,
    matches=matches,
    agreement=agreement,
    exports={
        "trl": Export(JSONL_MEDIA_TYPE, JSONL_SUFFIX, jsonl_writer(_completion_row)),
        "messages": Export(JSONL_MEDIA_TYPE, JSONL_SUFFIX, jsonl_writer(_conversation_row)),
        "openai": Export(JSONL_MEDIA_TYPE, JSONL_SUFFIX, jsonl_writer(_conversation_row)),
    },
)
