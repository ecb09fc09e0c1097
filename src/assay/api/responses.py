"""Response classes: orjson-encoded JSON, and RFC 9457 problem details."""

from typing import Any

import orjson
from fastapi.responses import JSONResponse

from assay.errors import AssayError, FieldError

PROBLEM_TYPE = "https://assay.dev/problems/"


class OrjsonResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def problem(
    status: int,
    code: str,
    title: str,
    detail: str,
    errors: list[FieldError] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> OrjsonResponse:
    body = {
        "type": PROBLEM_TYPE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "errors": [{"field": e.field, "message": e.message} for e in errors or []],
        **(extra or {}),
    }
    return OrjsonResponse(
        body, status_code=status, headers=headers, media_type="application/problem+json"
    )


TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
}


def problem_from(exc: AssayError) -> OrjsonResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    if "retry_after" in exc.extra:
        headers["Retry-After"] = str(exc.extra["retry_after"])
    return problem(
        exc.status,
        exc.code,
        TITLES.get(exc.status, "Error"),
        exc.detail,
        exc.errors,
        exc.extra,
        headers=headers,
    )
