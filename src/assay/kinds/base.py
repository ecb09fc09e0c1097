"""What every task kind declares. A kind is one module; nothing else branches on its name."""

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from assay.errors import FieldError


@dataclass(frozen=True)
class Kind:
    name: str
    params_model: type[BaseModel]
    """Project-level settings of the kind (e.g. the label set), validated on create/update."""
    check_params: Callable[[BaseModel], list[FieldError]]
    """Rules across fields that the model cannot express; paths are relative to params."""
