"""Domain errors raised by the engine and rendered by the API as problem JSON."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class FieldError:
    field: str
    message: str


@dataclass
class AssayError(Exception):
    """Base of every error a client can cause; `status` is the HTTP status it maps to."""

    detail: str
    code: str = "error"
    status: int = 400
    errors: list[FieldError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.detail


class Invalid(AssayError):
    def __init__(self, errors: Sequence[FieldError], detail: str | None = None):
        first = errors[0] if errors else None
        super().__init__(
            detail=detail or (f"{first.field}: {first.message}" if first else "invalid input"),
            code="invalid",
            status=422,
            errors=list(errors),
        )


class NotFound(AssayError):
    def __init__(self, resource: str, ident: str, field_name: str | None = None):
        super().__init__(
            detail=f"{resource} {ident!r} not found",
            code=f"{resource}_not_found",
            status=404,
            errors=[FieldError(field_name, f"no such {resource}")] if field_name else [],
        )


class Conflict(AssayError):
    def __init__(self, code: str, detail: str, **extra: Any):
        super().__init__(detail=detail, code=code, status=409, extra=extra)


def field_path(loc: Sequence[str | int]) -> str:
    """('params', 'labels', 2) -> 'params.labels[2]'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
