"""GET /v1/projects/{id}/dashboard: exact figures on a small hand-made project."""

import pytest
from conftest import assert_problem, cat_dog_project
from sqlalchemy import update

from assay.store.tables import annotations, tasks


def answer(worker, project_id: str, response: dict, duration_ms: int = 1000) -> str:
    """Take the worker's next task of the project and answer it; returns the task id."""
    assignment = worker.post("/v1/work/next", json={"project": project_id}).json()
    body = {"response": response, "duration_ms": duration_ms}
    submitted = worker.post(f"/v1/assignments/{assignment['id']}/submit", json=body)
    assert submitted.status_code == 200, submitted.text
    return assignment["task"]["id"]


@pytest.fixture
def small_project(api, make_worker):
    """Overlap 2. Batch "first": t1 (both say cat), t2 (both dog), t3 (cat and dog: a tie,
    cat wins at confidence 0.5), t4 (one answer, dog). Outside batches: t5 (no answer),
    t6 (canceled), and a gold task the dashboard leaves out."""
    project = cat_dog_project(api, overlap=2)
    pid = project["id"]
    batch = api.post("/v1/batches", json={"project": pid, "name": "first"}).json()
    ids = []
    for priority in (4, 3, 2, 1):
        body = {"project": pid, "batch": batch["id"], "params": {"n": priority}}
        ids.append(api.post("/v1/tasks", json=body | {"priority": priority}).json()["id"])
    for n in (5, 6):
        ids.append(api.post("/v1/tasks", json={"project": pid, "params": {"n": n}}).json()["id"])
    gold = {"project": pid, "params": {"n": 0}, "gold": {"label": "cat"}, "priority": 9}
    assert api.post("/v1/tasks", json=gold).status_code == 201
    assert api.post(f"/v1/batches/{batch['id']}/finalize").status_code == 200
    assert api.post(f"/v1/tasks/{ids[5]}/cancel").status_code == 200
    first, second = make_worker(), make_worker()
    served = [
        answer(first, pid, {"label": label}, ms)
        for label, ms in (("cat", 1000), ("dog", 2000), ("cat", 3000), ("dog", 4000))
    ]
    served += [answer(second, pid, {"label": label}, 2000) for label in ("cat", "dog", "dog")]
    assert served == [*ids[:4], *ids[:3]]
    return {"project": pid, "batch": batch["id"], "tasks": ids}


def counts(pending=0, in_review=0, completed=0, canceled=0, error=0) -> dict[str, int]:
    return {
        "pending": pending,
        "in_review": in_review,
        "completed": completed,
        "canceled": canceled,
        "error": error,
    }


def test_dashboard_figures_are_exact(api, small_project):
    pid, batch, ids = small_project["project"], small_project["batch"], small_project["tasks"]
    board = api.get(f"/v1/projects/{pid}/dashboard")
    assert board.status_code == 200, board.text
    got = board.json()
    hour = got["throughput"][0]["hour"]
    assert len(hour) == 13 and got["throughput"] == [{"hour": hour, "completed": 3}]
    assert got == {
        "project": pid,
        "batch": None,
        "since": None,
        "until": None,
        "total": 6,
        "counts": counts(pending=2, completed=3, canceled=1),
        "batches": [
            {"batch": batch, "name": "first", "total": 4, "counts": counts(1, 0, 3)},
            {"batch": None, "name": None, "total": 2, "counts": counts(pending=1, canceled=1)},
        ],
        "throughput": got["throughput"],
        "labels": [{"label": "cat", "count": 2}, {"label": "dog", "count": 1}],
        "lowest_confidence": [
            {"task": t, "confidence": c, "url": f"/v1/tasks/{t}"}
            for t, c in ((ids[2], 0.5), (ids[0], 1.0), (ids[1], 1.0))
        ],
        "answers": 7,
        "workers_active": 2,
        "mean_answer_ms": pytest.approx(16000 / 7),
        "answers_last_hour": 7,
        "remaining_answers": 3,  # t4 needs one more answer, t5 two
        "eta_seconds": pytest.approx(3 / 7 * 3600),
    }


def test_dashboard_filters_by_batch(api, small_project):
    pid, batch = small_project["project"], small_project["batch"]
    got = api.get(f"/v1/projects/{pid}/dashboard", params={"batch": batch}).json()
    assert got["batch"] == batch
    assert (got["total"], got["counts"]) == (4, counts(pending=1, completed=3))
    assert [b["batch"] for b in got["batches"]] == [batch]
    assert (got["answers"], got["remaining_answers"]) == (7, 1)
    assert got["eta_seconds"] == pytest.approx(1 / 7 * 3600)


def test_dashboard_filters_by_time(api, server, small_project):
    """since / until bound when tasks completed and when answers came."""
    pid, ids = small_project["project"], small_project["tasks"]
    completed = {
        ids[0]: "2024-03-01T10:15:00.000000Z",
        ids[1]: "2024-03-01T10:45:00.000000Z",
        ids[2]: "2024-03-01T12:05:00.000000Z",
    }
    with server.store.write() as conn:
        for task_id, at in completed.items():
            conn.execute(update(tasks).where(tasks.c.id == task_id).values(completed_at=at))
            conn.execute(
                update(annotations).where(annotations.c.task_id == task_id).values(created_at=at)
            )
    url = f"/v1/projects/{pid}/dashboard"
    whole = api.get(url).json()
    assert whole["throughput"] == [
        {"hour": "2024-03-01T10", "completed": 2},
        {"hour": "2024-03-01T12", "completed": 1},
    ]
    assert whole["answers_last_hour"] == 1  # t4's answer; the others moved to 2024
    assert whole["eta_seconds"] == pytest.approx(3 * 3600)
    late = api.get(url, params={"since": "2024-03-01T11:00:00Z", "until": "2024-03-02"}).json()
    assert (late["since"], late["until"]) == (
        "2024-03-01T11:00:00.000000Z",
        "2024-03-02T00:00:00.000000Z",
    )
    assert late["throughput"] == [{"hour": "2024-03-01T12", "completed": 1}]
    assert late["labels"] == [{"label": "cat", "count": 1}]
    assert [t["task"] for t in late["lowest_confidence"]] == [ids[2]]
    assert (late["answers"], late["workers_active"]) == (2, 2)
    assert late["mean_answer_ms"] == pytest.approx(2500)
    assert late["total"] == 6  # the state now: time filters leave it alone
    early = api.get(url, params={"until": "2024-03-01T10:30:00"}).json()
    assert early["throughput"] == [{"hour": "2024-03-01T10", "completed": 1}]
    assert (early["answers"], early["mean_answer_ms"]) == (2, pytest.approx(1500))
    empty = api.get(url, params={"since": "2030-01-01"}).json()
    assert (empty["throughput"], empty["labels"], empty["lowest_confidence"]) == ([], [], [])
    assert (empty["answers"], empty["workers_active"], empty["mean_answer_ms"]) == (0, 0, None)


def test_dashboard_of_an_empty_project(api):
    pid = cat_dog_project(api)["id"]
    got = api.get(f"/v1/projects/{pid}/dashboard").json()
    assert (got["total"], got["batches"], got["throughput"]) == (0, [], [])
    assert (got["answers"], got["mean_answer_ms"]) == (0, None)
    assert (got["remaining_answers"], got["eta_seconds"]) == (0, 0)


def test_eta_is_unknown_without_recent_answers(api):
    pid = cat_dog_project(api, overlap=3)["id"]
    api.post("/v1/tasks", json={"project": pid, "params": {"n": 1}})
    got = api.get(f"/v1/projects/{pid}/dashboard").json()
    assert (got["remaining_answers"], got["answers_last_hour"], got["eta_seconds"]) == (3, 0, None)


def test_labels_are_empty_for_kinds_without_categories(api, make_worker):
    project = api.post(
        "/v1/projects",
        json={"name": "free text", "kind": "transcription", "params": {}, "gold_rate": 0},
    )
    assert project.status_code == 201, project.text
    pid = project.json()["id"]
    task = api.post("/v1/tasks", json={"project": pid, "params": {"image": "a.png"}}).json()
    answer(make_worker(), pid, {"text": "hello"})
    got = api.get(f"/v1/projects/{pid}/dashboard").json()
    assert (got["counts"]["completed"], got["labels"]) == (1, [])
    assert [t["task"] for t in got["lowest_confidence"]] == [task["id"]]


def test_dashboard_is_for_managers_and_checks_its_input(api, as_role, small_project):
    pid = small_project["project"]
    url = f"/v1/projects/{pid}/dashboard"
    assert_problem(as_role("annotator").get(url), 403, "forbidden")
    assert_problem(as_role(None).get(url), 401)
    assert as_role("manager").get(url).status_code == 200
    assert_problem(api.get("/v1/projects/nope/dashboard"), 404, "project_not_found")
    other = cat_dog_project(api)["id"]
    foreign = {"batch": small_project["batch"]}
    assert_problem(api.get(f"/v1/projects/{other}/dashboard", params=foreign), 404, field="batch")
    assert_problem(api.get(url, params={"since": "yesterday"}), 422, "invalid", "since")
    backwards = {"since": "2024-03-02", "until": "2024-03-01"}
    assert_problem(api.get(url, params=backwards), 422, "invalid", "until")
