"""Rows of the JSONL formats language-model training reads, and a streaming JSONL writer.

- TRL preference ("standard" format of TRL's DPO/reward trainers): {prompt, chosen, rejected}.
- TRL prompt-completion: {prompt, completion}.
- Conversational / OpenAI chat fine-tuning: {"messages": [{role, content}, ...]}.
- OpenAI preference (DPO) fine-tuning: {"input": {"messages": [...]}, "preferred_output":
  [assistant message], "non_preferred_output": [assistant message]}.

Kinds build rows with these helpers and wrap `jsonl_writer` in an Export.
"""

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson
from pydantic import BaseModel

JSONL_MEDIA_TYPE = "application/x-ndjson"
JSONL_SUFFIX = ".jsonl"

Row = dict[str, Any]


def jsonl_writer(
    rows: Callable[[BaseModel, dict[str, Any]], Iterable[Row]],
) -> Callable[[BaseModel, Iterable[dict[str, Any]]], Iterator[bytes]]:
    """An export `write` that yields one JSON line per row `rows(params, task)` gives."""

    def write(params: BaseModel, tasks: Iterable[dict[str, Any]]) -> Iterator[bytes]:
        for task in tasks:
            for row in rows(params, task):
                yield orjson.dumps(row) + b"\n"

    return write


def message(role: str, content: str) -> Row:
    return {"role": role, "content": content}


def preference_pair(prompt: str, chosen: str, rejected: str) -> Row:
    """TRL's standard preference row."""
    return {"prompt": prompt, "chosen": chosen, "rejected": rejected}


def dpo_pair(prompt: str, chosen: str, rejected: str) -> Row:
    """OpenAI's preference fine-tuning (DPO) row: a user turn and two assistant replies."""
    return {
        "input": {"messages": [message("user", prompt)]},
        "preferred_output": [message("assistant", chosen)],
        "non_preferred_output": [message("assistant", rejected)],
    }


def prompt_completion(prompt: str, completion: str) -> Row:
    """TRL's standard prompt-completion row."""
    return {"prompt": prompt, "completion": completion}


def conversation(system: str | None, messages: Iterable[Row]) -> Row:
    """{"messages": [...]}, led by a system message when there is a system prompt."""
    lead = [message("system", system)] if system else []
    return {"messages": [*lead, *messages]}
