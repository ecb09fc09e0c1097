import secrets
import threading

import httpx
from conftest import assert_problem


def new_task(api, project, **fields):
    body = {"project": project["id"], "params": {"text": "a photo"}} | fields
    return api.post("/v1/tasks", json=body)


def test_create_and_get_task(api, project):
    response = new_task(
        api,
        project,
        unique_id="u-1",
        metadata={"source": "cam-3"},
        priority=5,
        callback_url="https://example.com/t",
    )
    assert response.status_code == 201
    task = response.json()
    assert task["status"] == "pending" and task["id"] and task["created_at"].endswith("Z")
    fetched = api.get(f"/v1/tasks/{task['id']}").json()
    assert fetched == task
    assert fetched["params"] == {"text": "a photo"} and fetched["metadata"] == {"source": "cam-3"}
    assert fetched["priority"] == 5 and fetched["response"] is None


def test_repeated_unique_id_is_409_with_existing_task_id(api, project):
    first = new_task(api, project, unique_id="same").json()
    again = new_task(api, project, unique_id="same", params={"text": "other"})
    body = assert_problem(again, 409, "duplicate_unique_id")
    assert body["task_id"] == first["id"]
    listed = api.get("/v1/tasks", params={"project": project["id"], "unique_id": "same"}).json()
    assert [t["id"] for t in listed["docs"]] == [first["id"]]


def test_same_unique_id_in_another_project_is_fine(api, project):
    other = api.post(
        "/v1/projects",
        json={"name": "o", "kind": "categorization", "params": {"labels": ["a", "b"]}},
    ).json()
    assert new_task(api, project, unique_id="shared").status_code == 201
    assert new_task(api, other, unique_id="shared").status_code == 201


def test_concurrent_posts_of_one_unique_id_make_exactly_one_task(server, keys, project):
    unique_id = f"race-{secrets.token_hex(4)}"
    barrier = threading.Barrier(8)
    statuses, task_ids = [], []

    def post():
        with httpx.Client(
            base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {keys['admin']}"}
        ) as c:
            barrier.wait()
            r = c.post(
                "/v1/tasks",
                json={"project": project["id"], "params": {"n": 1}, "unique_id": unique_id},
            )
            statuses.append(r.status_code)
            task_ids.append(r.json().get("id") or r.json().get("task_id"))

    threads = [threading.Thread(target=post) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] + [409] * 7
    assert len(set(task_ids)) == 1
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {keys['admin']}"}
    ) as c:
        found = c.get("/v1/tasks", params={"project": project["id"], "unique_id": unique_id})
    assert len(found.json()["docs"]) == 1


def test_list_filters_and_cursor_pagination(api, project):
    created = [new_task(api, project, params={"i": i}).json()["id"] for i in range(7)]
    api.post(f"/v1/tasks/{created[0]}/cancel")
    pages, token = [], None
    while True:
        query = {"project": project["id"], "limit": 3} | ({"next_token": token} if token else {})
        page = api.get("/v1/tasks", params=query).json()
        pages.append([t["id"] for t in page["docs"]])
        token = page["next_token"]
        if not token:
            break
    assert [len(p) for p in pages] == [3, 3, 1]
    assert sum(pages, []) == created
    pending = api.get("/v1/tasks", params={"project": project["id"], "status": "pending"}).json()
    assert [t["id"] for t in pending["docs"]] == created[1:]


def test_pagination_is_stable_under_concurrent_inserts(api, project):
    before = [new_task(api, project, params={"i": i}).json()["id"] for i in range(5)]
    first = api.get("/v1/tasks", params={"project": project["id"], "limit": 2}).json()
    for i in range(4):  # inserts between pages must not shift or repeat what was listed
        new_task(api, project, params={"late": i})
    seen = [t["id"] for t in first["docs"]]
    token = first["next_token"]
    while token:
        page = api.get(
            "/v1/tasks", params={"project": project["id"], "limit": 2, "next_token": token}
        ).json()
        seen += [t["id"] for t in page["docs"]]
        token = page["next_token"]
    assert len(seen) == len(set(seen)) == 9
    assert seen[:5] == before


def test_bad_next_token_and_limit(api, project):
    assert_problem(api.get("/v1/tasks", params={"next_token": "garbage!"}), 422, field="next_token")
    assert_problem(api.get("/v1/tasks", params={"limit": 0}), 422, field="limit")
    assert_problem(api.get("/v1/tasks", params={"limit": 101}), 422, field="limit")
    assert_problem(api.get("/v1/tasks", params={"status": "done"}), 422, field="status")


def test_cancel_pending_only(api, server, project):
    task = new_task(api, project).json()
    canceled = api.post(f"/v1/tasks/{task['id']}/cancel")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert canceled.json()["canceled_at"]
    assert api.post(f"/v1/tasks/{task['id']}/cancel").status_code == 200  # a retry is harmless
    done = new_task(api, project).json()
    from sqlalchemy import update

    from assay.store.tables import tasks

    with server.store.write() as conn:
        conn.execute(update(tasks).where(tasks.c.id == done["id"]).values(status="completed"))
    assert_problem(api.post(f"/v1/tasks/{done['id']}/cancel"), 409, "task_not_pending")
    assert_problem(api.post("/v1/tasks/nope/cancel"), 404, "task_not_found")


def test_task_bad_inputs_name_their_field(api, project):
    cases = [
        ({"params": {"t": 1}}, "project"),
        ({"project": project["id"]}, "params"),
        ({"project": project["id"], "params": "text"}, "params"),
        ({"project": project["id"], "params": {}, "metadata": [1]}, "metadata"),
        ({"project": project["id"], "params": {}, "priority": "high"}, "priority"),
        ({"project": project["id"], "params": {}, "priority": 2**40}, "priority"),
        ({"project": project["id"], "params": {}, "unique_id": ""}, "unique_id"),
        ({"project": project["id"], "params": {}, "callback_url": "not a url"}, "callback_url"),
        ({"project": project["id"], "params": {}, "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        assert_problem(api.post("/v1/tasks", json=body), 422, "invalid", field)
    missing = api.post("/v1/tasks", json={"project": "nope", "params": {}})
    assert_problem(missing, 404, "project_not_found", "project")
    assert_problem(api.get("/v1/tasks/nope"), 404, "task_not_found")
