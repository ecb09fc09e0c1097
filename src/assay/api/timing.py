"""`Server-Timing: app;dur=<ms>` on every response: the time the server spent on a request,
from its arrival at the application to the start of the answer. Browsers' developer
tools show it, and benchmarks read it to tell server time from network and client time.
Only when the operator asks for it (`assay serve --server-timing`): see SECURITY.md."""

import time
from collections.abc import Callable

from starlette.types import Scope

from assay.api.headers import Headers, ResponseHeaders


class ServerTiming(ResponseHeaders):
    def headers_for(self, scope: Scope) -> Callable[[], Headers]:
        start = time.perf_counter()
        return lambda: [
            (b"server-timing", b"app;dur=%.3f" % ((time.perf_counter() - start) * 1000))
        ]
