"""GET /v1/projects/{id}/quality: agreement and worker scores from real answers."""

import secrets

import httpx
import pytest
from conftest import assert_problem, auth


def work(server, key: str, project: str, choose) -> int:
    """Answer every task offered to this worker with `choose(task params)`."""
    done = 0
    with httpx.Client(base_url=server.url, headers=auth(key)) as worker:
        while (r := worker.post("/v1/work/next", json={"project": project})).status_code == 200:
            assignment = r.json()
            label = choose(assignment["task"]["params"])
            answer = {"response": {"label": label}}
            assert worker.post(f"/v1/assignments/{assignment['id']}/submit", json=answer).is_success
            done += 1
    return done


@pytest.fixture
def answered_project(api, server):
    """Three careful workers and one who always says 'cat', on 12 tasks (overlap 4) and
    4 gold tasks (gold_rate 1: every worker sees all of them first)."""
    project = api.post(
        "/v1/projects",
        json={
            "name": f"q-{secrets.token_hex(3)}",
            "kind": "categorization",
            "params": {"labels": ["cat", "dog"]},
            "overlap": 4,
            "gold_rate": 1.0,
        },
    ).json()
    for i in range(12):
        truth = "cat" if i % 3 else "dog"
        api.post("/v1/tasks", json={"project": project["id"], "params": {"truth": truth}})
    for i in range(4):
        truth = "dog" if i % 2 else "cat"
        api.post(
            "/v1/tasks",
            json={"project": project["id"], "params": {"truth": truth}, "gold": {"label": truth}},
        )
    workers = {}
    for name in ("careful1", "careful2", "careful3", "lazy"):
        created = api.post("/v1/workers", json={"name": name}).json()
        workers[name] = created["id"]
        choose = (lambda p: "cat") if name == "lazy" else (lambda p: p["truth"])
        assert work(server, created["key"], project["id"], choose) == 16
    return project, workers


def test_quality_reports_agreement_and_scores_each_worker(api, answered_project):
    project, workers = answered_project
    report = api.get(f"/v1/projects/{project['id']}/quality").json()
    assert report["answers"] == 64 and report["tasks"] == 16 and report["method"] == "mv"
    alpha = report["agreement"]["krippendorff_alpha"]
    assert 0 < alpha["value"] < 1 and alpha["ci95"][0] <= alpha["value"] <= alpha["ci95"][1]
    scores = {w["worker"]: w for w in report["workers"]}
    lazy, careful = scores[workers["lazy"]], scores[workers["careful1"]]
    assert careful["gold"] == {
        "answered": 4,
        "correct": 4,
        "accuracy": 1.0,
        "ci95": [pytest.approx(0.3976, abs=1e-4), 1.0],
    }
    assert lazy["gold"]["correct"] == 2
    assert careful["agreement"] > lazy["agreement"] + 0.2
    assert careful["model_quality"] > lazy["model_quality"]
    low, high = lazy["model_quality_ci95"]
    assert low <= lazy["model_quality"] <= high and high < careful["model_quality_ci95"][1]
    with_ds = api.get(f"/v1/projects/{project['id']}/quality", params={"method": "ds"}).json()
    assert with_ds["method"] == "ds"


def test_quality_is_for_managers_and_checks_its_input(api, answered_project, as_role):
    project, _ = answered_project
    url = f"/v1/projects/{project['id']}/quality"
    assert_problem(as_role("annotator").get(url), 403)
    assert_problem(api.get(url, params={"method": "best"}), 422, "invalid", "method")
    assert_problem(api.get("/v1/projects/nope/quality"), 404)


def test_quality_of_a_project_without_answers(api, project):
    report = api.get(f"/v1/projects/{project['id']}/quality").json()
    assert report == {
        "project": project["id"],
        "answers": 0,
        "tasks": 0,
        "method": None,
        "agreement": None,
        "kind_agreement": None,
        "audits": {"audited": 0, "correct": 0, "accuracy": None, "ci95": [0.0, 1.0]},
        "model": None,
        "workers": [],
    }


def test_audits_measure_batches_and_score_workers(api, server, as_role):
    """Batch of 4 tasks, overlap 1: the careful worker answers two right, the lazy worker
    two wrong; the customer audits all four."""
    project = api.post(
        "/v1/projects",
        json={
            "name": f"a-{secrets.token_hex(3)}",
            "kind": "categorization",
            "params": {"labels": ["cat", "dog"]},
            "gold_rate": 0,
        },
    ).json()
    batch = api.post("/v1/batches", json={"project": project["id"], "name": "b1"}).json()
    tasks = [
        api.post(
            "/v1/tasks",
            json={"project": project["id"], "batch": batch["id"], "params": {"truth": "dog"}},
        ).json()["id"]
        for _ in range(4)
    ]
    pending = tasks[0]
    assert_problem(
        api.post(f"/v1/tasks/{pending}/audit", json={"correct": True}), 409, "not_delivered"
    )
    api.post(f"/v1/batches/{batch['id']}/finalize")
    keys = {}
    for name, choose in (("careful", lambda p: p["truth"]), ("lazy", lambda p: "cat")):
        created = api.post("/v1/workers", json={"name": name}).json()
        keys[name] = created["id"]
        with httpx.Client(base_url=server.url, headers=auth(created["key"])) as worker:
            for _ in range(2):
                a = worker.post("/v1/work/next", json={"project": project["id"]}).json()
                label = choose(a["task"]["params"])
                worker.post(
                    f"/v1/assignments/{a['id']}/submit", json={"response": {"label": label}}
                )
    for task in tasks:
        result = api.get(f"/v1/tasks/{task}").json()["response"]["label"]
        verdict = api.post(f"/v1/tasks/{task}/audit", json={"correct": result == "dog"})
        assert verdict.status_code == 200 and verdict.json()["correct"] == (result == "dog")
    again = api.post(f"/v1/tasks/{tasks[0]}/audit", json={"correct": True, "note": "checked"})
    assert again.json()["note"] == "checked"  # a new verdict replaces the old one
    api.post(f"/v1/tasks/{tasks[0]}/audit", json=verdict_of(api, tasks[0]))
    accuracy = api.get(f"/v1/batches/{batch['id']}/accuracy").json()
    assert accuracy["audited"] == 4 and accuracy["correct"] == 2 and accuracy["accuracy"] == 0.5
    assert accuracy["ci95"] == [pytest.approx(0.0676, abs=1e-4), pytest.approx(0.9324, abs=1e-4)]
    report = api.get(f"/v1/projects/{project['id']}/quality").json()
    assert report["audits"]["audited"] == 4
    scores = {w["worker"]: w["audits"] for w in report["workers"]}
    assert scores[keys["careful"]]["audited"] == 2 and scores[keys["careful"]]["correct"] == 2
    assert scores[keys["lazy"]]["audited"] == 2 and scores[keys["lazy"]]["correct"] == 0
    assert_problem(
        as_role("annotator").post(f"/v1/tasks/{tasks[0]}/audit", json={"correct": 1}), 403
    )
    assert_problem(api.post(f"/v1/tasks/{tasks[0]}/audit", json={}), 422, "invalid", "correct")
    loose = api.post(f"/v1/tasks/{tasks[0]}/audit", json={"correct": "yes"})
    assert_problem(loose, 422, "invalid", "correct")
    assert_problem(api.post("/v1/tasks/nope/audit", json={"correct": True}), 404)
    assert_problem(api.get("/v1/batches/nope/accuracy"), 404)


def verdict_of(api, task: str) -> dict:
    """The true verdict on a task of the audit test (its truth is always 'dog')."""
    return {"correct": api.get(f"/v1/tasks/{task}").json()["response"]["label"] == "dog"}
