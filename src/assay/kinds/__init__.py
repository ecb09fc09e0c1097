"""Registry of task kinds, and the checks every kind shares."""

from typing import Any

from pydantic import ValidationError

from assay.errors import FieldError, Invalid, field_path
from assay.kinds import categorization
from assay.kinds.base import Kind

KINDS: dict[str, Kind] = {k.name: k for k in (categorization.KIND,)}


def validate_params(kind_name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Validate a project's kind params; errors name their path under `params`."""
    kind = KINDS.get(kind_name)
    if kind is None:
        raise Invalid([FieldError("kind", f"unknown kind; one of {sorted(KINDS)}")])
    return _checked(kind.params_model, params, kind.check_params, "params").model_dump()


def _checked(model_type, value: Any, check, prefix: str, *context):
    try:
        model = model_type.model_validate(value)
    except ValidationError as exc:
        raise Invalid(
            [
                FieldError(field_path((prefix, *e["loc"])), e["msg"])
                for e in exc.errors(include_url=False)
            ]
        ) from None
    problems = check(*context, model)
    if problems:
        raise Invalid([FieldError(f"{prefix}.{p.field}", p.message) for p in problems])
    return model


def validate_response(
    kind_name: str, params: dict[str, Any], response: Any, field: str = "response"
) -> dict[str, Any]:
    """Validate one answer (a worker's, or a gold one) against the kind and the project's
    params; errors name their path under `field`."""
    kind = KINDS[kind_name]
    settings = kind.params_model.model_validate(params)
    model = _checked(kind.response_model, response, kind.check_response, field, settings)
    return model.model_dump(exclude_none=True)


def consolidate(kind_name: str, params: dict[str, Any], answers: list[dict[str, Any]]) -> dict:
    """One result from several validated answers."""
    kind = KINDS[kind_name]
    return kind.consolidate(kind.params_model.model_validate(params), answers)


def matches(kind_name: str, params: dict[str, Any], answer: dict, gold: dict) -> bool:
    """Whether a validated answer agrees with the gold answer."""
    kind = KINDS[kind_name]
    return kind.matches(kind.params_model.model_validate(params), answer, gold)


def answer_keys(kind_name: str, params: dict[str, Any], answers: list[dict]) -> list[str]:
    """Each validated answer as one categorical value (for truth inference, agreement)."""
    kind = KINDS[kind_name]
    settings = kind.params_model.model_validate(params)
    return [kind.answer_key(settings, answer) for answer in answers]
