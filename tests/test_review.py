"""The review layer through the API, on both databases: results wait for a reviewer's
accept, fix or reject before they are delivered."""

import pytest
from conftest import assert_problem, cat_dog_project


def label(worker, project, answer: str) -> dict | None:
    r = worker.post("/v1/work/next", json={"project": project["id"]})
    if r.status_code == 204:
        return None
    a = r.json()
    assert worker.post(
        f"/v1/assignments/{a['id']}/submit", json={"response": {"label": answer}}
    ).is_success
    return a


def next_review(reviewer, project) -> dict | None:
    r = reviewer.post("/v1/work/next", params={"stage": "review"}, json={"project": project["id"]})
    return r.json() if r.status_code == 200 else None


def test_accept_fix_and_reject(api, make_worker):
    project = cat_dog_project(api, review_rate=1.0)
    tasks = [
        api.post("/v1/tasks", json={"project": project["id"], "params": {"n": i}}).json()["id"]
        for i in range(3)
    ]
    annotator, reviewer = make_worker(), make_worker(role="reviewer")
    for _ in tasks:
        label(annotator, project, "cat")
    for task in tasks:
        held = api.get(f"/v1/tasks/{task}").json()
        assert held["status"] == "in_review" and held["response"]["label"] == "cat"
        assert held["completed_at"] is None  # not delivered yet
    forbidden = annotator.post("/v1/work/next", params={"stage": "review"}, json={})
    assert_problem(forbidden, 403, "forbidden")

    first = next_review(reviewer, project)
    assert first["stage"] == "review" and first["task"]["id"] == tasks[0]
    assert first["result"]["label"] == "cat" and first["answers"] == [{"label": "cat"}]
    url = f"/v1/assignments/{first['id']}/review"
    accepted = reviewer.post(url, json={"verdict": "accept"}).json()
    assert reviewer.post(url, json={"verdict": "accept"}).json()["id"] == accepted["id"]
    assert_problem(reviewer.post(url, json={"verdict": "reject"}), 409, "already_reviewed")
    done = api.get(f"/v1/tasks/{tasks[0]}").json()
    assert done["status"] == "completed" and done["response"]["reviewed"] == "accept"

    second = next_review(reviewer, project)
    url = f"/v1/assignments/{second['id']}/review"
    assert_problem(reviewer.post(url, json={"verdict": "fix"}), 422, "invalid", "response")
    bad = reviewer.post(url, json={"verdict": "fix", "response": {"label": "fish"}})
    assert_problem(bad, 422, "invalid", "response.label")
    reviewer.post(url, json={"verdict": "fix", "response": {"label": "dog"}, "reason": "a dog"})
    fixed = api.get(f"/v1/tasks/{tasks[1]}").json()["response"]
    assert fixed == {"label": "dog", "confidence": 1.0, "annotations": 1, "reviewed": "fix"}

    third = next_review(reviewer, project)
    reviewer.post(f"/v1/assignments/{third['id']}/review", json={"verdict": "reject"})
    again = api.get(f"/v1/tasks/{tasks[2]}").json()
    assert again["status"] == "pending" and again["response"] is None
    assert label(annotator, project, "cat") is None  # never the same task twice
    fresh = make_worker()
    assert label(fresh, project, "dog")["task"]["id"] == tasks[2]
    assert next_review(reviewer, project) is None  # a reviewer judges a task once
    second_reviewer = make_worker(role="reviewer")
    relabelled = next_review(second_reviewer, project)
    assert relabelled["answers"] == [{"label": "dog"}]  # the rejected answer is set aside

    scores = {
        w["worker"]: w["reviews"]
        for w in api.get(f"/v1/projects/{project['id']}/quality").json()["workers"]
    }
    # The first annotator: right on the accepted task, wrong on the fixed and the rejected.
    assert scores[annotator.worker_id] == {
        "reviewed": 3,
        "correct": 1,
        "accuracy": pytest.approx(1 / 3),
        "ci95": [pytest.approx(0.0084, abs=1e-4), pytest.approx(0.9057, abs=1e-4)],
    }


def test_low_confidence_results_go_to_review_and_hold_their_batch(api, make_worker):
    project = cat_dog_project(api, overlap=2, review_below=0.8)
    batch = api.post("/v1/batches", json={"project": project["id"], "name": "b"}).json()
    agreed, disputed = (
        api.post(
            "/v1/tasks", json={"project": project["id"], "batch": batch["id"], "params": {"n": i}}
        ).json()["id"]
        for i in range(2)
    )
    api.post(f"/v1/batches/{batch['id']}/finalize")
    first, second = make_worker(), make_worker()
    label(first, project, "cat"), label(first, project, "cat")
    label(second, project, "cat"), label(second, project, "dog")
    assert api.get(f"/v1/tasks/{agreed}").json()["status"] == "completed"
    assert api.get(f"/v1/tasks/{disputed}").json()["status"] == "in_review"
    status = api.get(f"/v1/batches/{batch['id']}/status").json()
    assert status["counts"]["in_review"] == 1 and status["status"] == "in_progress"
    reviewer = make_worker(role="reviewer")
    held = next_review(reviewer, project)
    reviewer.post(f"/v1/assignments/{held['id']}/review", json={"verdict": "accept"})
    assert api.get(f"/v1/batches/{batch['id']}").json()["status"] == "completed"


def test_the_sdk_reviews_audits_and_reads_quality(api, server, keys):
    from assay import Client

    project = cat_dog_project(api, review_rate=1.0)
    batch = api.post("/v1/batches", json={"project": project["id"], "name": "sdk"}).json()
    task = api.post(
        "/v1/tasks", json={"project": project["id"], "batch": batch["id"], "params": {}}
    ).json()["id"]
    api.post(f"/v1/batches/{batch['id']}/finalize")
    annotator = api.post("/v1/workers", json={"name": "sdk-a"}).json()
    reviewer = api.post("/v1/workers", json={"name": "sdk-r", "role": "reviewer"}).json()
    with (
        Client(server.url, annotator["key"]) as a,
        Client(server.url, reviewer["key"]) as r,
        Client(server.url, keys["manager"]) as manager,
    ):
        a.submit(a.next_assignment(project["id"])["id"], {"label": "cat"})
        held = r.next_assignment(project["id"], stage="review")
        assert held["result"]["label"] == "cat"
        assert r.review(held["id"], "fix", {"label": "dog"})["verdict"] == "fix"
        assert manager.audit(task, True)["correct"] is True
        assert manager.batch_accuracy(batch["id"])["accuracy"] == 1.0
        quality = manager.project_quality(project["id"], method="mv")
        assert quality["method"] == "mv" and quality["workers"][0]["reviews"]["reviewed"] == 1
