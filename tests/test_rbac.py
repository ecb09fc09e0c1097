"""Every role against every endpoint: allowed, 401 or 403."""

import pytest

MANAGE = {"admin", "manager"}
ADMIN_ONLY = {"admin"}


@pytest.fixture
def ids(api, project):
    batch = api.post("/v1/batches", json={"project": project["id"], "name": "rbac"}).json()
    task = api.post("/v1/tasks", json={"project": project["id"], "params": {}}).json()
    key = api.post("/v1/keys", json={"role": "annotator"}).json()
    return {"project": project["id"], "batch": batch["id"], "task": task["id"], "key": key["id"]}


ENDPOINTS = [
    ("POST", "/v1/keys", {"role": "annotator"}, ADMIN_ONLY),
    ("GET", "/v1/keys", None, ADMIN_ONLY),
    ("POST", "/v1/keys/{key}/revoke", None, ADMIN_ONLY),
    (
        "POST",
        "/v1/projects",
        {"name": "r", "kind": "categorization", "params": {"labels": ["a", "b"]}},
        MANAGE,
    ),
    ("GET", "/v1/projects", None, MANAGE),
    ("GET", "/v1/projects/{project}", None, MANAGE),
    ("PATCH", "/v1/projects/{project}", {"overlap": 2}, MANAGE),
    ("POST", "/v1/projects/{project}/tasks:import", [{"params": {}}], MANAGE),
    ("GET", "/v1/projects/{project}/export", None, MANAGE),
    ("POST", "/v1/batches", {"project": "{project}", "name": "rb-{role}"}, MANAGE),
    ("GET", "/v1/batches", None, MANAGE),
    ("GET", "/v1/batches/{batch}", None, MANAGE),
    ("POST", "/v1/batches/{batch}/finalize", None, MANAGE),
    ("GET", "/v1/batches/{batch}/status", None, MANAGE),
    ("POST", "/v1/tasks", {"project": "{project}", "params": {}}, MANAGE),
    ("GET", "/v1/tasks", None, MANAGE),
    ("GET", "/v1/tasks/{task}", None, MANAGE),
    ("POST", "/v1/tasks/{task}/cancel", None, MANAGE),
]


def fill(value, ids, role):
    if isinstance(value, str):
        return value.format(**ids, role=role)
    if isinstance(value, dict):
        return {k: fill(v, ids, role) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, ids, role) for v in value]
    return value


@pytest.mark.parametrize(
    "method,path,body,allowed", ENDPOINTS, ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS]
)
def test_role_matrix(as_role, ids, method, path, body, allowed):
    for role in (None, "bad", "admin", "manager", "annotator", "reviewer"):
        if role == "bad":
            client = as_role(None)
            client.headers["Authorization"] = "Bearer assay_not-a-real-key"
        else:
            client = as_role(role)
        json = fill(body, ids, role) if body is not None else None
        response = client.request(method, fill(path, ids, role), json=json)
        if role in (None, "bad"):
            expected = 401
        elif role in allowed:
            assert response.status_code < 400, (role, response.text)
            continue
        else:
            expected = 403
        assert response.status_code == expected, (role, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        if expected == 401:
            assert response.headers.get("www-authenticate") == "Bearer"


def test_revoked_key_is_refused(api, as_role):
    created = api.post("/v1/keys", json={"role": "manager", "name": "temp"}).json()
    client = as_role(None)
    client.headers["Authorization"] = f"Bearer {created['key']}"
    assert client.get("/v1/projects").status_code == 200
    api.post(f"/v1/keys/{created['id']}/revoke")
    assert client.get("/v1/projects").status_code == 401


def test_keys_are_shown_once_and_stored_hashed(api, server):
    from sqlalchemy import select

    from assay.store.tables import api_keys

    created = api.post("/v1/keys", json={"role": "reviewer"}).json()
    assert created["key"].startswith("assay_")
    listed = api.get("/v1/keys").json()["docs"]
    assert all("key" not in k and "key_hash" not in k for k in listed)
    with server.store.read() as conn:
        stored = conn.execute(select(api_keys).where(api_keys.c.id == created["id"])).one()
    assert created["key"] not in tuple(str(v) for v in stored)
    assert len(stored.key_hash) == 64
