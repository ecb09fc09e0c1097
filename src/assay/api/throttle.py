"""Failed authentication is throttled per client address (the `limits` library's moving
window, in this process's memory).

Only failures count: an unknown or revoked API key, or a refused sign-in. Past the limit,
each further failure from that address is a 429 with `Retry-After` instead of a 401, for
the rest of the window. A valid key is served whatever its address did, so one script
with a stale key behind an office's shared address does not lock everyone there out;
keys carry 256 random bits, so the throttle is there to make a scanner back off, not to
make guessing them harder.
"""

import math
import time

from limits import parse, storage, strategies
from starlette.requests import Request

from assay.errors import AssayError


class TooManyFailures(AssayError):
    def __init__(self, retry_after: int):
        super().__init__(
            detail=f"too many failed authentications from this address; retry in {retry_after} s",
            code="too_many_failures",
            status=429,
            extra={"retry_after": retry_after},
        )


class AuthThrottle:
    """Counts failed authentications per client address against a limit such as
    "30/minute" (see `limits.parse`)."""

    def __init__(self, limit: str):
        self.item = parse(limit)
        self.limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())

    def failure(self, address: str) -> TooManyFailures | None:
        """Count one failure; the error to answer instead of a 401 when past the limit."""
        if self.limiter.hit(self.item, address):
            return None
        reset_at, _ = self.limiter.get_window_stats(self.item, address)
        return TooManyFailures(max(1, math.ceil(reset_at - time.time())))


def client_address(request: Request) -> str:
    """The address the request came from (the proxy's, unless uvicorn is told to trust
    its forwarded headers)."""
    return request.client.host if request.client else "unknown"
