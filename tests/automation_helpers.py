"""Real local HTTP servers for model-plugin tests, and a model that is a Python function."""

import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handler = Callable[[str, dict[str, str], Any], tuple[int, Any]]
"""(path, headers, JSON body) -> (status, JSON reply)."""


@contextmanager
def serve(handler: Handler) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A threaded HTTP server on a free local port: yields its base URL and the list of
    requests it received ({path, headers, body})."""
    received: list[dict[str, Any]] = []

    class Endpoint(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            headers = {k.lower(): v for k, v in self.headers.items()}
            received.append({"path": self.path, "headers": headers, "body": body})
            status, reply = handler(self.path, headers, body)
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def sentiment_of(prompt: str) -> str:
    return "pos" if "great" in prompt else "neg"


def fake_openai(mode: str) -> Handler:
    """/v1/chat/completions of an OpenAI-compatible server that labels sentiment by keyword.
    Modes: "logprobs" (answers the label with token log-probabilities, 0.9 on it), "plain"
    (never returns logprobs, answers JSON {label, confidence: 0.7}), "off_label", "not_json",
    "error", "slow"."""

    def handle(path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        if path != "/v1/chat/completions":
            return 404, {"error": "not found"}
        if mode == "error":
            return 500, {"error": {"message": "the model is overloaded"}}
        if mode == "slow":
            time.sleep(2)
        label = sentiment_of(body["messages"][0]["content"])
        other = "neg" if label == "pos" else "pos"
        if mode == "off_label":
            maybe = [{"token": "maybe", "logprob": -0.1, "top_logprobs": []}]
            return 200, _completion("maybe", {"content": maybe})
        if mode == "not_json":
            return 200, _completion("I think it is positive.", None)
        if mode == "logprobs" and body.get("logprobs"):
            top = [
                {"token": label, "logprob": math.log(0.9)},
                {"token": other, "logprob": math.log(0.08)},
                {"token": " The", "logprob": math.log(0.01)},
            ]
            tokens = [{"token": label, "logprob": math.log(0.9), "top_logprobs": top}]
            return 200, _completion(label, {"content": tokens})
        return 200, _completion(f'Sure: {{"label": "{label}", "confidence": 0.7}}', None)

    return handle


def _completion(content: str, logprobs: Any) -> dict[str, Any]:
    choice = {"index": 0, "message": {"role": "assistant", "content": content}}
    return {"object": "chat.completion", "choices": [choice | {"logprobs": logprobs}]}


def fake_predictor(mode: str = "ok") -> Handler:
    """An HttpModel endpoint: {"items": [...]} -> one prediction per item, the label read
    from its text. Modes: "ok", "bad_confidence", "short" (one prediction too few)."""

    def handle(path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        predictions = keyword_model(body["items"])
        if mode == "bad_confidence":
            predictions[0]["confidence"] = 2
        if mode == "short":
            predictions = predictions[1:]
        return 200, {"predictions": predictions}

    return handle


def keyword_model(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A model as a Python function (PythonModel's contract)."""
    return [
        {
            "response": {"label": sentiment_of(item["text"])},
            "confidence": 0.8,
            "probabilities": {"pos": 0.8, "neg": 0.2},
        }
        for item in items
    ]


def broken_model(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"confidence": 0.5} for _ in items]


def failing_model(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    raise RuntimeError("weights not found")


NOT_CALLABLE = 3


def cat_or_dog_model(items: list[dict]) -> list[dict]:
    """A model sure (0.99) and right about texts that say "clear" ("cat" if they say
    "meow", else "dog"), and unsure (0.6) of the rest, which it always calls "dog"."""
    return [
        {
            "response": {"label": "cat" if "meow" in t and "clear" in t else "dog"},
            "confidence": 0.99 if "clear" in t else 0.6,
        }
        for t in (item["text"] for item in items)
    ]


ASKED: list[str] = []
"""The texts `counted_cat_or_dog_model` was asked about, in order."""


def counted_cat_or_dog_model(items: list[dict]) -> list[dict]:
    """cat_or_dog_model, noting what it is asked: a model slow or paid per call."""
    ASKED.extend(item["text"] for item in items)
    return cat_or_dog_model(items)


class DownModel:
    """cat_or_dog_model behind an endpoint that is down until `up` is set; notes the texts
    it was asked about."""

    def __init__(self) -> None:
        self.up = False
        self.asked: list[str] = []

    def __call__(self, items: list[dict]) -> list[dict]:
        self.asked.extend(item["text"] for item in items)
        if not self.up:
            raise ConnectionError("the model endpoint is down")
        return cat_or_dog_model(items)


DOWN = DownModel()
