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
    try:
        model = kind.params_model.model_validate(params)
    except ValidationError as exc:
        raise Invalid(
            [
                FieldError(field_path(("params", *e["loc"])), e["msg"])
                for e in exc.errors(include_url=False)
            ]
        ) from None
    problems = kind.check_params(model)
    if problems:
        raise Invalid([FieldError(f"params.{p.field}", p.message) for p in problems])
    return model.model_dump()
