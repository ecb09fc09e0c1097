"""Gold tasks: mixed in unseen, scored on arrival, never results, never callbacks."""

import secrets

import httpx
import orjson
import pytest
from conftest import assert_problem, auth


@pytest.fixture
def gold_project(api):
    def make(**settings):
        body = {
            "name": f"g-{secrets.token_hex(3)}",
            "kind": "categorization",
            "params": {"labels": ["cat", "dog"]},
        } | settings
        return api.post("/v1/projects", json=body).json()

    return make


@pytest.fixture
def worker(api, server):
    created = api.post("/v1/workers", json={"name": "gold tester"}).json()
    with httpx.Client(base_url=server.url, headers=auth(created["key"])) as client:
        client.worker_id = created["id"]
        yield client


def shape(value):
    """The structure of a JSON value: keys and types, not contents."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(v) for v in value[:1]]
    return type(value).__name__


def test_gold_answers_are_validated_and_stay_out_of_batches(api, gold_project):
    project = gold_project()
    bad = api.post(
        "/v1/tasks", json={"project": project["id"], "params": {}, "gold": {"label": "fish"}}
    )
    assert_problem(bad, 422, "invalid", "gold.label")
    batch = api.post("/v1/batches", json={"project": project["id"], "name": "b"}).json()
    batched = api.post(
        "/v1/tasks",
        json={
            "project": project["id"],
            "batch": batch["id"],
            "params": {},
            "gold": {"label": "cat"},
        },
    )
    assert_problem(batched, 422, "invalid", "gold")
    ok = api.post(
        "/v1/tasks", json={"project": project["id"], "params": {"t": 1}, "gold": {"label": "cat"}}
    )
    assert ok.status_code == 201 and ok.json()["gold"] == {"label": "cat"}


def test_gold_looks_like_any_task_to_the_worker(api, gold_project, worker):
    project = gold_project(gold_rate=1.0)
    gold_ids = {
        api.post(
            "/v1/tasks",
            json={"project": project["id"], "params": {"text": f"g{i}"}, "gold": {"label": "cat"}},
        ).json()["id"]
        for i in range(3)
    }
    real_ids = {
        api.post("/v1/tasks", json={"project": project["id"], "params": {"text": f"r{i}"}}).json()[
            "id"
        ]
        for i in range(3)
    }
    seen = []
    while (
        response := worker.post("/v1/work/next", json={"project": project["id"]})
    ).status_code == 200:
        seen.append(response)
        assignment = response.json()
        worker.post(
            f"/v1/assignments/{assignment['id']}/submit", json={"response": {"label": "cat"}}
        )
    ids = [r.json()["task"]["id"] for r in seen]
    assert sorted(ids) == sorted(gold_ids | real_ids)  # each task once, gold never twice
    assert set(ids[:3]) == gold_ids  # rate 1.0: gold first while real work remains
    gold = [r for r in seen if r.json()["task"]["id"] in gold_ids]
    real = [r for r in seen if r.json()["task"]["id"] in real_ids]
    assert {orjson.dumps(shape(r.json())) for r in gold} == {
        orjson.dumps(shape(r.json())) for r in real
    }
    assert {tuple(sorted(r.headers.keys())) for r in gold} == {
        tuple(sorted(r.headers.keys())) for r in real
    }
    for r in gold:
        assert "gold" not in r.text


def test_gold_is_scored_and_shown_in_worker_stats(api, gold_project, worker, as_role):
    project = gold_project(gold_rate=1.0)
    for label in ("cat", "dog", "cat"):
        api.post(
            "/v1/tasks", json={"project": project["id"], "params": {}, "gold": {"label": label}}
        )
    api.post("/v1/tasks", json={"project": project["id"], "params": {}})
    answers = iter(["cat", "cat", "cat", "dog"])
    while (
        response := worker.post("/v1/work/next", json={"project": project["id"]})
    ).status_code == 200:
        worker.post(
            f"/v1/assignments/{response.json()['id']}/submit",
            json={"response": {"label": next(answers)}, "duration_ms": 1000},
        )
    stats = api.get(f"/v1/workers/{worker.worker_id}/stats").json()
    assert stats["answers"] == 4 and stats["mean_duration_ms"] == 1000
    assert stats["gold"] == {
        "counted_answers": 4,
        "answered": 3,
        "correct": 2,
        "accuracy": pytest.approx(2 / 3),
        "ci95": [pytest.approx(0.0943, abs=1e-4), pytest.approx(0.9916, abs=1e-4)],
    }
    assert_problem(worker.get(f"/v1/workers/{worker.worker_id}/stats"), 403)
    assert_problem(as_role("annotator").get(f"/v1/workers/{worker.worker_id}/stats"), 403)


def test_gold_is_not_served_without_real_work_and_never_exported_by_default(
    api, server, gold_project, worker
):
    project = gold_project(gold_rate=1.0, callback_url="http://127.0.0.1:9/never")
    gold_id = api.post(
        "/v1/tasks", json={"project": project["id"], "params": {}, "gold": {"label": "dog"}}
    ).json()["id"]
    assert worker.post("/v1/work/next", json={"project": project["id"]}).status_code == 204
    real_id = api.post("/v1/tasks", json={"project": project["id"], "params": {}}).json()["id"]
    gold_assignment = worker.post("/v1/work/next", json={"project": project["id"]}).json()
    assert gold_assignment["task"]["id"] == gold_id
    worker.post(
        f"/v1/assignments/{gold_assignment['id']}/submit", json={"response": {"label": "dog"}}
    )
    assert api.get(f"/v1/tasks/{gold_id}").json()["status"] == "pending"  # never completes
    exported = api.get(f"/v1/projects/{project['id']}/export").content.splitlines()
    assert [orjson.loads(line)["id"] for line in exported] == [real_id]
    with_gold = api.get(f"/v1/projects/{project['id']}/export", params={"include_gold": True})
    assert len(with_gold.content.splitlines()) == 2
    from sqlalchemy import select

    from assay.store.tables import callbacks

    with server.store.read() as conn:
        queued = (
            conn.execute(select(callbacks.c.task_id).where(callbacks.c.project_id == project["id"]))
            .scalars()
            .all()
        )
    assert gold_id not in queued


def test_import_rows_may_carry_gold(api, gold_project):
    project = gold_project()
    body = b"\n".join(
        [
            orjson.dumps({"params": {"t": 1}, "gold": {"label": "cat"}}),
            orjson.dumps({"params": {"t": 2}, "gold": {"label": "owl"}}),
            orjson.dumps({"params": {"t": 3}}),
        ]
    )
    report = api.post(f"/v1/projects/{project['id']}/tasks:import", content=body).json()
    assert (report["created"], report["rejected"]) == (2, 1)
    assert report["errors"][0]["line"] == 2 and report["errors"][0]["field"] == "gold.label"
