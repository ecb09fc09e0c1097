"""Python SDK: `assay.Client(url, key)` speaks the HTTP API (the CLI uses it too)."""

from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import IO, Any

import httpx
import orjson

from assay.exchange.import_report import KEPT_ERRORS, count

DEFAULT_URL = "http://127.0.0.1:8000"
IMPORT_CHUNK_ROWS = 20_000
IMPORT_CHUNK_BYTES = 8 * 1024 * 1024


class AssayAPIError(Exception):
    """A 4xx/5xx answer; `problem` is the RFC 9457 body (code, detail, errors)."""

    def __init__(self, status: int, problem: dict[str, Any]):
        self.status = status
        self.problem = problem
        self.code = problem.get("code")
        super().__init__(f"{status} {problem.get('code')}: {problem.get('detail')}")


class AssayConnectionError(ConnectionError):
    """The server could not be reached (refused, unknown host, timed out, cut off), so
    there is no answer to report; `url` is the server and `reason` what went wrong."""

    def __init__(self, url: str, reason: str):
        self.url = url
        self.reason = reason
        super().__init__(f"cannot reach {url}: {reason}")


def _reason(exc: httpx.TransportError) -> str:
    """The cause in a few words: the operating system's, where it gave one."""
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror.lower()
        cause = cause.__cause__ or cause.__context__
    return str(exc) or type(exc).__name__


class Client:
    def __init__(self, url: str = DEFAULT_URL, key: str | None = None, timeout: float = 120):
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.url = url.rstrip("/")
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def _reaching(self) -> Iterator[None]:
        """Turn httpx's transport errors into AssayConnectionError."""
        try:
            yield
        except httpx.TransportError as exc:
            raise AssayConnectionError(self.url, _reason(exc)) from exc

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        with self._reaching():
            response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"detail": response.text}
            raise AssayAPIError(response.status_code, problem)
        return response.json() if response.content else None

    @staticmethod
    def _fields(**fields: Any) -> dict[str, Any]:
        return {k: v for k, v in fields.items() if v is not None}

    # --- health and keys ---------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/healthz")

    def create_key(self, role: str, name: str | None = None) -> dict[str, Any]:
        return self._call("POST", "/v1/keys", json=self._fields(role=role, name=name))

    def list_keys(self, **query: Any) -> dict[str, Any]:
        return self._call("GET", "/v1/keys", params=self._fields(**query))

    def revoke_key(self, key_id: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/keys/{key_id}/revoke")

    # --- workers and work --------------------------------------------------------------

    def create_worker(self, name: str, role: str = "annotator", skills: list[str] | None = None):
        """A worker and their key (in the result's `key`, shown only here)."""
        body = self._fields(name=name, role=role, skills=skills)
        return self._call("POST", "/v1/workers", json=body)

    def worker_stats(self, worker_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/workers/{worker_id}/stats")

    def next_assignment(
        self, project: str | None = None, stage: str = "label"
    ) -> dict[str, Any] | None:
        """Lease the next task (worker keys; stage="review" for reviewers: the next result
        to judge); None when there is nothing to do."""
        with self._reaching():
            response = self.http.post(
                "/v1/work/next", params={"stage": stage}, json=self._fields(project=project)
            )
        if response.status_code == 204:
            return None
        if response.status_code >= 400:
            raise AssayAPIError(response.status_code, response.json())
        return response.json()

    def submit(self, assignment_id: str, response: Any, duration_ms: int | None = None):
        body = self._fields(response=response, duration_ms=duration_ms)
        return self._call("POST", f"/v1/assignments/{assignment_id}/submit", json=body)

    def review(
        self,
        assignment_id: str,
        verdict: str,
        response: Any = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """Judge a review assignment: "accept", "fix" (with the corrected `response`) or
        "reject"."""
        body = self._fields(verdict=verdict, response=response, reason=reason)
        return self._call("POST", f"/v1/assignments/{assignment_id}/review", json=body)

    def heartbeat(self, assignment_id: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/assignments/{assignment_id}/heartbeat")

    def skip(self, assignment_id: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/assignments/{assignment_id}/skip")

    # --- projects ------------------------------------------------------------------------

    def create_project(self, name: str, kind: str, params: dict[str, Any], **more: Any):
        body = self._fields(name=name, kind=kind, params=params, **more)
        return self._call("POST", "/v1/projects", json=body)

    def get_project(self, project_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/projects/{project_id}")

    def list_projects(self, **query: Any) -> dict[str, Any]:
        return self._call("GET", "/v1/projects", params=self._fields(**query))

    def update_project(self, project_id: str, **changes: Any) -> dict[str, Any]:
        return self._call("PATCH", f"/v1/projects/{project_id}", json=changes)

    # --- batches -------------------------------------------------------------------------

    def create_batch(self, project: str, name: str, callback_url: str | None = None):
        body = self._fields(project=project, name=name, callback_url=callback_url)
        return self._call("POST", "/v1/batches", json=body)

    def get_batch(self, batch_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/batches/{batch_id}")

    def list_batches(self, **query: Any) -> dict[str, Any]:
        return self._call("GET", "/v1/batches", params=self._fields(**query))

    def finalize_batch(self, batch_id: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/batches/{batch_id}/finalize")

    def batch_status(self, batch_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/batches/{batch_id}/status")

    def batch_accuracy(self, batch_id: str) -> dict[str, Any]:
        """The share of the batch's audited results that were correct, with its interval."""
        return self._call("GET", f"/v1/batches/{batch_id}/accuracy")

    # --- quality -------------------------------------------------------------------------

    def kinds(self) -> list[dict[str, Any]]:
        """The task kinds the server knows, with their schemas and file formats."""
        return self._call("GET", "/v1/kinds")["items"]

    def upload_media(self, data: bytes, content_type: str = "image/png") -> dict[str, Any]:
        """Upload an image; returns its `url` (for a task's `image`), width and height."""
        headers = {"Content-Type": content_type}
        return self._call("POST", "/v1/media", content=data, headers=headers)

    def project_quality(self, project_id: str, method: str | None = None) -> dict[str, Any]:
        """Agreement between workers and each worker's scores."""
        query = self._fields(method=method)
        return self._call("GET", f"/v1/projects/{project_id}/quality", params=query)

    def audit(self, task_id: str, correct: bool, note: str | None = None) -> dict[str, Any]:
        """Record whether a delivered result is right (a new verdict replaces the old)."""
        body = self._fields(correct=correct, note=note)
        return self._call("POST", f"/v1/tasks/{task_id}/audit", json=body)

    # --- tasks ---------------------------------------------------------------------------

    def create_task(self, project: str, params: dict[str, Any], **more: Any) -> dict[str, Any]:
        return self._call(
            "POST", "/v1/tasks", json=self._fields(project=project, params=params, **more)
        )

    def get_task(self, task_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v1/tasks/{task_id}")

    def list_tasks(self, **query: Any) -> dict[str, Any]:
        """One page: {"docs": [...], "next_token": ...}."""
        return self._call("GET", "/v1/tasks", params=self._fields(**query))

    def iter_tasks(self, **query: Any) -> Iterator[dict[str, Any]]:
        """Every task matching the filters, following next_token across pages."""
        while True:
            page = self.list_tasks(**query)
            yield from page["docs"]
            if not page["next_token"]:
                return
            query["next_token"] = page["next_token"]

    def cancel_task(self, task_id: str) -> dict[str, Any]:
        return self._call("POST", f"/v1/tasks/{task_id}/cancel")

    def import_tasks(
        self,
        project: str,
        rows: Iterable[dict[str, Any] | tuple[int, bytes]],
        batch: str | None = None,
        chunk_rows: int = IMPORT_CHUNK_ROWS,
        on_progress: Callable[[int], None] | None = None,
        concurrency: int = 2,
    ) -> dict[str, Any]:
        """Import tasks in chunks (one request and one transaction each).

        `rows` are task dicts, or (line number, encoded JSON object) pairs from a file
        reader; rejected rows are reported with the caller's line numbers. Two chunks are
        in flight by default, so the server parses one while it stores the other; at most
        `concurrency + 1` chunks are held in memory. The report has the server's shape:
        the first problems in full, every problem counted by field and by code.
        """
        total: dict[str, Any] = {"created": 0, "duplicate": 0, "rejected": 0, "errors": []}
        total |= {"error_count": 0, "errors_by_field": Counter(), "errors_by_code": Counter()}

        def send(lines: list[int], payload: bytes) -> tuple[list[int], dict[str, Any]]:
            report = self._call(
                "POST",
                f"/v1/projects/{project}/tasks:import",
                params=self._fields(batch=batch),
                content=payload,
                headers={"Content-Type": "application/x-ndjson"},
            )
            return lines, report

        def merge(future: Future) -> None:
            lines, report = future.result()
            for key in ("created", "duplicate", "rejected", "error_count"):
                total[key] += report[key]
            for error in report["errors"][: KEPT_ERRORS - len(total["errors"])]:
                total["errors"].append(error | {"line": lines[error["line"] - 1]})
            for key in ("errors_by_field", "errors_by_code"):
                for name, n in report[key].items():
                    count(total[key], name, n)
            if on_progress:
                on_progress(len(lines))

        in_flight: deque[Future] = deque()
        with ThreadPoolExecutor(max(1, concurrency)) as pool:
            for lines, payload in _chunks(rows, chunk_rows):
                in_flight.append(pool.submit(send, lines, payload))
                if len(in_flight) > concurrency:
                    merge(in_flight.popleft())
            while in_flight:
                merge(in_flight.popleft())
        total["errors"].sort(key=lambda e: e["line"])
        return total | {k: dict(total[k]) for k in ("errors_by_field", "errors_by_code")}

    def export(
        self,
        project: str,
        out: IO[bytes],
        format: str = "jsonl",
        on_progress: Callable[[int], None] | None = None,
        **query: Any,
    ) -> int:
        """Stream an export into a binary file object; returns the bytes written."""
        written = 0
        params = self._fields(format=format, **query)
        path = f"/v1/projects/{project}/export"
        with self._reaching(), self.http.stream("GET", path, params=params) as response:
            if response.status_code >= 400:
                response.read()
                raise AssayAPIError(response.status_code, response.json())
            for block in response.iter_bytes():
                out.write(block)
                written += len(block)
                if on_progress:
                    on_progress(len(block))
        return written


def _chunks(
    rows: Iterable[dict[str, Any] | tuple[int, bytes]], chunk_rows: int
) -> Iterator[tuple[list[int], bytes]]:
    """Group rows into NDJSON bodies, remembering each row's source line number."""
    lines: list[int] = []
    parts: list[bytes] = []
    size = 0
    for number, row in enumerate(rows, start=1):
        line, encoded = row if isinstance(row, tuple) else (number, orjson.dumps(row))
        lines.append(line)
        parts.append(encoded)
        size += len(encoded) + 1
        if len(parts) >= chunk_rows or size >= IMPORT_CHUNK_BYTES:
            yield lines, b"\n".join(parts)
            lines, parts, size = [], [], 0
    if parts:
        yield lines, b"\n".join(parts)
