"""The work loop through the API, on both databases: leases, overlap, answers, results."""

import random
import secrets
import threading
import time
from collections import Counter

import orjson
import pytest
from conftest import assert_problem
from test_callbacks import Receiver, wait_for


@pytest.fixture
def make_project(api):
    def make(**settings) -> dict:
        body = {
            "name": f"w-{secrets.token_hex(3)}",
            "kind": "categorization",
            "params": {"labels": ["cat", "dog", "bird"]},
            "instructions": "Pick the animal",
        } | settings
        response = api.post("/v1/projects", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    return make


def add_tasks(api, project, n, **fields) -> list[str]:
    return [
        api.post("/v1/tasks", json={"project": project["id"], "params": {"i": i}} | fields).json()[
            "id"
        ]
        for i in range(n)
    ]


def take(worker, project=None):
    response = worker.post("/v1/work/next", json={"project": project["id"]} if project else {})
    assert response.status_code in (200, 204), response.text
    return response.json() if response.status_code == 200 else None


def answer(worker, assignment, label="cat"):
    return worker.post(
        f"/v1/assignments/{assignment['id']}/submit",
        json={"response": {"label": label}, "duration_ms": 1200},
    )


def test_me_tells_a_key_who_it_is(api, make_worker):
    worker = make_worker(skills=["fr"])
    me = worker.get("/v1/me").json()
    assert me["role"] == "annotator" and me["worker"]["id"] == worker.worker_id
    assert me["worker"]["skills"] == ["fr"] and me["worker"]["active"] is True
    assert api.get("/v1/me").json()["worker"] is None


def test_overlap_answers_are_consolidated_by_majority(api, make_project, make_worker):
    project = make_project(overlap=3)
    [task_id] = add_tasks(api, project, 1)
    for label in ("dog", "cat", "dog"):
        worker = make_worker()
        assignment = take(worker, project)
        assert assignment["task"]["id"] == task_id
        assert assignment["project"]["params"]["labels"] == ["cat", "dog", "bird"]
        assert answer(worker, assignment, label).status_code == 200
    task = api.get(f"/v1/tasks/{task_id}").json()
    assert task["status"] == "completed" and task["completed_at"]
    assert task["response"] == {
        "label": "dog",
        "confidence": pytest.approx(2 / 3),
        "annotations": 3,
    }


def test_ties_go_to_the_label_listed_first(api, make_project, make_worker):
    project = make_project(overlap=2)
    [task_id] = add_tasks(api, project, 1)
    for label in ("bird", "dog"):
        worker = make_worker()
        answer(worker, take(worker, project), label)
    assert api.get(f"/v1/tasks/{task_id}").json()["response"]["label"] == "dog"


def test_slots_and_never_the_same_task_twice(api, make_project, make_worker):
    project = make_project(overlap=2)
    add_tasks(api, project, 1)
    a, b, c = make_worker(), make_worker(), make_worker()
    first = take(a, project)
    assert first is not None
    assert take(a, project) is None  # not the same task again
    second = take(b, project)
    assert second["task"]["id"] == first["task"]["id"]
    assert take(c, project) is None  # both slots are leased
    assert b.post(f"/v1/assignments/{second['id']}/skip").json()["status"] == "skipped"
    assert take(b, project) is None  # a skipped task never comes back to b
    third = take(c, project)
    assert third["task"]["id"] == first["task"]["id"]


def test_changing_the_overlap_opens_or_fills_leased_tasks(api, make_project, make_worker):
    project = make_project(overlap=1)
    add_tasks(api, project, 1)
    a, b = make_worker(), make_worker()
    first = take(a, project)
    assert take(b, project) is None  # the only slot is leased
    api.patch(f"/v1/projects/{project['id']}", json={"overlap": 2})
    assert take(b, project)["task"]["id"] == first["task"]["id"]
    api.patch(f"/v1/projects/{project['id']}", json={"overlap": 3})
    assert answer(a, first).status_code == 200
    c = make_worker()
    assert take(c, project)["task"]["id"] == first["task"]["id"]


def test_lowering_the_overlap_completes_tasks_that_have_enough_answers(
    api, make_project, make_worker
):
    with Receiver() as receiver:
        project = make_project(overlap=3, callback_url=receiver.url)
        answered_twice, answered_once, unanswered = add_tasks(api, project, 3)
        workers = [make_worker(), make_worker()]
        for worker in (workers[0], workers[0], workers[1]):
            assert answer(worker, take(worker, project), "dog").status_code == 200
        held = take(workers[0], project)  # a lease on the third task, open while it runs
        assert held["task"]["id"] == unanswered
        assert api.get(f"/v1/tasks/{answered_twice}").json()["status"] == "pending"

        patched = api.patch(f"/v1/projects/{project['id']}", json={"overlap": 2})
        assert patched.status_code == 200, patched.text
        done = api.get(f"/v1/tasks/{answered_twice}").json()
        assert done["status"] == "completed"
        assert done["response"] == {"label": "dog", "confidence": 1.0, "annotations": 2}
        assert wait_for(lambda: len(receiver.received) == 1)
        assert orjson.loads(receiver.received[0]["body"])["task_id"] == answered_twice
        for still_open in (answered_once, unanswered):
            assert api.get(f"/v1/tasks/{still_open}").json()["status"] == "pending"

        # Down to one answer: the task answered once completes too; the unanswered one
        # still waits for its held lease's answer, which completes it.
        api.patch(f"/v1/projects/{project['id']}", json={"overlap": 1})
        assert api.get(f"/v1/tasks/{answered_once}").json()["status"] == "completed"
        assert api.get(f"/v1/tasks/{unanswered}").json()["status"] == "pending"
        assert answer(workers[0], held, "cat").status_code == 200
        assert api.get(f"/v1/tasks/{unanswered}").json()["response"]["label"] == "cat"
        assert wait_for(lambda: len(receiver.received) == 3)


def test_a_lease_on_a_task_settled_by_a_lower_overlap_is_refused(api, make_project, make_worker):
    project = make_project(overlap=2)
    [task_id] = add_tasks(api, project, 1)
    a, b = make_worker(), make_worker()
    first, second = take(a, project), take(b, project)
    assert answer(a, first).status_code == 200
    api.patch(f"/v1/projects/{project['id']}", json={"overlap": 1})
    assert api.get(f"/v1/tasks/{task_id}").json()["status"] == "completed"
    assert_problem(answer(b, second, "dog"), 409, "task_not_open")
    assert api.get(f"/v1/tasks/{task_id}").json()["response"]["label"] == "cat"


def test_priority_first_then_oldest(api, make_project, make_worker):
    project = make_project()
    low, high_old, high_new = (
        add_tasks(api, project, 1, priority=0)[0],
        add_tasks(api, project, 1, priority=5)[0],
        add_tasks(api, project, 1, priority=5)[0],
    )
    worker = make_worker()
    order = []
    while (assignment := take(worker, project)) is not None:
        order.append(assignment["task"]["id"])
        answer(worker, assignment)
    assert order == [high_old, high_new, low]


def test_staging_batches_wait_for_finalize_and_complete(api, make_project, make_worker):
    project = make_project()
    batch = api.post("/v1/batches", json={"project": project["id"], "name": "b"}).json()
    ids = add_tasks(api, project, 2, batch=batch["id"])
    worker = make_worker()
    assert take(worker, project) is None
    api.post(f"/v1/batches/{batch['id']}/finalize")
    api.post(f"/v1/tasks/{ids[1]}/cancel")
    assignment = take(worker, project)
    assert assignment["task"]["id"] == ids[0]
    assert api.get(f"/v1/batches/{batch['id']}").json()["status"] == "in_progress"
    answer(worker, assignment)
    done = api.get(f"/v1/batches/{batch['id']}").json()
    assert done["status"] == "completed" and done["completed_at"]
    counts = api.get(f"/v1/batches/{batch['id']}/status").json()["counts"]
    assert counts == {"pending": 0, "in_review": 0, "completed": 1, "canceled": 1, "error": 0}


def test_skills_and_members_decide_who_gets_work(api, make_project, make_worker):
    skilled = make_project(required_skills=["medical"])
    private = make_project(members_only=True)
    add_tasks(api, skilled, 1)
    add_tasks(api, private, 1)
    novice, doctor = make_worker(), make_worker(skills=["medical", "fr"])
    assert take(novice, skilled) is None and take(doctor, skilled) is not None
    assert take(novice, private) is None
    response = api.post(
        f"/v1/projects/{private['id']}/members", json={"workers": [novice.worker_id]}
    )
    assert response.json()["workers"] == [novice.worker_id]
    assert take(novice, private) is not None
    bad = api.post(f"/v1/projects/{private['id']}/members", json={"workers": ["nope"]})
    assert_problem(bad, 404, "worker_not_found", "workers[0]")


def test_expired_lease_frees_the_slot_and_a_late_answer_is_refused(api, make_project, make_worker):
    project = make_project(lease_seconds=1)
    [task_id] = add_tasks(api, project, 1)
    slow, quick = make_worker(), make_worker()
    late = take(slow, project)
    time.sleep(1.2)
    assert_problem(slow.post(f"/v1/assignments/{late['id']}/heartbeat"), 409, "lease_not_active")
    mine = take(quick, project)
    assert mine["task"]["id"] == task_id
    assert_problem(answer(slow, late), 409, "task_not_open")
    assert answer(quick, mine).status_code == 200
    assert api.get(f"/v1/tasks/{task_id}").json()["response"]["annotations"] == 1


def test_a_late_answer_is_taken_while_the_task_still_needs_it(api, make_project, make_worker):
    project = make_project(lease_seconds=1)
    [task_id] = add_tasks(api, project, 1)
    worker = make_worker()
    assignment = take(worker, project)
    time.sleep(1.2)
    take(make_worker(), make_project())  # any claim sweeps expired leases
    assert answer(worker, assignment).status_code == 200
    assert api.get(f"/v1/tasks/{task_id}").json()["status"] == "completed"


def test_heartbeat_extends_the_lease(api, make_project, make_worker):
    project = make_project(lease_seconds=60)
    add_tasks(api, project, 1)
    worker = make_worker()
    assignment = take(worker, project)
    time.sleep(0.01)
    beat = worker.post(f"/v1/assignments/{assignment['id']}/heartbeat")
    assert beat.status_code == 200 and beat.json()["expires_at"] > assignment["expires_at"]


def test_submit_is_idempotent_and_validated(api, make_project, make_worker):
    project = make_project(overlap=2)
    add_tasks(api, project, 1)
    worker = make_worker()
    assignment = take(worker, project)
    wrong = worker.post(
        f"/v1/assignments/{assignment['id']}/submit", json={"response": {"label": "fish"}}
    )
    assert_problem(wrong, 422, "invalid", "response.label")
    first = answer(worker, assignment, "cat")
    again = answer(worker, assignment, "cat")
    assert first.status_code == again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert_problem(answer(worker, assignment, "dog"), 409, "already_answered")


def test_multi_label_projects(api, make_project, make_worker):
    project = make_project(overlap=3, params={"labels": ["cat", "dog", "bird"], "multi": True})
    [task_id] = add_tasks(api, project, 1)
    for labels in (["cat", "dog"], ["cat"], ["cat", "bird"]):
        worker = make_worker()
        assignment = take(worker, project)
        wrong = worker.post(
            f"/v1/assignments/{assignment['id']}/submit", json={"response": {"label": "cat"}}
        )
        assert_problem(wrong, 422, field="response.labels")
        ok = worker.post(
            f"/v1/assignments/{assignment['id']}/submit", json={"response": {"labels": labels}}
        )
        assert ok.status_code == 200, ok.text
    assert api.get(f"/v1/tasks/{task_id}").json()["response"]["labels"] == ["cat"]


def test_blocked_worker_is_refused_and_their_leases_released(api, make_project, make_worker):
    project = make_project()
    add_tasks(api, project, 1)
    bad, good = make_worker(), make_worker()
    assignment = take(bad, project)
    assert take(good, project) is None
    blocked = api.post(f"/v1/workers/{bad.worker_id}/block").json()
    assert blocked["active"] is False and blocked["blocked_at"]
    assert_problem(bad.post("/v1/work/next", json={}), 403, "worker_blocked")
    assert_problem(answer(bad, assignment), 403, "worker_blocked")
    assert take(good, project) is not None
    assert api.post(f"/v1/workers/{bad.worker_id}/unblock").json()["active"] is True


def test_workers_see_only_their_own_work(api, make_project, make_worker, as_role):
    project = make_project()
    [task_id] = add_tasks(api, project, 1)
    worker, other = make_worker(), make_worker()
    assignment = take(worker, project)
    assert_problem(answer(other, assignment), 404, "assignment_not_found")
    assert_problem(other.post(f"/v1/assignments/{assignment['id']}/skip"), 404)
    for path in (
        f"/v1/tasks/{task_id}",
        "/v1/tasks",
        f"/v1/projects/{project['id']}",
        f"/v1/projects/{project['id']}/export",
        "/v1/workers",
    ):
        assert_problem(worker.get(path), 403, "forbidden")
    assert_problem(api.post("/v1/work/next", json={}), 403, "forbidden")
    assert_problem(as_role("manager").post("/v1/work/next", json={}), 403, "forbidden")


def test_workers_admin_api(api, make_worker):
    worker = make_worker(skills=["a"])
    got = api.get(f"/v1/workers/{worker.worker_id}").json()
    assert got["skills"] == ["a"] and got["role"] == "annotator"
    patched = api.patch(f"/v1/workers/{worker.worker_id}", json={"skills": ["a", "b"]}).json()
    assert patched["skills"] == ["a", "b"]
    listed = api.get("/v1/workers", params={"limit": 100}).json()
    assert worker.worker_id in [w["id"] for w in listed["docs"]] or listed["next_token"]
    assert_problem(api.get("/v1/workers/nope"), 404, "worker_not_found")
    assert_problem(api.post("/v1/workers", json={"name": "x", "role": "admin"}), 422, field="role")


def test_concurrent_workers_keep_every_invariant(api, server, make_project, make_worker):
    """8 workers in threads, overlap 2, random skips: no slot is ever handed out twice."""
    project = make_project(overlap=2)
    task_ids = set(add_tasks(api, project, 40))
    workers = [make_worker() for _ in range(8)]
    acknowledged: list[tuple[str, str]] = []
    lock = threading.Lock()

    def run(worker, seed):
        rng = random.Random(seed)
        while (assignment := take(worker, project)) is not None:
            if rng.random() < 0.15:
                worker.post(f"/v1/assignments/{assignment['id']}/skip")
                continue
            response = answer(worker, assignment, rng.choice(["cat", "dog"]))
            if response.status_code == 200:
                with lock:
                    acknowledged.append((assignment["task"]["id"], worker.worker_id))

    threads = [threading.Thread(target=run, args=(w, i)) for i, w in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    per_task = Counter(task for task, _ in acknowledged)
    assert len(set(acknowledged)) == len(acknowledged)  # no worker answered a task twice
    assert max(per_task.values()) <= 2
    from sqlalchemy import func, select

    from assay.store.tables import annotations, tasks

    with server.store.read() as conn:
        stored = conn.execute(
            select(annotations.c.task_id, func.count())
            .where(annotations.c.task_id.in_(task_ids))
            .group_by(annotations.c.task_id)
        ).all()
        rows = conn.execute(select(tasks).where(tasks.c.project_id == project["id"])).all()
    assert dict(stored) == dict(per_task)  # every acknowledged answer is stored, no more
    for row in rows:
        assert row.leases == 0
        if row.answers == 2:
            assert row.status == "completed" and row.response
        else:
            assert row.status == "pending"
