"""The threat model's probes (SECURITY.md), each against a real server on SQLite and on
PostgreSQL. `strict` is a server with the production defaults: outbound requests to
private and loopback destinations are refused."""

import secrets
from collections.abc import Iterator

import httpx
import pytest
from conftest import TEST_MAX_BODY, RunningServer, assert_problem, auth  # noqa: F401

from assay.engine.keys import create_key
from assay.settings import Settings


@pytest.fixture(scope="module")
def strict(backend, tmp_path_factory, request) -> Iterator[RunningServer]:
    """A server as deployed: private URLs refused, no background automation."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('strict') / 'assay.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    running = RunningServer(
        Settings(database_url=url, max_body_bytes=TEST_MAX_BODY, automate=False)
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

# --- 2. Outbound destinations (SSRF) and 3. no upstream body reflected -----------------

# --- 4. Bounded import reports, 5. write-only credentials, 8. image bombs ---------------

# --- 6. Gold windows, 7. lease cap, 9. throttling, 11. logout, 12. headers --------------

# --- 10. Slow receivers delay only themselves -------------------------------------------

# --- 13. Automation once per deployment ---------------------------------------------------
