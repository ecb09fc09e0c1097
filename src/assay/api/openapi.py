"""The OpenAPI document says what the API answers: every operation's 4xx is a problem
(RFC 9457, `assay.schemas.Problem`) served as application/problem+json, in place of
FastAPI's own shape for validation errors, which this API never sends."""

from typing import Any

from fastapi import FastAPI

from assay.schemas import Problem

REF = "#/components/schemas/{model}"
_FASTAPI_ERRORS = ("HTTPValidationError", "ValidationError")
PROBLEM_RESPONSE = {
    "description": "A problem: what was wrong, with a machine `code` and the field paths",
    "content": {"application/problem+json": {"schema": {"$ref": REF.format(model="Problem")}}},
}


def _with_problems(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template=REF)
    components.update(problem.pop("$defs", {}))
    components["Problem"] = problem
    for name in _FASTAPI_ERRORS:
        components.pop(name, None)
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            responses["4XX"] = PROBLEM_RESPONSE


def document_problems(app: FastAPI) -> None:
    """Make `app.openapi()` document problem answers (built once, like FastAPI's own)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _with_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
