"""Real servers on real databases: every API test runs on SQLite and on PostgreSQL.

PostgreSQL is expected at 127.0.0.1:5432 (user postgres, database `test`, trust auth);
each test run gets a fresh database of its own. If it is not reachable the run fails.
"""

import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
import uvicorn

from assay.api.app import create_app
from assay.engine.keys import create_key
from assay.settings import Settings
from assay.store.db import Store
from assay.store.migrate import migrate

PG_ADMIN_DSN = os.environ.get("ASSAY_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
TEST_MAX_BODY = 4 * 1024 * 1024
ROLES = ("admin", "manager", "annotator", "reviewer")
TEST_PLUGINS = (
    "cat_or_dog=automation_helpers:cat_or_dog_model",
    "counted_cat_or_dog=automation_helpers:counted_cat_or_dog_model",
)
"""Python models the test servers register at start, as `assay serve --plugin` does."""


@contextmanager
def pg_database() -> Iterator[str]:
    """The URL of a new PostgreSQL database, dropped afterwards."""
    name = f"assay_test_{secrets.token_hex(4)}"
    try:
        admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is required for the test suite ({PG_ADMIN_DSN}): {exc}")
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    yield f"{base}/{name}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    with pg_database() as url:
        yield url


def wait_healthy(url: str, proc, seconds: float = 60) -> None:
    """Wait until a server started as a child process answers /healthz; fail if the
    process exits or the time runs out first."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert proc.poll() is None, "server exited"
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningServer:
    """A uvicorn server on a free port, in a thread of the test process."""

    def __init__(self, settings: Settings):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings = settings
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        self.store = Store(settings.database_url)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.store.close()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def server(backend, tmp_path_factory, request) -> Iterator[RunningServer]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'assay.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    # Model-in-the-loop cycles run when a test asks for one, not at a moment of their own.
    # Callbacks and model endpoints in tests are local servers: private URLs are allowed
    # here, and tests/test_security.py runs a server that refuses them.
    # Every test calls from 127.0.0.1, and some send bad keys on purpose: the throttle of
    # failed authentication is left to its own probe in tests/test_security.py.
    settings = Settings(
        database_url=url,
        max_body_bytes=TEST_MAX_BODY,
        automate=False,
        allow_private_urls=True,
        server_timing=True,
        auth_failures="1000000/minute",
        plugins=TEST_PLUGINS,
    )
    running = RunningServer(settings)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def keys(server) -> dict[str, str]:
    """One key per role, created the way `assay keys create` does."""
    migrate(server.store)
    return {role: create_key(server.store, role, f"test {role}")["key"] for role in ROLES}


@pytest.fixture
def api(server, keys) -> Iterator[httpx.Client]:
    """An HTTP client authenticated as admin."""
    with httpx.Client(base_url=server.url, headers=auth(keys["admin"]), timeout=60) as c:
        yield c


@pytest.fixture
def as_role(server, keys):
    clients = []

    def make(role: str | None) -> httpx.Client:
        headers = auth(keys[role]) if role else {}
        c = httpx.Client(base_url=server.url, headers=headers, timeout=60)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def project(api) -> dict:
    response = api.post(
        "/v1/projects",
        json={
            "name": f"p-{secrets.token_hex(3)}",
            "kind": "categorization",
            "params": {"labels": ["cat", "dog", "bird"]},
            "instructions": "# Pick the animal",
        },
    )
    assert response.status_code == 201, response.text
    return response.json()


def assert_problem(
    response: httpx.Response, status: int, code: str | None = None, field: str | None = None
) -> dict:
    """Check an RFC 9457 problem response and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    for key in ("type", "title", "status", "detail", "code", "errors"):
        assert key in body, body
    assert body["status"] == status
    if code:
        assert body["code"] == code, body
    if field:
        assert field in [e["field"] for e in body["errors"]], body
    return body


@pytest.fixture
def database(backend, tmp_path, pg_url):
    """Server arguments and a store on a database for this test."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'assay.db'}"
        args = ["--data-dir", str(tmp_path)]
    else:
        url, args = pg_url, ["--database-url", pg_url]
    store = Store(url)
    migrate(store)
    yield args, store
    store.close()


@pytest.fixture
def make_worker(api, server):
    clients = []

    def make(skills=(), role="annotator") -> httpx.Client:
        created = api.post(
            "/v1/workers",
            json={"name": f"ann-{secrets.token_hex(2)}", "role": role, "skills": list(skills)},
        )
        assert created.status_code == 201, created.text
        client = httpx.Client(base_url=server.url, headers=auth(created.json()["key"]), timeout=60)
        client.worker_id = created.json()["id"]
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def cat_dog_project(api, **settings) -> dict:
    """A categorization project (cat / dog, no gold mixed in) with these settings."""
    body = {
        "name": f"p-{secrets.token_hex(3)}",
        "kind": "categorization",
        "params": {"labels": ["cat", "dog"]},
        "gold_rate": 0,
    } | settings
    created = api.post("/v1/projects", json=body)
    assert created.status_code == 201, created.text
    return created.json()


@pytest.fixture
def load_json(tmp_path, monkeypatch):
    """Reads a JSON or JSONL file with Hugging Face `datasets` (offline), as trainers do."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    import datasets

    def load(path):
        return datasets.load_dataset(
            "json", data_files=str(path), cache_dir=str(tmp_path / "hf"), split="train"
        )

    return load


CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


def _console_error(page, message) -> None:
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        page.errors.append(message.text)


def watch_errors(page):
    """Collect the page's script errors and console errors in `page.errors` (not the
    browser's note on each 4xx response: tests provoke those on purpose)."""
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    page.on("console", lambda message: _console_error(page, message))
    return page


@pytest.fixture
def open_page(browser, server):
    """`open_page(key)`: a fresh browser context signed in with that key, on a page at
    the start page; `open_page(None)`: not signed in. Every page must end its test
    without errors (`watch_errors`)."""
    contexts, pages = [], []

    def make(key: str | None, path: str = "/"):
        context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = watch_errors(context.new_page())
        pages.append(page)
        if key is not None:
            page.goto("/login")
            page.fill("#key", key)
            page.click("button[type=submit]")
            page.wait_for_load_state()
        page.goto(path)
        return page

    yield make
    for context in contexts:
        context.close()
    assert [page.errors for page in pages if page.errors] == []


@pytest.fixture
def screenshots(tmp_path) -> Path:
    """Where browser tests save their pictures: docs/screenshots/ (the README's) when
    ASSAY_REFRESH_SCREENSHOTS=1, else a temporary folder, so a test run leaves the tree
    clean."""
    if os.environ.get("ASSAY_REFRESH_SCREENSHOTS") == "1":
        folder = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
    else:
        folder = tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
