"""Signed callbacks through a real local receiver: retries, outages, de-duplication."""

import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson
import pytest
from conftest import auth, free_port

from assay.webhooks import sign, verify


class Backlogged(ThreadingHTTPServer):
    """A receiver that queues bursts of connections (the default backlog is 5)."""

    request_queue_size = 128


class Receiver:
    """A local HTTP endpoint that answers 503 to its first `fail_first` requests."""

    def __init__(self, fail_first: int = 0, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.fail_first = fail_first
        self.received: list[dict] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer.lock:
                    outer.received.append(
                        {
                            "body": body,
                            "signature": self.headers.get("Assay-Signature"),
                            "delivery": self.headers.get("Assay-Delivery"),
                        }
                    )
                    failing = len(outer.received) <= outer.fail_first
                self.send_response(503 if failing else 204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = Backlogged(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.httpd.shutdown()
        self.httpd.server_close()


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_signatures_verify_and_tampering_fails():
    body, secret = b'{"task_id": "t1"}', "s3cret"
    header = sign(body, secret)
    assert verify(body, header, secret)
    assert verify(body.decode(), header, secret)
    assert not verify(body + b" ", header, secret)
    assert not verify(body, header, "other")
    assert not verify(body, sign(body, secret, timestamp=int(time.time()) - 301), secret)
    assert verify(
        body, sign(body, secret, timestamp=int(time.time()) - 301), secret, tolerance_s=600
    )
    assert not verify(body, "garbage", secret) and not verify(body, "", secret)


def complete_one_task(api, server, project, **task_fields) -> str:
    task = api.post(
        "/v1/tasks", json={"project": project["id"], "params": {"x": 1}} | task_fields
    ).json()
    worker = api.post("/v1/workers", json={"name": f"w{secrets.token_hex(2)}"}).json()
    import httpx

    with httpx.Client(base_url=server.url, headers=auth(worker["key"])) as c:
        assignment = c.post("/v1/work/next", json={"project": project["id"]}).json()
        assert (
            c.post(
                f"/v1/assignments/{assignment['id']}/submit", json={"response": {"label": "a"}}
            ).status_code
            == 200
        )
    return task["id"]


@pytest.fixture
def hook_project(api):
    def make(url):
        body = {
            "name": "cb",
            "kind": "categorization",
            "params": {"labels": ["a", "b"]},
            "callback_url": url,
        }
        return api.post("/v1/projects", json=body).json()

    return make


def test_failed_deliveries_are_retried_and_signed(api, server, hook_project):
    with Receiver(fail_first=2) as receiver:
        project = hook_project(receiver.url)
        task_id = complete_one_task(api, server, project)
        assert wait_for(lambda: api.get(f"/v1/tasks/{task_id}").json()["callback_succeeded_at"])
    attempts = receiver.received
    assert len(attempts) == 3
    assert len({a["delivery"] for a in attempts}) == 1  # retries share the delivery id
    for attempt in attempts:
        assert verify(attempt["body"], attempt["signature"], project["callback_secret"])
    body = orjson.loads(attempts[-1]["body"])
    assert body["task_id"] == task_id and body["status"] == "completed"
    assert body["response"]["label"] == "a" and body["task"]["id"] == task_id


def test_a_receiver_that_was_down_gets_the_callback_later(api, server, hook_project):
    port = free_port()
    project = hook_project(f"http://127.0.0.1:{port}/hook")
    task_id = complete_one_task(api, server, project)
    time.sleep(1.5)  # the receiver is down: deliveries fail and are rescheduled
    assert api.get(f"/v1/tasks/{task_id}").json()["callback_succeeded_at"] is None
    with Receiver(port=port) as receiver:
        assert wait_for(lambda: api.get(f"/v1/tasks/{task_id}").json()["callback_succeeded_at"])
    assert orjson.loads(receiver.received[-1]["body"])["task_id"] == task_id


def test_task_and_batch_urls_win_and_batches_report_counts(api, server, hook_project):
    with Receiver() as project_hook, Receiver() as batch_hook, Receiver() as task_hook:
        project = hook_project(project_hook.url)
        batch = api.post(
            "/v1/batches",
            json={"project": project["id"], "name": "b", "callback_url": batch_hook.url},
        ).json()
        first = api.post(
            "/v1/tasks",
            json={
                "project": project["id"],
                "batch": batch["id"],
                "params": {},
                "callback_url": task_hook.url,
            },
        ).json()
        second = api.post(
            "/v1/tasks", json={"project": project["id"], "batch": batch["id"], "params": {}}
        ).json()
        api.post(f"/v1/batches/{batch['id']}/finalize")
        worker = api.post("/v1/workers", json={"name": "cbw"}).json()
        import httpx

        with httpx.Client(base_url=server.url, headers=auth(worker["key"])) as c:
            for _ in range(2):
                a = c.post("/v1/work/next", json={"project": project["id"]}).json()
                c.post(f"/v1/assignments/{a['id']}/submit", json={"response": {"label": "b"}})
        assert wait_for(lambda: len(batch_hook.received) >= 2 and len(task_hook.received) >= 1)
    assert [orjson.loads(r["body"])["task_id"] for r in task_hook.received] == [first["id"]]
    bodies = [orjson.loads(r["body"]) for r in batch_hook.received]
    assert {b.get("task_id") for b in bodies if "task_id" in b} == {second["id"]}
    [done] = [b for b in bodies if "batch_id" in b]
    assert done == {"batch_id": batch["id"], "status": "completed", "counts": {"completed": 2}}
    assert project_hook.received == []
