from conftest import assert_problem


def make_batch(api, project, name="b1", **more):
    return api.post("/v1/batches", json={"project": project["id"], "name": name} | more)


def test_batch_lifecycle_and_status_counts(api, project):
    created = make_batch(api, project, callback_url="https://example.com/b")
    assert created.status_code == 201
    batch = created.json()
    assert batch["status"] == "staging" and batch["project"] == project["id"]
    for i in range(3):
        r = api.post(
            "/v1/tasks", json={"project": project["id"], "batch": batch["id"], "params": {"i": i}}
        )
        assert r.status_code == 201 and r.json()["batch"] == batch["id"]
    first = api.get("/v1/tasks", params={"batch": batch["id"]}).json()["docs"][0]
    api.post(f"/v1/tasks/{first['id']}/cancel")

    status = api.get(f"/v1/batches/{batch['id']}/status").json()
    assert status["status"] == "staging" and status["total"] == 3
    assert status["counts"] == {
        "pending": 2,
        "in_review": 0,
        "completed": 0,
        "canceled": 1,
        "error": 0,
    }

    finalized = api.post(f"/v1/batches/{batch['id']}/finalize")
    assert finalized.status_code == 200 and finalized.json()["status"] == "in_progress"
    assert finalized.json()["finalized_at"]
    again = api.post(f"/v1/batches/{batch['id']}/finalize").json()
    assert again["finalized_at"] == finalized.json()["finalized_at"]
    assert api.get(f"/v1/batches/{batch['id']}").json()["status"] == "in_progress"


def test_tasks_cannot_join_a_finalized_batch(api, project):
    batch = make_batch(api, project).json()
    api.post(f"/v1/batches/{batch['id']}/finalize")
    late = api.post(
        "/v1/tasks", json={"project": project["id"], "batch": batch["id"], "params": {}}
    )
    assert_problem(late, 409, "batch_not_staging")


def test_batch_of_another_project_is_rejected(api, project):
    other = api.post(
        "/v1/projects",
        json={"name": "o", "kind": "categorization", "params": {"labels": ["a", "b"]}},
    ).json()
    batch = make_batch(api, other).json()
    r = api.post("/v1/tasks", json={"project": project["id"], "batch": batch["id"], "params": {}})
    assert_problem(r, 422, "invalid", "batch")
    r = api.post("/v1/tasks", json={"project": project["id"], "batch": "nope", "params": {}})
    assert_problem(r, 404, "batch_not_found", "batch")


def test_repeated_batch_name_is_409_with_its_id(api, project):
    batch = make_batch(api, project, name="daily").json()
    body = assert_problem(make_batch(api, project, name="daily"), 409, "duplicate_batch_name")
    assert body["batch_id"] == batch["id"]


def test_list_batches_by_project(api, project):
    ids = [make_batch(api, project, name=f"n{i}").json()["id"] for i in range(3)]
    page = api.get("/v1/batches", params={"project": project["id"], "limit": 2}).json()
    rest = api.get(
        "/v1/batches", params={"project": project["id"], "next_token": page["next_token"]}
    ).json()
    assert [b["id"] for b in page["docs"] + rest["docs"]] == ids


def test_batch_bad_inputs(api, project):
    assert_problem(api.post("/v1/batches", json={"project": project["id"]}), 422, field="name")
    assert_problem(
        api.post("/v1/batches", json={"project": "nope", "name": "x"}),
        404,
        "project_not_found",
        "project",
    )
    assert_problem(api.get("/v1/batches/nope"), 404, "batch_not_found")
    assert_problem(api.post("/v1/batches/nope/finalize"), 404, "batch_not_found")
    assert_problem(api.get("/v1/batches/nope/status"), 404, "batch_not_found")
