"""Adaptive overlap and model-based consolidation, through the API on both databases."""

import secrets
import time

import httpx
import pytest
from conftest import assert_problem, auth, cat_dog_project


def new_worker(api, server) -> httpx.Client:
    created = api.post("/v1/workers", json={"name": f"w-{secrets.token_hex(2)}"}).json()
    return httpx.Client(base_url=server.url, headers=auth(created["key"]))


def answer_all(worker: httpx.Client, project: dict, choose) -> list[str]:
    """Answer every task offered, with `choose(task params)`; the task ids answered."""
    seen = []
    while (r := worker.post("/v1/work/next", json={"project": project["id"]})).status_code == 200:
        a = r.json()
        label = choose(a["task"]["params"])
        done = worker.post(f"/v1/assignments/{a['id']}/submit", json={"response": {"label": label}})
        assert done.status_code == 200, done.text
        seen.append(a["task"]["id"])
    return seen


def test_adaptive_overlap_asks_more_people_only_where_they_disagree(api, server):
    project = cat_dog_project(
        api, min_overlap=2, max_overlap=4, target_confidence=0.9, consolidation="mv"
    )
    assert (project["overlap"], project["min_overlap"], project["max_overlap"]) == (2, 2, 4)
    easy = api.post("/v1/tasks", json={"project": project["id"], "params": {"n": 0}}).json()
    hard = api.post("/v1/tasks", json={"project": project["id"], "params": {"n": 1}}).json()
    votes = iter(["cat", "dog", "cat", "dog"])  # the hard task's answers, in order
    for _ in range(4):
        with new_worker(api, server) as worker:
            answer_all(worker, project, lambda p: "cat" if p["n"] == 0 else next(votes))
    easy, hard = (api.get(f"/v1/tasks/{t['id']}").json() for t in (easy, hard))
    assert easy["status"] == "completed"
    assert easy["response"] == {"label": "cat", "confidence": 1.0, "annotations": 2}
    assert hard["status"] == "completed" and hard["response"]["annotations"] == 4
    assert hard["response"]["confidence"] == 0.5  # the cap, not the confidence, ended it


def test_adaptive_settings_are_checked(api):
    url = "/v1/projects"
    base = {"name": "x", "kind": "categorization", "params": {"labels": ["a", "b"]}}
    bad = api.post(url, json=base | {"max_overlap": 3})
    assert_problem(bad, 422, "invalid", "target_confidence")
    bad = api.post(url, json=base | {"min_overlap": 3, "max_overlap": 2, "target_confidence": 0.9})
    assert_problem(bad, 422, "invalid", "max_overlap")
    bad = api.post(url, json=base | {"overlap": 2, "min_overlap": 3})
    assert_problem(bad, 422, "invalid", "min_overlap")
    bad = api.post(url, json=base | {"consolidation": "best"})
    assert_problem(bad, 422, "invalid", "consolidation")
    project = cat_dog_project(api, max_overlap=3, target_confidence=0.95)
    assert project["min_overlap"] == 1
    off = api.patch(
        f"/v1/projects/{project['id']}", json={"max_overlap": None, "target_confidence": None}
    ).json()
    assert off["min_overlap"] == off["overlap"] == 1 and off["max_overlap"] is None


def test_results_use_worker_models_once_fitted(api, server):
    """Two careful workers and one who always says 'cat'. By vote a 'dog' task gets 2/3;
    once Dawid-Skene has seen that the lazy worker's 'cat' means nothing, near 1."""
    project = cat_dog_project(api, overlap=3, consolidation="ds")
    workers = [new_worker(api, server) for _ in range(3)]
    choices = [lambda p: p["truth"], lambda p: p["truth"], lambda p: "cat"]

    def label_round(n: int, start: int) -> list[dict]:
        ids = [
            api.post(
                "/v1/tasks",
                json={"project": project["id"], "params": {"truth": ["cat", "dog"][i % 2]}},
            ).json()["id"]
            for i in range(start, start + n)
        ]
        for worker, choose in zip(workers, choices, strict=True):
            answer_all(worker, project, choose)
        return [api.get(f"/v1/tasks/{t}").json() for t in ids]

    before = label_round(8, 0)
    dogs = [t["response"] for t in before if t["params"]["truth"] == "dog"]
    assert {d["label"] for d in dogs} == {"dog"}
    assert [d["confidence"] for d in dogs] == [pytest.approx(2 / 3)] * len(dogs)
    deadline = time.monotonic() + 60
    while (model := api.get(f"/v1/projects/{project['id']}/quality").json()["model"]) is None:
        assert time.monotonic() < deadline, "no refit within a minute"
        time.sleep(0.3)
    assert model["method"] == "ds" and model["answers"] >= 20
    after = label_round(4, 8)
    for task in after:
        assert task["response"]["label"] == task["params"]["truth"]
        assert task["response"]["confidence"] > 0.95
    for worker in workers:
        worker.close()


def test_workers_surely_below_the_bar_leave_the_queue_until_restored(api, server):
    project = cat_dog_project(api, gold_rate=1.0, min_worker_quality=0.8)
    for i in range(6):
        api.post(
            "/v1/tasks",
            json={"project": project["id"], "params": {"g": i}, "gold": {"label": "cat"}},
        )
    for i in range(40):
        api.post("/v1/tasks", json={"project": project["id"], "params": {"n": i}})
    careless, careful = new_worker(api, server), new_worker(api, server)
    for _ in range(20):  # all six gold tasks first (gold_rate 1), every one wrong
        a = careless.post("/v1/work/next", json={"project": project["id"]}).json()
        answer = {"response": {"label": "dog"}}
        assert careless.post(f"/v1/assignments/{a['id']}/submit", json=answer).is_success
    held = careless.post("/v1/work/next", json={"project": project["id"]}).json()
    url = f"/v1/projects/{project['id']}/removals"
    deadline = time.monotonic() + 60
    while not (removals := api.get(url).json()):
        assert time.monotonic() < deadline, "no removal within a minute"
        time.sleep(0.3)
    assert [r["worker"] for r in removals] == [careless.get("/v1/me").json()["worker"]["id"]]
    assert "gold accuracy 0/6" in removals[0]["reason"] and removals[0]["restored_at"] is None
    assert careless.post("/v1/work/next", json={"project": project["id"]}).status_code == 204
    late = careless.post(
        f"/v1/assignments/{held['id']}/submit", json={"response": {"label": "cat"}}
    )
    assert late.status_code in (200, 409)  # the lease was released; late answers follow the rule
    assert careful.post("/v1/work/next", json={"project": project["id"]}).status_code == 200
    worker_id = removals[0]["worker"]
    restored = api.post(f"{url}/{worker_id}/restore").json()
    assert restored["restored_at"] is not None and restored["restored_by"] is not None
    assert careless.post("/v1/work/next", json={"project": project["id"]}).status_code == 200
    assert_problem(api.post(f"{url}/nobody/restore"), 404)
    for worker in (careless, careful):
        worker.close()
