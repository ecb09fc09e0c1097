"""What every task kind declares. A kind is one module; nothing else branches on its name.

The engine hands a kind plain data: the project's params and each task's params as the
kind's own validated models, answers as the dicts its response model produced
(`model_dump(exclude_none=True)`). A kind never touches the database or the web.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from pydantic import BaseModel, ConfigDict

from assay.errors import FieldError

Answer = dict[str, Any]


class AnyItem(BaseModel):
    """Task params for kinds that show the item as it comes (any JSON object)."""

    model_config = ConfigDict(extra="allow")


@dataclass(frozen=True)
class Agreement:
    """How much workers agree across a project's tasks, by the kind's own measure."""

    measure: str
    """e.g. "krippendorff_alpha_nominal", "span_f1", "box_iou"."""
    value: float | None
    """None while no task has two answers to compare."""
    pairs: int
    """Pairs of answers (or coded units) the value rests on."""


@dataclass(frozen=True)
class Export:
    """One file format a kind's results export to. `write` gets the project's params and
    completed tasks as dicts {id, unique_id, params, response, metadata} (`response` is
    the result) and yields the file's bytes."""

    media_type: str
    suffix: str
    write: Callable[[BaseModel, Iterable[dict[str, Any]]], Iterator[bytes]]


@dataclass(frozen=True)
class Import:
    """One file format tasks of this kind are read from. `read` gets the file's bytes and
    yields task fields ({params, unique_id?, hypothesis?, metadata?}), one per task."""

    read: Callable[[bytes], Iterator[dict[str, Any]]]


def no_problems(*_: Any) -> list[FieldError]:
    return []


@dataclass(frozen=True)
class Kind:
    name: str
    summary: str
    """One line for `assay kinds` and the docs."""
    widget: str
    """Name of the web widget that shows the task and takes the answer."""
    params_model: type[BaseModel]
    """Project-level settings of the kind (e.g. the label set), validated on create/update."""
    task_model: type[BaseModel]
    """What each task's params must carry (e.g. {text} for spans); extra keys are kept."""
    response_model: type[BaseModel]
    """Shape of one worker's answer (also of gold answers and hypotheses)."""
    check_response: Callable[[BaseModel, BaseModel, BaseModel], list[FieldError]]
    """(params, task, response) -> rules an answer must meet beyond its shape, e.g. span
    offsets inside the text; paths relative to the response."""
    consolidate: Callable[[BaseModel, BaseModel, Sequence[Answer]], Answer]
    """(params, task, answers) -> one result, an answer with a `confidence` in [0, 1]."""
    matches: Callable[[BaseModel, BaseModel, Answer, Answer], bool]
    """(params, task, answer, gold) -> whether an answer agrees with a known answer."""
    agreement: Callable[[BaseModel, Sequence[tuple[BaseModel, Sequence[Answer]]]], Agreement]
    """(params, [(task, its answers), ...]) -> agreement between workers."""
    check_params: Callable[[BaseModel], list[FieldError]] = no_problems
    """Rules across project params that the model cannot express; paths relative to params."""
    check_task: Callable[[BaseModel, BaseModel], list[FieldError]] = no_problems
    """(params, task) -> rules a task's params must meet; paths relative to the task params."""
    answer_key: Callable[[BaseModel, Answer], str] | None = None
    """An answer as one categorical value, for kinds whose answers are categories: truth
    inference (Dawid-Skene and the rest) then weighs workers. None: the kind consolidates."""
    automation: Callable[[BaseModel], str | None] | None = None
    """None: model-in-the-loop automation cannot serve the kind. Otherwise (params) -> why
    automation cannot serve a project with these params, or None when it can: a model
    answers each task with one of the project's `labels`, and an answer's key is that label."""
    exports: Mapping[str, Export] = field(default_factory=dict)
    imports: Mapping[str, Import] = field(default_factory=dict)
    leaderboard: Callable[[Iterable[dict[str, Any]]], list[dict[str, Any]]] | None = None
    """Completed tasks (dicts {params, response}) -> the models they compare, scored and
    best first; for kinds whose tasks pit models against each other."""


def pairwise_agreement(
    measure: str,
    items: Sequence[tuple[BaseModel, Sequence[Answer]]],
    score: Callable[[BaseModel, Answer, Answer], float],
) -> Agreement:
    """Mean of `score(task, a, b)` over every pair of answers to the same task."""
    total, pairs = 0.0, 0
    for task, answers in items:
        for a, b in combinations(answers, 2):
            total += score(task, a, b)
            pairs += 1
    return Agreement(measure, total / pairs if pairs else None, pairs)
