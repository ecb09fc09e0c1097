"""What every task kind declares. A kind is one module; nothing else branches on its name."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from assay.errors import FieldError


@dataclass(frozen=True)
class Kind:
    name: str
    params_model: type[BaseModel]
    """Project-level settings of the kind (e.g. the label set), validated on create/update."""
    check_params: Callable[[BaseModel], list[FieldError]]
    """Rules across fields that the model cannot express; paths are relative to params."""
    response_model: type[BaseModel]
    """Shape of one worker's answer."""
    check_response: Callable[[BaseModel, BaseModel], list[FieldError]]
    """Rules an answer must meet given the project's params; paths relative to response."""
    consolidate: Callable[[BaseModel, Sequence[dict[str, Any]]], dict[str, Any]]
    """Several workers' answers -> one result with a `confidence` in [0, 1]."""
    matches: Callable[[BaseModel, dict[str, Any], dict[str, Any]], bool]
    """Whether an answer agrees with a known (gold) answer."""
    answer_key: Callable[[BaseModel, dict[str, Any]], str]
    """An answer as one categorical value: what truth inference and agreement compare."""
