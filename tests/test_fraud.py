"""Spam rules: the pure rule on simulated workers (its false-positive rate), and through
the engine on SQLite and PostgreSQL (removal with evidence, honest workers spared,
restoring)."""

import secrets

import numpy as np
from conftest import assert_problem, auth, cat_dog_project
from httpx import Client

from assay.engine.refit import refit_project
from assay.quality.fraud import (
    DEFAULT_FAST_ANSWER_MS,
    DEFAULT_MAX_FAST_SHARE,
    DEFAULT_WINDOW,
    fast_answers,
    repeated_label,
)

HONEST_MEDIAN_MS = 6000


def honest_durations(rng: np.random.Generator, n: int) -> list[int]:
    """Active times of one honest worker: log-normal around their own pace."""
    pace = rng.uniform(0.5, 1.5)
    return [int(d) for d in rng.lognormal(np.log(HONEST_MEDIAN_MS * pace), 0.8, n)]


def test_fast_answers_spares_honest_workers_and_flags_the_fast():
    rng = np.random.default_rng(7)
    rule = (DEFAULT_FAST_ANSWER_MS, DEFAULT_MAX_FAST_SHARE, DEFAULT_WINDOW)
    flagged = sum(fast_answers(honest_durations(rng, 60), *rule) is not None for _ in range(10_000))
    assert flagged == 0  # the false-positive rate documented in assay.quality.fraud
    spammer = [int(d) for d in rng.uniform(300, 1200, 20)]
    assert fast_answers(spammer[:19], *rule) is None  # not before a full window
    found = fast_answers(spammer, *rule)
    assert found.code == "fast_answers"
    assert found.evidence == {"fast": 20, "window": 20, "fast_answer_ms": DEFAULT_FAST_ANSWER_MS}


def _worker(api, server) -> Client:
    created = api.post("/v1/workers", json={"name": f"w-{secrets.token_hex(3)}"}).json()
    client = Client(base_url=server.url, headers=auth(created["key"]), timeout=60)
    client.worker_id = created["id"]
    return client


def _answer(worker: Client, project_id: str, n: int, duration_ms: int) -> None:
    for _ in range(n):
        offered = worker.post("/v1/work/next", json={"project": project_id}).json()
        answer = {"response": {"label": "cat"}, "duration_ms": duration_ms}
        done = worker.post(f"/v1/assignments/{offered['id']}/submit", json=answer)
        assert done.status_code == 200, done.text


def test_a_fast_worker_leaves_the_queue_with_the_evidence(api, server):
    project = cat_dog_project(api, fraud={"fast_answer_ms": 1500})
    assert project["fraud"]["fast_answer_ms"] == 1500
    for i in range(60):
        api.post("/v1/tasks", json={"project": project["id"], "params": {"n": i}})
    with _worker(api, server) as fast, _worker(api, server) as careful:
        held = fast.post("/v1/work/next", json={"project": project["id"]}).json()
        _answer(fast, project["id"], 20, 700)
        _answer(careful, project["id"], 20, 5000)
        refit_project(server.store, project["id"])  # the background refit may be first
        removals = api.get(f"/v1/projects/{project['id']}/removals").json()
        assert [r["worker"] for r in removals] == [fast.worker_id]  # the careful one stays
        assert removals[0]["code"] == "fast_answers"
        assert removals[0]["evidence"] == {"fast": 20, "window": 20, "fast_answer_ms": 1500}
        assert "20 of their last 20 answers took under 1500 ms" in removals[0]["reason"]
        # their lease is released and the queue offers them nothing more
        late = fast.post(f"/v1/assignments/{held['id']}/submit", json={"response": {}})
        assert late.status_code >= 400
        assert fast.post("/v1/work/next", json={"project": project["id"]}).status_code == 204
        assert careful.post("/v1/work/next", json={"project": project["id"]}).status_code == 200
        restore = f"/v1/projects/{project['id']}/removals/{fast.worker_id}/restore"
        assert api.post(restore).json()["restored_at"] is not None
        refit_project(server.store, project["id"])  # restored by a manager: not removed again
        assert len(api.get(f"/v1/projects/{project['id']}/removals").json()) == 1


def test_spam_rules_are_checked_and_can_be_switched_off(api):
    project = cat_dog_project(api)
    assert project["fraud"] is None
    url = f"/v1/projects/{project['id']}"
    bad = api.patch(url, json={"fraud": {"fast_answer_ms": 0}})
    assert_problem(bad, 422, field="fraud.fast_answer_ms")
    unknown = api.patch(url, json={"fraud": {"slow_answer_ms": 10}})
    assert_problem(unknown, 422, field="fraud.slow_answer_ms")
    on = api.patch(url, json={"fraud": {"fast_answer_ms": 900, "window": 30}})
    assert on.json()["fraud"]["window"] == 30
    assert api.patch(url, json={"fraud": None}).json()["fraud"] is None


def test_repeated_label_spares_honest_workers_and_flags_one_label_spam():
    rng = np.random.default_rng(3)
    for base in ([0.5, 0.5], [0.7, 0.3], [0.4, 0.3, 0.2, 0.1]):
        k, names = len(base), [f"l{i}" for i in range(len(base))]
        # what other workers answer: right at 0.85 on average, errors spread evenly
        rate = {name: 0.85 * b + 0.15 / k for name, b in zip(names, base, strict=True)}
        flagged = 0
        for _ in range(1000):
            accuracy = rng.uniform(0.7, 0.97)
            truth = rng.choice(k, size=150, p=base)
            answers = [t if rng.random() < accuracy else rng.integers(k) for t in truth]
            labels = [names[a] for a in answers]
            checks = (repeated_label(labels[:i], rate, 50, 1e-4) for i in range(50, 151))
            flagged += any(checks)  # checked after every answer: far more often than refits
        assert flagged <= 1, (base, flagged)
        assert repeated_label([names[-1]] * 50, rate, 50, 1e-4).code == "repeated_label"
        assert repeated_label([names[0]] * 49, rate, 50, 1e-4) is None  # not before a window


def test_one_label_spam_leaves_the_queue_and_honest_workers_stay(api, server):
    fraud = {"repeated_label_chance": 0.0001, "label_window": 20}
    project = cat_dog_project(api, fraud=fraud, overlap=3)
    for i in range(40):
        api.post("/v1/tasks", json={"project": project["id"], "params": {"n": i}})
    workers = [_worker(api, server) for _ in range(3)]
    try:
        for turn in range(20):
            for w, worker in enumerate(workers):
                offered = worker.post("/v1/work/next", json={"project": project["id"]}).json()
                label = "dog" if w == 0 else ("cat", "dog")[(turn + w) % 2]
                answer = {"response": {"label": label}}
                worker.post(f"/v1/assignments/{offered['id']}/submit", json=answer)
        refit_project(server.store, project["id"])
        removals = api.get(f"/v1/projects/{project['id']}/removals").json()
        assert [r["worker"] for r in removals] == [workers[0].worker_id]
        assert removals[0]["code"] == "repeated_label"
        assert removals[0]["evidence"]["label"] == "dog" and removals[0]["evidence"]["count"] == 20
    finally:
        for worker in workers:
            worker.close()
