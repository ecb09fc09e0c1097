"""A worker's own gold figures cover whole windows of answers and whole days, so that no
single submit moves them (see tests/test_security.py for the probe)."""

from conftest import cat_dog_project
from sqlalchemy import update

from assay.engine.workers import counted_answers
from assay.ids import utc_now
from assay.store.tables import annotations


def test_counted_answers_are_whole_windows_or_whole_days():
    assert [counted_answers(n, 0) for n in (0, 1, 19, 20, 21, 39, 40)] == [0, 0, 0, 20, 20, 20, 40]
    assert counted_answers(25, 23) == 23  # every answer before today counts
    assert counted_answers(45, 3) == 40
    assert counted_answers(7, 0, window=5) == 5


def test_answers_of_earlier_days_count_at_once(api, server, make_worker):
    project = cat_dog_project(api, gold_rate=1.0)
    for i in range(3):
        body = {"project": project["id"], "params": {"g": i}, "gold": {"label": "cat"}}
        api.post("/v1/tasks", json=body)
        api.post("/v1/tasks", json={"project": project["id"], "params": {"n": i}})
    worker = make_worker()
    for label in ("cat", "dog", "cat", "cat"):
        offered = worker.post("/v1/work/next", json={"project": project["id"]}).json()
        worker.post(f"/v1/assignments/{offered['id']}/submit", json={"response": {"label": label}})
    today = worker.get("/v1/me/stats").json()["gold"]
    assert today == {
        "counted_answers": 0,
        "answered": 0,
        "correct": 0,
        "accuracy": None,
        "ci95": [0.0, 1.0],
    }
    yesterday = utc_now(-86_400)
    with server.store.write() as conn:
        conn.execute(
            update(annotations)
            .where(annotations.c.worker_id == worker.worker_id)
            .values(created_at=yesterday)
        )
    counted = worker.get("/v1/me/stats").json()["gold"]
    assert counted["counted_answers"] == 4 and counted["answered"] == 3
    assert counted["correct"] == 2
    manager_view = api.get(f"/v1/workers/{worker.worker_id}/stats").json()["gold"]
    assert manager_view == counted
