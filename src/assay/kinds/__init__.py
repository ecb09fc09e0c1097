"""Registry of task kinds, and the checks every kind shares.

Every module of this package that defines `KIND` is a kind; the registry finds them, so a
new kind is one new module and nothing else changes.
"""

import importlib
import pkgutil
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from assay.errors import Conflict, FieldError, Invalid, field_path
from assay.kinds.base import Agreement, Answer, Export, Import, Kind


def _discover() -> dict[str, Kind]:
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        kind = getattr(importlib.import_module(f"{__name__}.{info.name}"), "KIND", None)
        if isinstance(kind, Kind):
            found[kind.name] = kind
    return found


KINDS: dict[str, Kind] = _discover()


def get_kind(kind_name: str) -> Kind:
    kind = KINDS.get(kind_name)
    if kind is None:
        raise Invalid([FieldError("kind", f"unknown kind; one of {sorted(KINDS)}")])
    return kind


def _checked(model_type: type[BaseModel], value: Any, prefix: str) -> BaseModel:
    try:
        return model_type.model_validate(value)
    except ValidationError as exc:
        raise Invalid(
            [
                FieldError(field_path((prefix, *e["loc"])), e["msg"])
                for e in exc.errors(include_url=False)
            ]
        ) from None


def _raise_problems(problems: list[FieldError], prefix: str) -> None:
    if problems:
        raise Invalid([FieldError(f"{prefix}.{p.field}", p.message) for p in problems])


def validate_params(kind_name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Validate a project's kind params; errors name their path under `params`."""
    kind = get_kind(kind_name)
    model = _checked(kind.params_model, params, "params")
    _raise_problems(kind.check_params(model), "params")
    return model.model_dump()


def _settings(kind: Kind, params: dict[str, Any]) -> BaseModel:
    return kind.params_model.model_validate(params)


def _task(kind: Kind, task_params: dict[str, Any]) -> BaseModel:
    return kind.task_model.model_validate(task_params)


class TaskChecker:
    """Checks the tasks of one project against its kind; the project's params are
    validated once, not per task (an import checks many thousands)."""

    def __init__(self, kind_name: str, params: dict[str, Any]):
        self.kind = KINDS[kind_name]
        self.settings = _settings(self.kind, params)

    def task(self, task_params: Any, field: str = "params") -> dict[str, Any]:
        """A task's params validated against what the kind needs; errors name their path
        under `field`. Returns the params as given (coerced), extra keys kept."""
        model = _checked(self.kind.task_model, task_params, field)
        _raise_problems(self.kind.check_task(self.settings, model), field)
        return model.model_dump(exclude_unset=True)

    def answer(self, task_params: dict[str, Any], response: Any, field: str) -> Answer:
        """An answer (a worker's, a gold one or a hypothesis) validated against the kind,
        the project's params and the task; errors name their path under `field`."""
        model = _checked(self.kind.response_model, response, field)
        task = _task(self.kind, task_params)
        _raise_problems(self.kind.check_response(self.settings, task, model), field)
        return model.model_dump(exclude_none=True)


def validate_task(
    kind_name: str, params: dict[str, Any], task_params: Any, field: str = "params"
) -> dict[str, Any]:
    return TaskChecker(kind_name, params).task(task_params, field)


def validate_response(
    kind_name: str,
    params: dict[str, Any],
    task_params: dict[str, Any],
    response: Any,
    field: str = "response",
) -> Answer:
    return TaskChecker(kind_name, params).answer(task_params, response, field)


def consolidate(
    kind_name: str, params: dict[str, Any], task_params: dict[str, Any], answers: list[Answer]
) -> Answer:
    """One result from several validated answers."""
    kind = KINDS[kind_name]
    return kind.consolidate(_settings(kind, params), _task(kind, task_params), answers)


def matches(
    kind_name: str,
    params: dict[str, Any],
    task_params: dict[str, Any],
    answer: Answer,
    gold: Answer,
) -> bool:
    """Whether a validated answer agrees with the gold answer."""
    kind = KINDS[kind_name]
    return kind.matches(_settings(kind, params), _task(kind, task_params), answer, gold)


def is_categorical(kind_name: str) -> bool:
    """Whether the kind's answers are categories that truth inference can weigh."""
    return KINDS[kind_name].answer_key is not None


def automation_kinds() -> list[str]:
    """The kinds model-in-the-loop automation can serve (each kind declares it)."""
    return sorted(name for name, kind in KINDS.items() if kind.automation)


def automation_refusal(kind_name: str, params: dict[str, Any]) -> str | None:
    """Why automation cannot serve a project of this kind and params; None when it can."""
    kind = KINDS[kind_name]
    if kind.automation is None:
        return (
            f"automation cannot serve {kind_name} tasks; it serves {', '.join(automation_kinds())}"
        )
    return kind.automation(_settings(kind, params))


def answer_keys(kind_name: str, params: dict[str, Any], answers: list[Answer]) -> list[str]:
    """Each validated answer as one categorical value (for truth inference, agreement).
    Only for categorical kinds (`is_categorical`)."""
    kind = KINDS[kind_name]
    if kind.answer_key is None:
        raise ValueError(f"answers of kind {kind_name!r} are not categories")
    settings = _settings(kind, params)
    return [kind.answer_key(settings, answer) for answer in answers]


def agreement(
    kind_name: str, params: dict[str, Any], items: Sequence[tuple[dict[str, Any], list[Answer]]]
) -> Agreement:
    """The kind's agreement between workers over [(task params, its answers), ...]."""
    kind = KINDS[kind_name]
    return kind.agreement(_settings(kind, params), [(_task(kind, t), a) for t, a in items])


def exports(kind_name: str) -> dict[str, Export]:
    return dict(KINDS[kind_name].exports)


def imports(kind_name: str) -> dict[str, Import]:
    return dict(KINDS[kind_name].imports)


def leaderboard(kind_name: str, tasks: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The models a project's completed tasks compare, best first; Conflict if the kind
    compares no models."""
    kind = KINDS[kind_name]
    if kind.leaderboard is None:
        raise Conflict("no_leaderboard", f"{kind_name} tasks do not compare models")
    return kind.leaderboard(tasks)


def settings_model(kind_name: str, params: dict[str, Any]) -> BaseModel:
    """The project's params as the kind's model (what exporters are given)."""
    kind = KINDS[kind_name]
    return _settings(kind, params)


def describe(kind_name: str) -> dict[str, Any]:
    """A kind as clients see it: what it is, its JSON schemas and its file formats."""
    kind = get_kind(kind_name)
    return {
        "name": kind.name,
        "summary": kind.summary,
        "widget": kind.widget,
        "categorical": kind.answer_key is not None,
        "params_schema": kind.params_model.model_json_schema(),
        "task_schema": kind.task_model.model_json_schema(),
        "response_schema": kind.response_model.model_json_schema(),
        "exports": sorted(kind.exports),
        "imports": sorted(kind.imports),
        "leaderboard": kind.leaderboard is not None,
    }
