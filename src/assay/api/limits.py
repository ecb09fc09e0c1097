"""Refuse request bodies over the configured size before they are read into memory."""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assay.api.responses import TITLES, problem
from assay.errors import FieldError


def _detail(max_bytes: int) -> str:
    return f"the request body exceeds the limit of {max_bytes} bytes; send it in parts"


class BodySizeLimit:
    """ASGI middleware: a declared oversize body is refused at once; an undeclared one
    (chunked) fails with 413 as soon as the running count passes the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            refusal = problem(413, "body_too_large", TITLES[413], _detail(self.max_bytes))
            await refusal(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, _detail(self.max_bytes))
            return message

        await self.app(scope, counting_receive, send)


class RejectNulInUrl:
    """ASGI middleware: a NUL character in the path or query string is a 400 up front.

    No id, filter or token of ours contains one, and PostgreSQL cannot even compare
    text with it, so it is refused before it can reach a query.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            query = scope.get("query_string", b"").lower()
            where = "path" if "\x00" in scope["path"] else "query" if b"%00" in query else None
            if where:
                refusal = problem(
                    400,
                    "nul_character",
                    TITLES[400],
                    f"the {where} contains a NUL character",
                    [FieldError(where, "must not contain NUL characters")],
                )
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)
