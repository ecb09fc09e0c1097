"""A model behind any HTTP endpoint: POST {"items": [...]} and get back
{"predictions": [{"response": ..., "confidence": ..., "probabilities"?: ...}, ...]},
one prediction per item, in order. Items go in chunks of `batch_size`."""

from typing import Any

import httpx

from assay.automation.models.base import Item, ModelError, Prediction, predictions_from
from assay.outbound import STRICT, OutboundPolicy


def post_json(client: httpx.Client, url: str, payload: Any) -> Any:
    """POST JSON and return the decoded reply; every failure is a ModelError that names the
    URL and what went wrong (timeout, refused connection, status and body, not JSON), for
    the server log: the API shows none of it."""
    try:
        reply = client.post(url, json=payload)
    except httpx.TimeoutException:
        raise ModelError(f"{url}: no reply within the timeout") from None
    except httpx.HTTPError as exc:
        raise ModelError(f"{url}: {type(exc).__name__}: {exc}") from None
    if reply.status_code >= 400:
        message = f"{url} answered {reply.status_code}: {reply.text[:300]}"
        raise ModelError(message, status=reply.status_code)
    try:
        return reply.json()
    except ValueError:
        raise ModelError(f"{url} did not answer JSON: {reply.text[:300]}") from None


class HttpModel:
    def __init__(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        timeout: float = 60.0,
        batch_size: int = 64,
        outbound: OutboundPolicy = STRICT,
    ):
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.url = url
        self.batch_size = batch_size
        self._client = outbound.http_client(headers=headers or {}, timeout=timeout)

    def predict(self, items: list[Item]) -> list[Prediction]:
        out: list[Prediction] = []
        for start in range(0, len(items), self.batch_size):
            chunk = items[start : start + self.batch_size]
            reply = post_json(self._client, self.url, {"items": chunk})
            if not isinstance(reply, dict) or "predictions" not in reply:
                raise ModelError(f"{self.url}: the reply has no 'predictions' list")
            out += predictions_from(reply["predictions"], len(chunk), self.url, "predictions")
        return out
