"""Signing and verifying callbacks.

Every callback carries `Assay-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<body>" keyed by the project's callback_secret>` and `Assay-Delivery: <id>` (the
same id on every retry of one delivery, for de-duplication). A receiver checks it with
`verify(body, header, secret)`.
"""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "Assay-Signature"
DELIVERY_HEADER = "Assay-Delivery"


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The Assay-Signature header value for `body`."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={_digest(secret, t, body)}"


def verify(
    body: bytes | str, header: str, secret: str, tolerance_s: int = 300, now: float | None = None
) -> bool:
    """True when `header` is a valid signature of `body` made within `tolerance_s` seconds."""
    if isinstance(body, str):
        body = body.encode()
    parts: dict[str, list[str]] = {}
    for item in (header or "").split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = _digest(secret, timestamp, body)
    return any(hmac.compare_digest(expected, given) for given in parts.get("v1", []))
