"""Property-based fuzzing of every operation in the OpenAPI schema, on both databases: no
input yields a 5xx, and every answer matches what the schema declares for it (status,
content type, body), problems included.

Path parameters and id fields of bodies are either random (so mostly 404s) or the ids of
real resources made beforehand (so the declared 200 bodies are checked too). The server
here delivers no callbacks and runs no automation: fuzzed URLs are never called.
"""

import secrets
from collections.abc import Iterator
from contextlib import nullcontext

import httpx
import pytest
import schemathesis
from conftest import RunningServer, auth, cat_dog_project, pg_database
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from assay.engine.keys import create_key
from assay.settings import Settings
from assay.store.migrate import migrate

EXAMPLES_PER_OPERATION = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
WORKER_PATHS = ("/v1/me", "/v1/work/", "/v1/assignments/")
"""Operations for people who work: called with a worker's key, the rest with an admin's."""
NOT_REAL = ("/v1/projects/{project_id}/automation:run",)
"""Operations never given real ids: a fuzzed model URL would be called."""


@pytest.fixture(scope="module")
def quiet_server(backend, tmp_path_factory) -> Iterator[RunningServer]:
    """A server of its own database that calls no URL: no callbacks, no automation."""
    sqlite = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'assay.db'}"
    with pg_database() if backend == "postgres" else nullcontext(sqlite) as url:
        running = RunningServer(Settings(database_url=url, deliver_callbacks=False, automate=False))
        yield running
        running.stop()


def _real_resources(server: RunningServer) -> tuple[dict[str, str], dict[str, str]]:
    """(keys by role, ids by path parameter) of resources made for the fuzz: a project with
    a batch, answered and open tasks, a worker's assignment, a removal-free worker to act
    on and a key to revoke."""
    migrate(server.store)
    admin = create_key(server.store, "admin", "fuzz admin")["key"]
    with httpx.Client(base_url=server.url, headers=auth(admin), timeout=60) as api:
        project = cat_dog_project(api)
        batch = api.post("/v1/batches", json={"project": project["id"], "name": "b"}).json()
        tasks = [
            api.post(
                "/v1/tasks",
                json={"project": project["id"], "params": {"text": f"t{i}"}, "batch": batch["id"]},
            ).json()
            for i in range(3)
        ]
        api.post(f"/v1/batches/{batch['id']}/finalize")
        worker = api.post("/v1/workers", json={"name": "fuzz worker"}).json()
        target = api.post("/v1/workers", json={"name": "fuzz target"}).json()
        revocable = api.post("/v1/keys", json={"role": "manager", "name": "fuzz"}).json()
    with httpx.Client(base_url=server.url, headers=auth(worker["key"]), timeout=60) as work:
        answered = work.post("/v1/work/next", json={"project": project["id"]}).json()
        body = {"response": {"label": "cat"}}
        assert work.post(f"/v1/assignments/{answered['id']}/submit", json=body).is_success
        held = work.post("/v1/work/next", json={"project": project["id"]}).json()
    ids = {
        "project_id": project["id"],
        "batch_id": batch["id"],
        "task_id": tasks[0]["id"],
        "worker_id": target["id"],
        "key_id": revocable["id"],
        "assignment_id": held["id"],
        "name": "categorization",
    }
    return {"admin": admin, "worker": worker["key"]}, ids


def _with_real_ids(case, ids: dict[str, str]) -> None:
    for name in case.path_parameters or {}:
        if name in ids:
            case.path_parameters[name] = ids[name]
    if isinstance(case.body, dict):
        for field, name in (("project", "project_id"), ("batch", "batch_id")):
            if field in case.body:
                case.body[field] = ids[name]


def _fuzz(operation, headers: dict[str, str], ids: dict[str, str] | None):
    """A Hypothesis test of the operation: each case with real `ids` or random ones."""

    @given(case=operation.as_strategy(), real=st.booleans())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def fuzz(case, real):
        if real and ids:
            _with_real_ids(case, ids)
        response = case.call(headers=headers, timeout=30)
        case.validate_response(response, checks=CHECKS)

    return fuzz


def test_every_answer_matches_the_schema_and_none_is_a_server_error(quiet_server):
    keys, ids = _real_resources(quiet_server)
    schema = schemathesis.openapi.from_url(f"{quiet_server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40
    for operation in operations:
        role = "worker" if operation.path.startswith(WORKER_PATHS) else "admin"
        real = None if operation.path in NOT_REAL else ids
        _fuzz(operation, auth(keys[role]), real)()


def test_a_fresh_key_sees_the_same_shapes(quiet_server):
    """The abuse case: a key of every role on every list gets a 2xx or a problem, never
    a body the schema does not declare."""
    migrate(quiet_server.store)
    schema = schemathesis.openapi.from_url(f"{quiet_server.url}/openapi.json")
    for role in ("manager", "annotator", "reviewer"):
        key = create_key(quiet_server.store, role, f"fuzz {secrets.token_hex(2)}")["key"]
        for result in schema.get_all_operations():
            operation = result.ok()
            if operation.method.upper() != "GET" or "{" in operation.path:
                continue
            case = operation.Case()
            response = case.call(headers=auth(key), timeout=30)
            case.validate_response(response, checks=CHECKS)
