"""Security headers on every response: API, pages, static files and errors alike.

Pages load their script only as ES modules from /static (no inline script or event
handler, no inline style attribute), fetch only from this origin, and may not be framed.
Task items are images and recordings at the customer's own addresses, so media may come
from anywhere. The API docs (Swagger UI and ReDoc, served by fastapi-offline) start with
an inline script and style of the library's; those pages show only the API's own schema
and get a policy of their own that allows them.
"""

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src * data: blob:;"
    " media-src * data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'"
)
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none';"
    " base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})


Headers = list[tuple[bytes, bytes]]


def _headers(policy: str) -> Headers:
    return [
        (b"content-security-policy", policy.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"same-origin"),
    ]


_PAGE_HEADERS = _headers(PAGE_POLICY)
_DOCS_HEADERS = _headers(DOCS_POLICY)


class ResponseHeaders:
    """ASGI middleware that adds headers to every HTTP response; `headers_for(scope)` gives,
    for one request, what computes them when the response starts."""

    def __init__(self, app: ASGIApp):
        self.app = app

    def headers_for(self, scope: Scope) -> Callable[[], Headers]:
        raise NotImplementedError

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.headers_for(scope)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra()]
            await send(message)

        await self.app(scope, receive, with_headers)


class SecurityHeaders(ResponseHeaders):
    """The policy above on every response; the docs pages get theirs."""

    def headers_for(self, scope: Scope) -> Callable[[], Headers]:
        headers = _DOCS_HEADERS if scope["path"] in DOCS_PATHS else _PAGE_HEADERS
        return lambda: headers
