"""Categorization: pick one label (or several, when `multi`) from the project's label set."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from assay.errors import FieldError
from assay.kinds.base import Kind
from assay.text import Text

Label = Annotated[Text, Field(min_length=1, max_length=200)]


class CategorizationParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: Annotated[list[Label], Field(min_length=2, max_length=1000)]
    multi: bool = False


def check_params(params: CategorizationParams) -> list[FieldError]:
    """Labels must be distinct; each repeat is named by its index."""
    seen: set[str] = set()
    errors = []
    for i, label in enumerate(params.labels):
        if label in seen:
            errors.append(FieldError(f"labels[{i}]", f"label {label!r} is repeated"))
        seen.add(label)
    return errors


KIND = Kind(
    name="categorization",
    params_model=CategorizationParams,
    check_params=check_params,
)
