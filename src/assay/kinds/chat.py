"""Chat: hold a multi-turn conversation, writing (or correcting) the assistant's replies, for
supervised fine-tuning on dialogues.

Project params: `system` (default system prompt), `min_turns` (default 1) and `max_turns`
(default none) user turns, `rate_turns` (each assistant reply carries a rating 1..5) and
`model` ({model, base_url?}: the endpoint the annotation UI asks for draft replies; stored
only, nothing here calls it).

A task is any object; `system` overrides the project's system prompt and `seed_messages`
([{role, content}], starting with the user and alternating) open the conversation in the UI.

An answer is {"messages": [{role: "user" | "assistant", content, rating?: 1..5, source?:
"model" | "edited" | "human"}]}: the whole conversation, starting with the user, alternating
and ending with an assistant reply, its user turns within the project's bounds; with
`rate_turns` every assistant reply is rated (and only those), otherwise none is.

Consolidation: answers are not merged (review decides): the result is the first answer,
confidence 1 / the number of distinct conversations. Agreement: mean pairwise similarity
("text_similarity", rapidfuzz ratio / 100) of the conversations as text, one "role: content"
line per message. An answer matches a gold answer when their messages have the same roles
and whitespace-normalized contents (ratings and sources aside).

Exports (JSONL, {"messages": [system?, ...]}, system from the task, else the project):
`messages` keeps ratings and sources; `openai` (OpenAI chat fine-tuning) keeps role and
content only.
"""

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assay.errors import FieldError
from assay.exchange.llm_formats import (
    JSONL_MEDIA_TYPE,
    JSONL_SUFFIX,
    Row,
    conversation,
    jsonl_writer,
    message,
)
from assay.kinds.base import Agreement, Answer, Export, Kind
from assay.kinds.llm_text import bounds_errors, first_answer, similarity_agreement
from assay.kinds.text_align import normalized
from assay.text import Text

Role = Literal["user", "assistant"]


class ModelEndpoint(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: Annotated[Text, Field(min_length=1, max_length=200)]
    base_url: Annotated[Text, Field(max_length=2000)] | None = None


class ChatParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    system: Text | None = None
    min_turns: Annotated[int, Field(ge=1)] = 1
    max_turns: Annotated[int, Field(ge=1)] | None = None
    rate_turns: bool = False
    model: ModelEndpoint | None = None


def check_params(params: ChatParams) -> list[FieldError]:
    return bounds_errors(params, "min_turns", "max_turns")


class SeedMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    content: Text


class ChatTask(BaseModel):
    model_config = ConfigDict(extra="allow")

    system: Text | None = None
    seed_messages: list[SeedMessage] | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role
    content: Annotated[Text, Field(min_length=1)]
    rating: Annotated[int, Field(ge=1, le=5)] | None = None
    source: Literal["model", "edited", "human"] | None = None


class ChatResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    messages: Annotated[list[ChatMessage], Field(min_length=2, max_length=1000)]


def _role_errors(path: str, roles: Sequence[str]) -> list[FieldError]:
    """Messages must start with the user and alternate user, assistant, user, ..."""
    return [
        FieldError(
            f"{path}[{i}].role",
            f"must be {expected}: a conversation starts with the user and alternates",
        )
        for i, role in enumerate(roles)
        if role != (expected := "assistant" if i % 2 else "user")
    ]


def check_task(params: ChatParams, task: ChatTask) -> list[FieldError]:
    return _role_errors("seed_messages", [m.role for m in task.seed_messages or []])


def _turn_errors(params: ChatParams, messages: Sequence[ChatMessage]) -> list[FieldError]:
    """The number of user turns within the project's bounds."""
    turns = sum(m.role == "user" for m in messages)
    if turns < params.min_turns:
        return [FieldError("messages", f"{turns} user turns; at least {params.min_turns}")]
    if params.max_turns is not None and turns > params.max_turns:
        return [FieldError("messages", f"{turns} user turns; at most {params.max_turns}")]
    return []


def _message_errors(params: ChatParams, i: int, m: ChatMessage) -> list[FieldError]:
    """A blank message, or a rating where the project wants none (or none where it wants one)."""
    errors = []
    if not m.content.strip():
        errors.append(FieldError(f"messages[{i}].content", "is blank"))
    if m.role == "user" and m.rating is not None:
        errors.append(FieldError(f"messages[{i}].rating", "only assistant replies are rated"))
    elif m.role == "assistant" and params.rate_turns and m.rating is None:
        errors.append(FieldError(f"messages[{i}].rating", "rate this reply 1..5"))
    elif m.role == "assistant" and not params.rate_turns and m.rating is not None:
        errors.append(FieldError(f"messages[{i}].rating", "this project does not rate replies"))
    return errors


def check_response(params: ChatParams, task: ChatTask, response: ChatResponse) -> list[FieldError]:
    messages = response.messages
    errors = _role_errors("messages", [m.role for m in messages])
    if not errors and messages[-1].role != "assistant":
        last = f"messages[{len(messages) - 1}].role"
        errors.append(FieldError(last, "the conversation must end with an assistant reply"))
    errors += _turn_errors(params, messages)
    for i, m in enumerate(messages):
        errors += _message_errors(params, i, m)
    return errors


def conversation_text(answer: Answer) -> str:
    """The conversation as text: one "role: content" line per message."""
    return "\n".join(f"{m['role']}: {m['content']}" for m in answer["messages"])


def consolidate(params: ChatParams, task: ChatTask, answers: Sequence[Answer]) -> Answer:
    return first_answer(answers, conversation_text)


def _turns(answer: Answer) -> list[tuple[str, str]]:
    return [(m["role"], normalized(m["content"], fold=False)) for m in answer["messages"]]


def matches(params: ChatParams, task: ChatTask, answer: Answer, gold: Answer) -> bool:
    return _turns(answer) == _turns(gold)


def agreement(params: ChatParams, items: Sequence[tuple[ChatTask, Sequence[Answer]]]) -> Agreement:
    return similarity_agreement(items, conversation_text)


def _system(params: ChatParams, task: dict[str, Any]) -> str | None:
    return task["params"].get("system") or params.system


def _annotated_row(params: ChatParams, task: dict[str, Any]) -> list[Row]:
    return [conversation(_system(params, task), task["response"]["messages"])]


def _openai_row(params: ChatParams, task: dict[str, Any]) -> list[Row]:
    turns = [message(m["role"], m["content"]) for m in task["response"]["messages"]]
    return [conversation(_system(params, task), turns)]


KIND = Kind(
    name="chat",
    summary="hold a multi-turn conversation, writing or correcting the assistant's replies",
    widget="chat",
    params_model=ChatParams,
    check_params=check_params,
    task_model=ChatTask,
    check_task=check_task,
    response_model=ChatResponse,
    check_response=check_response,
    consolidate=consolidate,
    matches=matches,
    agreement=agreement,
    exports={
        "messages": Export(JSONL_MEDIA_TYPE, JSONL_SUFFIX, jsonl_writer(_annotated_row)),
        "openai": Export(JSONL_MEDIA_TYPE, JSONL_SUFFIX, jsonl_writer(_openai_row)),
    },
)
