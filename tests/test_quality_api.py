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
    assert careful["agreement"] == 1.0 and lazy["agreement"] < 0.7
    assert careful["model_quality"] > lazy["model_quality"]
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
        "workers": [],
    }
