"""Background jobs run once per deployment (job leases), back off when they fail, keep a
bounded number of models, and automation refuses kinds it cannot serve; on SQLite and
PostgreSQL."""

import secrets
import subprocess
import sys
import time

import pytest
from automation_helpers import DOWN
from conftest import assert_problem, cat_dog_project

from assay.automation.models import register_plugins
from assay.engine.automation import RETRY_CAP_S, Automator, ModelCache, retry_delay
from assay.engine.leases import job_lease

HOLD_AND_WAIT = """
import sys, time
from assay.engine.leases import job_lease
from assay.store.db import Store

lease = job_lease(Store(sys.argv[1]), sys.argv[2], ttl_s=float(sys.argv[3]))
print("held" if lease.hold() else "refused", flush=True)
time.sleep(600)
"""


def test_one_process_holds_a_job_at_a_time_until_it_lets_go(database):
    _, store = database
    name = f"job-{secrets.token_hex(3)}"
    first, second = job_lease(store, name), job_lease(store, name)
    assert first.hold() and first.hold()  # kept from round to round
    assert not second.hold()
    assert job_lease(store, f"other-{name}").hold()  # another job: another lease
    first.release()
    assert second.hold() and not first.hold()
    second.release()


def test_a_killed_holder_leaves_the_job_to_another_process(database):
    """The holder renews its lease while it lives, however long that is; once it is killed
    (kill -9, mid-job) another process takes the job over after the lease time."""
    _, store = database
    name, ttl = f"job-{secrets.token_hex(3)}", 3
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_AND_WAIT, str(store.url), name, str(ttl)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        mine = job_lease(store, name, ttl_s=ttl)
        assert not mine.hold()
        with pytest.raises(subprocess.TimeoutExpired):
            holder.wait(2 * ttl)  # lease times pass with the holder alive ...
        assert not mine.hold()  # ... and renewing
    finally:
        holder.kill()
        holder.wait()
    taken = False
    for _ in range(200):
        taken = mine.hold()
        if taken:
            break
        time.sleep(0.1)
    assert taken
    mine.release()


def test_the_model_cache_is_bounded_and_drops_the_least_recently_used():
    cache = ModelCache(2)
    cache.put(("db", "a"), "model a")
    cache.put(("db", "b"), "model b")
    assert cache.get(("db", "a")) == "model a"  # a is now the more recently used
    cache.put(("db", "c"), "model c")
    assert len(cache) == 2
    assert cache.get(("db", "b")) is None
    assert cache.get(("db", "a")) == "model a" and cache.get(("db", "c")) == "model c"


def test_retry_delays_double_up_to_a_cap():
    assert [retry_delay(n, 5) for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert retry_delay(8, 5) == RETRY_CAP_S
    assert retry_delay(10**6, 5) == RETRY_CAP_S


def test_a_failing_model_is_tried_less_and_less_often_until_it_answers(api, server):
    register_plugins(["down=automation_helpers:DOWN"], entry_points=False)
    DOWN.up = False
    project = cat_dog_project(
        api,
        automation={
            "model": {"type": "python", "name": "down"},
            "target_accuracy": 0.8,
            "min_training_labels": 2,
        },
    )
    text = f"clear meow {secrets.token_hex(4)}"
    api.post("/v1/tasks", json={"project": project["id"], "params": {"text": text}})
    now = 0.0
    job = Automator(server.store, interval_s=5, clock=lambda: now)
    tried = []
    for now in range(0, 200, 5):
        job.run_once()
        if DOWN.asked.count(text) > len(tried):
            tried.append(now)
    assert tried == [0, 5, 15, 35, 75, 155]  # each wait twice the one before
    DOWN.up = True
    now = 155 + 160
    assert project["id"] in job.run_once()
    assert project["id"] not in job.run_once()  # it answered: nothing changed since


def test_kinds_automation_cannot_serve_refuse_its_settings(api):
    automation = {"model": {"type": "python", "name": "cat_or_dog"}, "target_accuracy": 0.8}
    body = {"name": f"cmp-{secrets.token_hex(3)}", "kind": "comparison", "params": {}}
    refused = api.post("/v1/projects", json=body | {"automation": automation})
    detail = assert_problem(refused, 422, "invalid", "automation")["errors"][0]["message"]
    assert "categorization" in detail
    created = api.post("/v1/projects", json=body)
    assert created.status_code == 201, created.text
    patched = api.patch(f"/v1/projects/{created.json()['id']}", json={"automation": automation})
    assert_problem(patched, 422, "invalid", "automation")
    run = api.post(f"/v1/projects/{created.json()['id']}/automation:run")
    assert_problem(run, 422, "invalid", "automation")


def test_a_multi_label_project_refuses_automation(api):
    """A model answers one label per task: a categorization project with `multi` is
    refused the settings (and keeps none)."""
    automation = {"model": {"type": "python", "name": "cat_or_dog"}, "target_accuracy": 0.8}
    body = {
        "name": f"multi-{secrets.token_hex(3)}",
        "kind": "categorization",
        "params": {"labels": ["a", "b"], "multi": True},
    }
    refused = api.post("/v1/projects", json=body | {"automation": automation})
    detail = assert_problem(refused, 422, "invalid", "automation")["errors"][0]["message"]
    assert "multi" in detail
    created = api.post("/v1/projects", json=body)
    assert created.status_code == 201, created.text
    patched = api.patch(f"/v1/projects/{created.json()['id']}", json={"automation": automation})
    assert_problem(patched, 422, "invalid", "automation")
    assert api.get(f"/v1/projects/{created.json()['id']}").json()["automation"] is None
