"""Turn every failure into problem JSON: client mistakes are 4xx and never 500."""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assay.api.responses import TITLES, problem, problem_from
from assay.errors import AssayError, FieldError, field_path

log = logging.getLogger("assay.api")

_LOCATIONS = {"body", "query", "path", "header"}


def _field(loc: tuple) -> str:
    parts = list(loc)
    if parts and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return field_path(parts)


async def _assay_error(_: Request, exc: AssayError):
    return problem_from(exc)


async def _validation_error(_: Request, exc: RequestValidationError):
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        message = next(e["ctx"].get("error", "") for e in errors if e["type"] == "json_invalid")
        return problem(
            400,
            "malformed_json",
            TITLES[400],
            f"the body is not valid JSON: {message}",
            [FieldError("body", str(message))],
        )
    fields = [FieldError(_field(e["loc"]) or "body", e["msg"]) for e in errors]
    return problem(422, "invalid", TITLES[422], f"{fields[0].field}: {fields[0].message}", fields)


async def _http_error(_: Request, exc: HTTPException):
    code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
        exc.status_code, "http_error"
    )
    return problem(
        exc.status_code,
        code,
        TITLES.get(exc.status_code, "Error"),
        str(exc.detail),
        headers=getattr(exc, "headers", None),
    )


class UnexpectedErrors:
    """ASGI middleware: an unforeseen exception becomes a logged 500 problem response.

    Unlike Starlette's own handler it does not re-raise, so the server keeps the client's
    connection open instead of resetting it.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if started or scope["type"] != "http":
                raise
            response = problem(
                500, "internal", TITLES[500], "an unexpected error occurred; it was logged"
            )
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    app.add_exception_handler(AssayError, _assay_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(UnexpectedErrors)
