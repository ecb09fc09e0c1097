"""The threat model's probes (SECURITY.md), each against a real server on SQLite and on
PostgreSQL. `strict` is a server with the production defaults: outbound requests to
private and loopback destinations are refused."""

import re
import secrets
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing
from pathlib import Path

import httpx
import orjson
import psutil
import pytest
from automation_helpers import serve
from conftest import (  # noqa: F401
    TEST_MAX_BODY,
    TEST_PLUGINS,
    RunningServer,
    assert_problem,
    auth,
    free_port,
    pg_database,
)
from load import ASSAY, ServerProcess
from outbound_helpers import HeldReceiver, Listener
from sqlalchemy import select, update
from test_callbacks import Receiver, complete_one_task, wait_for

from assay.engine import media
from assay.engine.keys import create_key
from assay.engine.media import ImageTooLarge
from assay.ids import utc_now
from assay.settings import Settings
from assay.store.db import Store, database_url
from assay.store.migrate import migrate
from assay.store.tables import callbacks, projects
from assay.web import pages
from assay.webhooks import verify


@pytest.fixture(scope="module")
def strict(backend, tmp_path_factory) -> Iterator[RunningServer]:
    """A server as deployed: private URLs refused, no background automation. Its database
    is its own: the permissive test server's callback dispatcher must not see its rows."""
    with ExitStack() as cleanup:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('strict') / 'assay.db'}"
        else:
            url = cleanup.enter_context(pg_database())
        running = RunningServer(
            Settings(
                database_url=url,
                max_body_bytes=TEST_MAX_BODY,
                automate=False,
                plugins=TEST_PLUGINS,
            )
        )
        running.keys = {
            role: create_key(running.store, role, f"strict {role}")["key"]
            for role in ("admin", "manager", "annotator", "reviewer")
        }
        yield running
        running.stop()


@pytest.fixture
def strict_api(strict) -> Iterator[httpx.Client]:
    """An admin client of the strict server."""
    with httpx.Client(base_url=strict.url, headers=auth(strict.keys["admin"]), timeout=60) as c:
        yield c


def strict_project(client: httpx.Client, **fields) -> dict:
    body = {
        "name": f"p-{secrets.token_hex(3)}",
        "kind": "categorization",
        "params": {"labels": ["cat", "dog"]},
    } | fields
    created = client.post("/v1/projects", json=body)
    assert created.status_code == 201, created.text
    return created.json()


# --- 1. No API request imports or runs code by name -----------------------------------


def test_no_request_imports_or_runs_code_by_name(strict_api):
    """A request names a Python model the operator registered at start, never a module:
    `this` printed the Zen of Python on import, `sys:exit` ended the automation thread."""
    sys.modules.pop("this", None)
    automation = {
        "model": {"type": "python", "name": "cat_or_dog"},
        "target_accuracy": 0.8,
        "calibration_share": 0.5,
    }
    project = strict_project(strict_api, automation=automation)
    probes = [
        ({"type": "python", "function": "this:s"}, "automation.model.function"),
        ({"type": "python", "name": "this:s"}, "automation.model.name"),
        ({"type": "python", "name": "sys:exit"}, "automation.model.name"),
        ({"type": "python", "name": "os.system"}, "automation.model.name"),
    ]
    for model, field in probes:
        settings = automation | {"model": model}
        body = {"name": "p", "kind": "categorization", "params": {"labels": ["cat", "dog"]}}
        created = strict_api.post("/v1/projects", json=body | {"automation": settings})
        assert_problem(created, 422, "invalid", field)
        patched = strict_api.patch(f"/v1/projects/{project['id']}", json={"automation": settings})
        errors = assert_problem(patched, 422, "invalid", field)["errors"]
        if field.endswith("name"):  # the registered names are listed
            assert re.search(r"registered: .*\bcat_or_dog\b", errors[0]["message"])
    assert "this" not in sys.modules
    stored = strict_api.get(f"/v1/projects/{project['id']}").json()["automation"]["model"]
    assert stored == {"type": "python", "name": "cat_or_dog"}
    tasks = "\n".join(f'{{"params": {{"text": "clear meow {i}"}}}}' for i in range(4))
    strict_api.post(f"/v1/projects/{project['id']}/tasks:import", content=tasks.encode())
    ran = strict_api.post(f"/v1/projects/{project['id']}/automation:run")
    assert ran.status_code == 200, ran.text
    assert ran.json()["predicted"] == 4


def test_a_plugin_that_cannot_be_registered_stops_the_start(tmp_path):
    for plugin, reason in [
        ("x=no_such_module_here:f", "cannot import 'no_such_module_here'"),
        ("this:s", "expected NAME=module:function"),
    ]:
        args = ["--data-dir", str(tmp_path), "--port", str(free_port()), "--plugin", plugin]
        started = subprocess.run([ASSAY, "serve", *args], capture_output=True, text=True)
        assert started.returncode == 2
        assert reason in " ".join(started.stderr.split()), started.stderr


# --- 2. Outbound destinations (SSRF) and 3. no upstream body reflected -----------------

REFUSED_HOSTS = [
    "127.0.0.1:5432",
    "localhost",
    "LOCALHOST.",
    "api.localhost",
    "[::1]",
    "2130706433",  # 127.0.0.1 in decimal
    "0x7f.1",  # hex, short form
    "0x7f000001",
    "0177.0.0.1",  # octal
    "127.1",
    "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
    "[::ffff:7f00:1]",
    "169.254.169.254",  # cloud metadata
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # CGNAT
    "[fe80::1]",
    "[fc00::1]",
    "224.0.0.1",
    "0.0.0.0",
    "0",
    "[::]",
    "240.0.0.1",
]
OUTBOUND_LABELS = {"labels": ["a", "b"]}


def _http_model(url: str, **options) -> dict:
    return {"model": {"type": "http", "url": url, **options}, "target_accuracy": 0.9}


def test_ssrf_callback_urls_are_refused_in_every_notation(strict_api):
    project = strict_project(strict_api)
    batch = strict_api.post("/v1/batches", json={"project": project["id"], "name": "b"}).json()
    for host in REFUSED_HOSTS:
        url = f"http://{host}/hook"
        attempts = {
            "create project": strict_api.post(
                "/v1/projects",
                json={"name": "x", "kind": "categorization", "params": OUTBOUND_LABELS}
                | {"callback_url": url},
            ),
            "update project": strict_api.patch(
                f"/v1/projects/{project['id']}", json={"callback_url": url}
            ),
            "create batch": strict_api.post(
                "/v1/batches", json={"project": project["id"], "name": host, "callback_url": url}
            ),
            "create task": strict_api.post(
                "/v1/tasks",
                json={"project": project["id"], "params": {}, "callback_url": url},
            ),
        }
        for what, response in attempts.items():
            problem = assert_problem(response, 422, "destination_not_allowed", "callback_url")
            assert "allow-private-urls" in problem["detail"], (what, problem)
        body = orjson.dumps({"params": {}, "callback_url": url})
        report = strict_api.post(
            f"/v1/projects/{project['id']}/tasks:import",
            params={"batch": batch["id"]},
            content=body,
        ).json()
        assert report["created"] == 0 and report["rejected"] == 1, (host, report)
        assert report["errors"][0]["field"] == "callback_url"
        assert report["errors"][0]["code"] == "destination_not_allowed"
    assert strict_api.get(f"/v1/projects/{project['id']}").json()["callback_url"] is None
    tasks = strict_api.get("/v1/tasks", params={"project": project["id"]}).json()["docs"]
    assert tasks == []
    public = strict_api.patch(
        f"/v1/projects/{project['id']}", json={"callback_url": "https://example.com/hook"}
    )
    assert public.status_code == 200, public.text


def test_ssrf_model_endpoints_are_refused_in_every_notation(strict_api):
    project = strict_project(strict_api)
    for host in REFUSED_HOSTS:
        url = f"http://{host}/predict"
        patched = strict_api.patch(
            f"/v1/projects/{project['id']}", json={"automation": _http_model(url)}
        )
        assert_problem(patched, 422, "destination_not_allowed", "automation.model.url")
        openai = {
            "type": "openai",
            "base_url": f"http://{host}/v1",
            "model": "m",
            "prompt_template": "{text}",
        }
        created = strict_api.post(
            "/v1/projects",
            json={
                "name": "o",
                "kind": "categorization",
                "params": OUTBOUND_LABELS,
                "automation": {"model": openai, "target_accuracy": 0.9},
            },
        )
        assert_problem(created, 422, "destination_not_allowed", "automation.model.base_url")
    unreadable = strict_api.patch(
        f"/v1/projects/{project['id']}", json={"automation": _http_model("http://[::1/predict")}
    )
    assert_problem(unreadable, 422, "destination_not_allowed", "automation.model.url")
    assert strict_api.get(f"/v1/projects/{project['id']}").json()["automation"] is None


def _smuggle(store, project_id: str, **columns) -> None:
    """Write settings straight to the database, past the API's checks (a row written
    before an upgrade, or by hand)."""
    with store.write() as conn:
        conn.execute(update(projects).where(projects.c.id == project_id).values(**columns))


def test_the_dispatcher_never_connects_to_a_refused_address(strict, strict_api):
    project = strict_project(strict_api, params=OUTBOUND_LABELS)
    with Listener() as listener:
        port = listener.port
        for url in (
            f"http://127.0.0.1:{port}/hook",
            f"http://localhost:{port}/hook",  # a name resolving to loopback
            f"http://[::ffff:127.0.0.1]:{port}/hook",
            f"http://2130706433:{port}/hook",
        ):
            _smuggle(strict.store, project["id"], callback_url=url)
            complete_one_task(strict_api, strict, project)

        def tried() -> list:
            with strict.store.read() as conn:
                return conn.execute(
                    select(callbacks.c.attempts, callbacks.c.last_error).where(
                        callbacks.c.project_id == project["id"]
                    )
                ).all()

        assert wait_for(lambda: len(tried()) == 4 and all(r.attempts >= 1 for r in tried()))
    assert listener.connections == 0
    assert all(r.last_error for r in tried())


def test_a_model_endpoint_is_checked_on_the_address_connected_to(strict, strict_api):
    project = strict_project(strict_api, automation=_http_model("https://example.com/predict"))
    strict_api.post("/v1/tasks", json={"project": project["id"], "params": {"text": "x"}})
    with strict.store.read() as conn:
        stored = conn.execute(
            select(projects.c.automation).where(projects.c.id == project["id"])
        ).scalar_one()
    with Listener() as listener:
        for host in ("localhost", "127.0.0.1", "[::ffff:127.0.0.1]"):
            settings = orjson.loads(stored)
            settings["model"]["url"] = f"http://{host}:{listener.port}/predict"
            _smuggle(strict.store, project["id"], automation=orjson.dumps(settings).decode())
            ran = strict_api.post(f"/v1/projects/{project['id']}/automation:run")
            problem = assert_problem(ran, 502, "model_unavailable")
            assert "upstream_status" not in problem
    assert listener.connections == 0


def test_a_failing_model_shows_no_upstream_body_and_no_reason(api):
    def secret(path, headers, body):
        return 500, "db_password=hunter2 at 10.0.0.7"

    def slow(path, headers, body):
        time.sleep(2)
        return 200, {}

    def answer(url: str, timeout: float = 60) -> dict:
        project = strict_project(
            api, params=OUTBOUND_LABELS, automation=_http_model(url, timeout=timeout)
        )
        api.post("/v1/tasks", json={"project": project["id"], "params": {"text": "x"}})
        ran = api.post(f"/v1/projects/{project['id']}/automation:run")
        assert "db_password" not in ran.text and "10.0.0.7" not in ran.text
        return assert_problem(ran, 502, "model_unavailable")

    with serve(secret) as (url, received):
        failed = answer(url)
    assert received and failed["upstream_status"] == 500
    with serve(slow) as (url, _):
        timed_out = answer(url, timeout=0.3)
    closed = answer(f"http://127.0.0.1:{free_port()}/")
    # A closed port and one that never answers read alike: no port scanning through it.
    assert timed_out.keys() == closed.keys() and timed_out["detail"] == closed["detail"]
    assert "upstream_status" not in closed
    for problem in (timed_out, closed):
        assert not re.search(r"refused|timeout|timed out|connect", problem["detail"], re.I)


# --- 4. Bounded import reports, 5. write-only credentials, 8. image bombs ---------------


def hostile_rows(n: int) -> bytes:
    """`n` bad NDJSON lines of three sorts, one with a field name of its own per line."""
    sorts = (b'{"params":1,"x%d":1}', b"{not json %d", b'{"params":{},"priority":"p%d"}')
    return b"\n".join(sorts[i % 3] % i for i in range(n))


def test_a_hostile_import_keeps_memory_flat_and_the_server_answering(database):
    args, store = database
    key = create_key(store, "admin", "hostile import")["key"]
    rows = 2_000_000
    body = hostile_rows(rows)  # 52 MB: over the default limit, so the test raises it
    served = ServerProcess([*args, "--max-body-bytes", str(len(body) + 1)]).start()
    try:
        response, health, growth = _import_while_probing(served, key, body)
    finally:
        served.stop()
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["rejected"] == rows and report["created"] == 0
    assert len(report["errors"]) == 100 and [e["line"] for e in report["errors"]][:3] == [1, 1, 2]
    assert report["error_count"] == rows + (rows + 2) // 3  # the first sort has two problems
    assert sum(report["errors_by_field"].values()) == report["error_count"]
    assert sum(report["errors_by_code"].values()) == report["error_count"]
    assert len(report["errors_by_field"]) <= 101 and "(other)" in report["errors_by_field"]
    assert len(response.content) < 50_000
    print(f"server RSS growth over {rows} bad lines: {growth / 2**20:.0f} MiB")
    assert growth < 200 * 2**20
    assert len(health) >= 2 and set(health) == {200}  # answered all along


def _import_while_probing(served, key: str, body: bytes) -> tuple[httpx.Response, list, int]:
    """(the import's response, /healthz statuses while it ran, the server's RSS growth)."""
    with httpx.Client(base_url=served.url, headers=auth(key), timeout=600) as client:
        path = f"/v1/projects/{strict_project(client)['id']}/tasks:import"
        assert client.post(path, content=hostile_rows(300)).json()["rejected"] == 300  # warm
        server = psutil.Process(served.proc.pid)
        base = peak = server.memory_info().rss
        done = threading.Event()
        answered = {}

        def hostile_import() -> None:
            answered["import"] = client.post(path, content=body)
            done.set()

        threading.Thread(target=hostile_import).start()
        health = []
        with httpx.Client(base_url=served.url, timeout=60) as probe:
            while not done.is_set():
                peak = max(peak, server.memory_info().rss)
                health.append(probe.get("/healthz").status_code)
                done.wait(0.05)
        peak = max(peak, server.memory_info().rss)
    return answered["import"], health, peak - base


def png_header(width: int, height: int) -> bytes:
    """A valid PNG of a few dozen bytes whose header claims `width` x `height` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def test_image_bomb_is_refused_before_decoding(strict_api):
    bomb = png_header(20_000, 20_000)  # 400 megapixels in 65 bytes
    refused = strict_api.post("/v1/media", content=bomb, headers={"Content-Type": "image/png"})
    body = assert_problem(refused, 422, "image_too_large", "body")
    assert "pixels; this server takes at most" in body["detail"]
    fine = strict_api.post("/v1/media", content=png_header(640, 480))
    assert fine.status_code == 201, fine.text
    assert (fine.json()["width"], fine.json()["height"]) == (640, 480)


def test_image_pixel_limit_is_the_configured_one(strict):
    with pytest.raises(ImageTooLarge, match="101x100 pixels"):
        media.upload(strict.store, png_header(101, 100), max_pixels=100 * 100)
    assert media.upload(strict.store, png_header(100, 100), max_pixels=100 * 100)["width"] == 100


# The endpoints are loopback ports nothing listens on: no request is ever made to them
# (the server runs no automation cycle by itself), so the lenient test server takes them.
API_KEY = "sk-live-" + "a1b2c3d4e5f6g7h8" + "-xyz123"
TOKEN = "Bearer tok-" + "9f8e7d6c5b4a" + "987"
SECRET_MIDDLES = ("a1b2c3d4e5f6g7h8", "9f8e7d6c5b4a")


def openai_model(**fields) -> dict:
    model = {
        "type": "openai",
        "base_url": "http://127.0.0.1:9/v1",
        "model": "gpt-test",
        "prompt_template": "Label: {text}",
        "api_key": API_KEY,
    }
    return model | fields


def stored_model(store, project_id: str) -> dict:
    with store.read() as conn:
        automation = conn.execute(
            select(projects.c.automation).where(projects.c.id == project_id)
        ).scalar_one()
    return orjson.loads(automation)["model"]


def every_project_view(client: httpx.Client, project_id: str) -> list[httpx.Response]:
    """Every response that shows the project's settings: the project, every page of the
    list, the automation report."""
    views = [
        client.get(f"/v1/projects/{project_id}"),
        client.get(f"/v1/projects/{project_id}/automation"),
    ]
    query: dict = {"limit": 50}
    while True:
        listed = client.get("/v1/projects", params=query)
        views.append(listed)
        if not listed.json()["next_token"]:
            return views
        query["next_token"] = listed.json()["next_token"]


def assert_no_secret(responses: list[httpx.Response]) -> None:
    for response in responses:
        assert response.status_code < 400, response.text
        assert not any(middle in response.text for middle in SECRET_MIDDLES), response.text


def test_model_api_key_is_write_only(api, server):
    automation = {"target_accuracy": 0.9, "model": openai_model()}
    created = api.post(
        "/v1/projects",
        json={"name": "keyed", "kind": "categorization", "params": {"labels": ["a", "b"]}}
        | {"automation": automation},
    )
    assert created.status_code == 201, created.text
    project_id = created.json()["id"]
    assert created.json()["automation"]["model"]["api_key"] == "sk-…123"
    assert_no_secret([created, *every_project_view(api, project_id)])
    path = f"/v1/projects/{project_id}"

    shown = api.get(path).json()["automation"]
    sent_back = api.patch(path, json={"automation": shown | {"target_accuracy": 0.8}})
    assert_no_secret([sent_back])
    assert stored_model(server.store, project_id)["api_key"] == API_KEY
    left_out = {k: v for k, v in shown["model"].items() if k != "api_key"}
    assert_no_secret([api.patch(path, json={"automation": shown | {"model": left_out}})])
    assert stored_model(server.store, project_id)["api_key"] == API_KEY

    new_key = openai_model(api_key="sk-new-0000000000-456")
    replaced = api.patch(path, json={"automation": shown | {"model": new_key}})
    assert replaced.json()["automation"]["model"]["api_key"] == "sk-…456"
    assert stored_model(server.store, project_id)["api_key"] == "sk-new-0000000000-456"

    # The stored key never follows the model to another endpoint.
    elsewhere = shown["model"] | {"base_url": "http://127.0.0.2:9/v1", "api_key": "sk-…456"}
    refused = api.patch(path, json={"automation": shown | {"model": elsewhere}})
    assert_problem(refused, 422, "invalid", "automation.model.api_key")
    assert stored_model(server.store, project_id)["base_url"] == "http://127.0.0.1:9/v1"
    del elsewhere["api_key"]
    moved = api.patch(path, json={"automation": shown | {"model": elsewhere}})
    assert moved.status_code == 200, moved.text
    assert "api_key" not in stored_model(server.store, project_id)


def test_model_headers_are_write_only(api, server):
    model = {
        "type": "http",
        "url": "http://127.0.0.1:9/predict",
        "headers": {"Authorization": TOKEN, "X-Team": "short"},
    }
    created = api.post(
        "/v1/projects",
        json={"name": "headed", "kind": "categorization", "params": {"labels": ["a", "b"]}}
        | {"automation": {"target_accuracy": 0.9, "model": model}},
    )
    assert created.status_code == 201, created.text
    project_id = created.json()["id"]
    shown = created.json()["automation"]
    assert shown["model"]["headers"] == {"Authorization": "Bea…987", "X-Team": "…"}
    assert_no_secret([created, *every_project_view(api, project_id)])

    headers = shown["model"]["headers"] | {"X-Team": "longer-team-name"}
    patched = api.patch(
        f"/v1/projects/{project_id}",
        json={"automation": shown | {"model": shown["model"] | {"headers": headers}}},
    )
    assert patched.json()["automation"]["model"]["headers"]["X-Team"] == "lon…ame"
    assert stored_model(server.store, project_id)["headers"] == {
        "Authorization": TOKEN,
        "X-Team": "longer-team-name",
    }
    left_out = {k: v for k, v in shown["model"].items() if k != "headers"}
    api.patch(f"/v1/projects/{project_id}", json={"automation": shown | {"model": left_out}})
    assert stored_model(server.store, project_id)["headers"]["Authorization"] == TOKEN


def test_callback_secret_rotates_once_and_signs_what_follows(api, as_role, server):
    for role in ("annotator", "reviewer"):
        unknown = f"/v1/projects/{secrets.token_hex(4)}/callback_secret:rotate"
        assert_problem(as_role(role).post(unknown), 403)
    assert_problem(api.post("/v1/projects/nope/callback_secret:rotate"), 404, "project_not_found")
    with Receiver() as receiver:
        created = api.post(
            "/v1/projects",
            json={"name": "signed", "kind": "categorization", "params": {"labels": ["a", "b"]}}
            | {"callback_url": receiver.url},
        ).json()
        rotate = f"/v1/projects/{created['id']}/callback_secret:rotate"
        for role in ("annotator", "reviewer"):
            assert_problem(as_role(role).post(rotate), 403)
        first = as_role("manager").post(rotate)
        assert first.status_code == 200, first.text
        second = api.post(rotate).json()
        assert second["project"] == created["id"]
        shown = [created, first.json(), second]
        assert len({s["callback_secret"] for s in shown}) == 3
        assert "callback_secret" not in api.get(f"/v1/projects/{created['id']}").json()

        complete_one_task(api, server, created)
        assert wait_for(lambda: len(receiver.received) == 1)
        delivery = receiver.received[0]
        assert verify(delivery["body"], delivery["signature"], second["callback_secret"])
        assert not verify(delivery["body"], delivery["signature"], created["callback_secret"])


# --- 6. Gold windows, 7. lease cap, 9. throttling, 11. logout, 12. headers --------------


def strict_worker(client: httpx.Client) -> httpx.Client:
    created = client.post("/v1/workers", json={"name": f"w-{secrets.token_hex(3)}"}).json()
    return httpx.Client(base_url=str(client.base_url), headers=auth(created["key"]), timeout=60)


def test_gold_figures_move_only_once_a_window(strict_api):
    """Comparing /v1/me/stats before and after each submit finds no gold task: the
    worker's own gold figures change only when a window of 20 answers is complete, and
    no response of the work loop differs between gold and other tasks."""
    project = strict_project(strict_api, gold_rate=0.5)
    gold = set()
    for i in range(30):
        body = {"project": project["id"], "params": {"text": f"g{i}"}, "gold": {"label": "cat"}}
        gold.add(strict_api.post("/v1/tasks", json=body).json()["id"])
        strict_api.post("/v1/tasks", json={"project": project["id"], "params": {"text": f"r{i}"}})
    day = utc_now()[:10]
    shapes: dict[bool, set] = {True: set(), False: set()}
    seen_gold = {True: 0, False: 0}
    with strict_worker(strict_api) as worker:
        before = worker.get("/v1/me/stats").json()
        for answered in range(1, 46):
            offered = worker.post("/v1/work/next", json={"project": project["id"]})
            is_gold = offered.json()["task"]["id"] in gold
            label = "cat" if answered % 3 else "dog"  # some gold answers right, some wrong
            url = f"/v1/assignments/{offered.json()['id']}"
            beat = worker.post(f"{url}/heartbeat")
            submitted = worker.post(f"{url}/submit", json={"response": {"label": label}})
            assert submitted.status_code == 200
            assert "server-timing" not in submitted.headers  # how long a submit took
            for response in (offered, beat, submitted):
                shapes[is_gold].add((response.request.url.path.split("/")[-1], shape(response)))
            seen_gold[is_gold] += 1
            after = worker.get("/v1/me/stats").json()
            assert after["answers"] == answered
            if answered % 20:
                assert after["gold"] == before["gold"], answered
            before = after
        mine = worker.get("/v1/me/stats").json()["gold"]
        worker_id = worker.get("/v1/me").json()["worker"]["id"]
    if utc_now()[:10] != day:
        pytest.skip("the day (UTC) changed during the test: its answers count at once")
    assert seen_gold[True] > 5 and seen_gold[False] > 5
    assert shapes[True] == shapes[False]
    assert mine["counted_answers"] == 40
    full = strict_api.get(f"/v1/workers/{worker_id}/stats").json()["gold"]
    assert full["counted_answers"] == 45 and full["answered"] >= mine["answered"]


def shape(response: httpx.Response) -> tuple:
    """What a response shows apart from its values: status, header names, JSON keys."""

    def keys(value):
        if isinstance(value, dict):
            return tuple(sorted((k, keys(v)) for k, v in value.items() if k != "hypothesis"))
        return type(value).__name__

    headers = tuple(sorted(h for h in response.headers if h not in ("content-length",)))
    return response.status_code, headers, keys(response.json())


def test_two_hundred_next_calls_hold_two_tasks(strict_api):
    """A worker past the project's max_leases_per_worker gets their open leases again."""
    project = strict_project(strict_api, gold_rate=0)
    assert project["max_leases_per_worker"] == 2
    for i in range(20):
        strict_api.post("/v1/tasks", json={"project": project["id"], "params": {"n": i}})
    only = {"project": project["id"]}
    with strict_worker(strict_api) as worker:
        offered = [worker.post("/v1/work/next", json=only) for _ in range(200)]
        assert {r.status_code for r in offered} == {200}
        held = {r.json()["id"] for r in offered}
        assert len(held) == 2
        assert {a["id"] for a in worker.get("/v1/work/current").json()["items"]} == held
        answered = offered[0].json()["id"]
        worker.post(f"/v1/assignments/{answered}/submit", json={"response": {"label": "cat"}})
        again = worker.post("/v1/work/next", json={"project": project["id"]}).json()
        assert again["id"] not in held  # a slot opened: a new task
        strict_api.patch(f"/v1/projects/{project['id']}", json={"max_leases_per_worker": 5})
        more = {worker.post("/v1/work/next", json=only).json()["id"] for _ in range(50)}
        assert len(worker.get("/v1/work/current").json()["items"]) == 5
        assert len(more - held - {again["id"]}) == 3  # then the oldest lease again
    refused = strict_api.patch(f"/v1/projects/{project['id']}", json={"max_leases_per_worker": 0})
    assert_problem(refused, 422, field="max_leases_per_worker")


def test_concurrent_next_calls_hold_two_tasks(strict_api):
    """The cap holds when one worker's calls race each other."""
    project = strict_project(strict_api, gold_rate=0)
    for i in range(50):
        strict_api.post("/v1/tasks", json={"project": project["id"], "params": {"n": i}})
    only = {"project": project["id"]}
    with strict_worker(strict_api) as worker:
        with ThreadPoolExecutor(8) as pool:
            statuses = list(
                pool.map(lambda _: worker.post("/v1/work/next", json=only).status_code, range(64))
            )
        assert set(statuses) == {200}
        assert len(worker.get("/v1/work/current").json()["items"]) == 2


@pytest.fixture(scope="module")
def throttled(backend, tmp_path_factory, request) -> Iterator[RunningServer]:
    """A server that allows 20 failed authentications a minute per address."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('throttled') / 'assay.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    settings = Settings(database_url=url, automate=False, auth_failures="20/minute")
    running = RunningServer(settings)
    running.key = create_key(running.store, "annotator", "throttled annotator")["key"]
    yield running
    running.stop()


def test_bad_keys_are_throttled_per_address(throttled):
    with httpx.Client(base_url=throttled.url, timeout=60) as client:
        answers = [
            client.get("/v1/me", headers=auth(f"assay_{secrets.token_urlsafe(32)}"))
            for _ in range(2000)
        ]
        assert [r.status_code for r in answers[:20]] == [401] * 20
        assert {r.status_code for r in answers[20:]} == {429}
        refusal = assert_problem(answers[-1], 429, code="too_many_failures")
        assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
        assert refusal["retry_after"] == int(answers[-1].headers["Retry-After"])
        # A valid key from the same address is served as ever.
        assert client.get("/v1/me", headers=auth(throttled.key)).status_code == 200
        # Signing in with a bad key counts too, and says when to try again.
        form = client.get("/login")
        signed = client.post(
            "/login", data={"key": "assay_nope", "csrf": form.cookies["assay_login_csrf"]}
        )
        assert signed.status_code == 429 and int(signed.headers["Retry-After"]) >= 1
        assert "Too many failed sign-ins" in signed.text


def signed_in(url: str, key: str) -> tuple[httpx.Client, str]:
    """A browser-like client signed in with `key`, and its pages' CSRF token."""
    client = httpx.Client(base_url=url, timeout=60)
    form = client.get("/login")
    token = form.cookies["assay_login_csrf"]
    client.post("/login", data={"key": key, "csrf": token})
    page = client.get("/me")
    assert page.status_code == 200
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    return client, csrf


def test_logout_without_its_token_is_refused_and_keeps_the_session(strict):
    client, csrf = signed_in(strict.url, strict.keys["annotator"])
    with closing(client):
        refused = client.post("/logout", data={})
        assert refused.status_code == 403 and "Still signed in" in refused.text
        assert "assay_session" not in refused.headers.get("set-cookie", "")
        assert client.get("/v1/me").status_code == 200  # the cookie still works
        forged = client.post("/logout", data={"csrf": "not-the-token"})
        assert forged.status_code == 403 and client.get("/v1/me").status_code == 200
        cookie = client.cookies["assay_session"]
        out = client.post("/logout", data={"csrf": csrf})
        assert out.status_code == 303 and out.headers["location"] == "/login"
        stale = {"assay_session": cookie}
        ended = httpx.get(f"{strict.url}/v1/me", cookies=stale)
        assert_problem(ended, 401, code="session_ended")  # ended on the server too


def test_security_headers_on_every_response(strict):
    with httpx.Client(base_url=strict.url, timeout=60) as client:
        responses = {
            "api": client.get("/v1/me", headers=auth(strict.keys["admin"])),
            "problem": client.get("/v1/me"),
            "not found": client.get("/nowhere"),
            "invalid": client.post("/v1/projects", json={}, headers=auth(strict.keys["admin"])),
            "too large": client.post(
                "/v1/projects",
                content=b"x" * (TEST_MAX_BODY + 1),
                headers=auth(strict.keys["admin"]),
            ),
            "page": client.get("/login"),
            "redirect": client.get("/work"),
            "static": client.get("/static/js/api.js"),
            "health": client.get("/healthz"),
            "schema": client.get("/openapi.json"),
        }
        docs = client.get("/docs")
    for name, response in responses.items():
        policy = response.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in policy, name
        assert "script-src 'self';" in policy and "unsafe-inline" not in policy, name
        assert response.headers.get("x-content-type-options") == "nosniff", name
        assert response.headers.get("referrer-policy") == "same-origin", name
    assert responses["too large"].status_code == 413
    # Swagger UI starts with an inline script of its own: only the docs pages allow it.
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]
    assert docs.headers["x-content-type-options"] == "nosniff"


def test_pages_have_no_inline_script():
    """The pages' policy forbids inline script, handlers and style attributes: none is
    written in a template (the browser tests see any the scripts make)."""
    templates = Path(pages.__file__).parent / "templates"
    for template in templates.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template.name
        assert not re.search(r"\son[a-z]+\s*=", text), template.name
        assert not re.search(r"\sstyle\s*=", text), template.name


# --- 10. Slow receivers delay only themselves -------------------------------------------


def _answer_all(server, worker_key: str, project_id: str) -> None:
    with httpx.Client(base_url=server.url, headers=auth(worker_key), timeout=60) as worker:
        while (offered := worker.post("/v1/work/next", json={"project": project_id})).content:
            answer = {"response": {"label": "a"}}
            done = worker.post(f"/v1/assignments/{offered.json()['id']}/submit", json=answer)
            assert done.status_code == 200, done.text


def test_a_slow_receiver_delays_only_its_own_callbacks(api, server):
    def hook_project(url: str) -> dict:
        return strict_project(api, params=OUTBOUND_LABELS, callback_url=url)

    def slow_callbacks() -> list:
        with server.store.read() as conn:
            return conn.execute(
                select(callbacks.c.status, callbacks.c.attempts).where(
                    callbacks.c.project_id == slow_project["id"]
                )
            ).all()

    with HeldReceiver() as slow, Receiver() as fast:
        slow_project, fast_project = hook_project(slow.url), hook_project(fast.url)
        body = b"\n".join(b'{"params": {"n": %d}}' % i for i in range(12))
        api.post(f"/v1/projects/{slow_project['id']}/tasks:import", content=body)
        worker = api.post("/v1/workers", json={"name": "isolation"}).json()
        _answer_all(server, worker["key"], slow_project["id"])
        assert wait_for(lambda: slow.holding >= 1)  # the slow receiver hangs on to them
        complete_one_task(api, server, fast_project)
        assert wait_for(lambda: len(fast.received) == 1)
        # ... and while it still holds its own, unanswered, some not even tried yet (a
        # dispatcher that waits for a whole round records all 12 as timed out first), the
        # other project's callback has gone through.
        assert slow.answered == 0
        assert any(r.attempts == 0 for r in slow_callbacks())
        slow.release()
        assert wait_for(lambda: all(r.status == "delivered" for r in slow_callbacks()))


# --- 13. Automation once per deployment ---------------------------------------------------

COUNTED_MODEL = """
import os


def predict(items):
    \"\"\"Answers "cat" to everything, noting each call: process id and item count.\"\"\"
    with open(os.environ["ASSAY_TEST_MODEL_CALLS"], "a") as calls:
        calls.write(f"{os.getpid()} {len(items)}\\n")
    return [{"response": {"label": "cat"}, "confidence": 0.6} for _ in items]
"""
AUTOMATION_ROUND_S = 5  # Automator's default interval


@pytest.fixture
def own_database(backend, tmp_path) -> Iterator[tuple[list[str], Store]]:
    """`assay serve` arguments and a store for a database of the test's own: the servers
    it starts run background jobs, which must see its projects only."""
    with ExitStack() as cleanup:
        if backend == "sqlite":
            url, args = database_url(tmp_path), ["--data-dir", str(tmp_path)]
        else:
            url = cleanup.enter_context(pg_database())
            args = ["--database-url", url]
        store = Store(url)
        cleanup.callback(store.close)
        migrate(store)
        yield args, store


def test_automation_runs_once_across_server_processes(own_database, tmp_path, monkeypatch):
    """Two `assay serve` processes on one database: a project's cycle runs in one of them
    only; when that one is killed, the other takes the job over."""
    args, store = own_database
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "counted_model.py").write_text(COUNTED_MODEL)
    calls = tmp_path / "calls.log"
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "plugins"))
    monkeypatch.setenv("ASSAY_TEST_MODEL_CALLS", str(calls))

    def made_calls() -> list[list[str]]:
        return [line.split() for line in calls.read_text().splitlines()] if calls.exists() else []

    servers = [ServerProcess([*args, "--plugin", "counted=counted_model:predict"]) for _ in "ab"]
    key = create_key(store, "admin", "once")["key"]
    client = httpx.Client(base_url=servers[0].url, headers=auth(key), timeout=60)
    try:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(ServerProcess.start, servers))
        automation = {"model": {"type": "python", "name": "counted"}, "target_accuracy": 0.8}
        project = strict_project(client, automation=automation)
        tasks = "\n".join(f'{{"params": {{"text": "item {i}"}}}}' for i in range(10))
        client.post(f"/v1/projects/{project['id']}/tasks:import", content=tasks.encode())
        assert wait_for(made_calls, timeout=60)
        time.sleep(2 * AUTOMATION_ROUND_S)  # rounds of both processes pass, nothing new
        assert len(made_calls()) == 1, made_calls()  # one process asked the model, once
        leader_pid, items = made_calls()[0]
        assert items == "10"
        leader = next(s for s in servers if str(s.proc.pid) == leader_pid)
        other = next(s for s in servers if s is not leader)
        leader.kill()  # kill -9: its lease ends with it (on SQLite, once it expires)
        with httpx.Client(base_url=other.url, headers=auth(key), timeout=60) as survivor:
            late = {"project": project["id"], "params": {"text": "late"}}
            assert survivor.post("/v1/tasks", json=late).status_code == 201

        def asked_after() -> dict[str, int]:  # process -> items asked about since the kill
            asked: dict[str, int] = {}
            for pid, items in made_calls()[1:]:
                asked[pid] = asked.get(pid, 0) + int(items)
            return asked

        # the survivor knows nothing of the project yet: it asks about every task, the
        # late one included (in one call, or two if it began before that one arrived)
        assert wait_for(lambda: sum(asked_after().values()) >= 11, timeout=90)
        assert asked_after() == {str(other.proc.pid): 11}
    finally:
        client.close()
        for server in servers:
            server.stop()
