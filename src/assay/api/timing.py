"""`Server-Timing: app;dur=<ms>` on every response: the time the server spent on a request,
from its arrival at the application to the start of the answer. Browsers' developer
tools show it, and benchmarks read it to tell server time from network and client time."""

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ServerTiming:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                ms = (time.perf_counter() - start) * 1000
                header = (b"server-timing", b"app;dur=%.3f" % ms)
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        await self.app(scope, receive, timed)
