"""Model in the loop through the engine, on SQLite and PostgreSQL: the calibration sample
goes to people first, the certified threshold routes sure tasks to the model, the rest
stay with people with the model's pre-label, and the report counts who did what."""

import secrets
from itertools import pairwise

from conftest import assert_problem

from assay.store.sql import Sql, all_rows, run

TARGET = {"target_accuracy": 0.8, "confidence_level": 0.8}


def _project(api, **automation) -> dict:
    settings = (
        {
            "model": {"type": "python", "name": "cat_or_dog"},
            "calibration_share": 0.5,
            "min_training_labels": 2,
        }
        | TARGET
        | automation
    )
    created = api.post(
        "/v1/projects",
        json={
            "name": f"auto-{secrets.token_hex(3)}",
            "kind": "categorization",
            "params": {"labels": ["cat", "dog"]},
            "gold_rate": 0,
            "automation": settings,
        },
    )
    assert created.status_code == 201, created.text
    return created.json()


def _texts(n: int) -> list[str]:
    """Half clear (the model is sure and right), half vague (unsure)."""
    return [f"{'clear' if i % 2 else 'vague'} {'meow' if i % 3 else 'woof'} {i}" for i in range(n)]


def _set_calibration(server, task_id: str, flag: int) -> None:
    with server.store.write() as conn:
        run(
            conn,
            Sql("UPDATE tasks SET calibration = :flag WHERE id = :task"),
            {"flag": flag, "task": task_id},
        )


def _truth(text: str) -> str:
    return "cat" if "meow" in text else "dog"


def _label_everything(worker, project_id: str, after_each=lambda: None) -> None:
    """The worker answers (rightly) every task the project offers them, calling
    `after_each` after each answer."""
    while (
        offered := worker.post("/v1/work/next", json={"project": project_id})
    ).status_code == 200:
        assignment = offered.json()
        label = _truth(assignment["task"]["params"]["text"])
        worker.post(
            f"/v1/assignments/{assignment['id']}/submit", json={"response": {"label": label}}
        )
        after_each()


def test_the_model_takes_the_tasks_it_is_certified_for(api, make_worker):
    project = _project(api)
    body = "\n".join(f'{{"params": {{"text": "{t}"}}}}' for t in _texts(80)).encode()
    assert (
        api.post(f"/v1/projects/{project['id']}/tasks:import", content=body).json()["created"] == 80
    )
    first = api.post(f"/v1/projects/{project['id']}/automation:run").json()
    # A model that needs no training predicts at once, but nothing is certified before
    # people have labelled the calibration sample (half of 80), which goes first.
    assert first["predicted"] == 80 and first["certified"] is None and first["automated"] == 0
    assert first["raised_for_people"] >= 40
    worker = make_worker()
    labelled = []
    for _ in range(44):  # the whole calibration sample comes first, then 4 more
        offered = worker.post("/v1/work/next", json={"project": project["id"]}).json()
        text = offered["task"]["params"]["text"]
        worker.post(
            f"/v1/assignments/{offered['id']}/submit",
            json={"response": {"label": _truth(text)}},
        )
        labelled.append(offered["task"]["id"])
    cycle = api.post(f"/v1/projects/{project['id']}/automation:run").json()
    assert cycle["training_labels"] == 4 and cycle["calibration"]["labelled"] == 40
    assert cycle["certified"] and cycle["certified"]["threshold"] == 0.99, cycle
    assert cycle["automated"] > 0, cycle
    tasks = api.get("/v1/tasks", params={"project": project["id"], "limit": 100}).json()["docs"]
    by_model = [
        t
        for t in tasks
        if t["status"] == "completed" and t["response"].get("provenance") == "model"
    ]
    assert len(by_model) == cycle["automated"]
    assert all("clear" in t["params"]["text"] and t["id"] not in labelled for t in by_model)
    assert all(t["response"]["label"] == _truth(t["params"]["text"]) for t in by_model)
    pending = [t for t in tasks if t["status"] == "pending"]
    assert pending and all("vague" in t["params"]["text"] for t in pending)
    assert all(t["hypothesis"] == {"label": "dog"} for t in pending)  # the model's guess
    offered = worker.post("/v1/work/next", json={"project": project["id"]}).json()
    assert offered["task"]["hypothesis"] is not None  # people see the model's pre-label

    report = api.get(f"/v1/projects/{project['id']}/automation").json()
    overall = report["overall"]
    assert overall["completed_by_model"] == cycle["automated"]
    assert overall["completed_by_people"] == 44
    assert overall["model_certified"]["lower_bound"] >= 0.8
    assert report["model"]["threshold"] == 0.99


def test_no_threshold_without_enough_calibration(api, make_worker):
    project = _project(api, calibration_share=0.1)
    body = "\n".join(f'{{"params": {{"text": "{t}"}}}}' for t in _texts(30)).encode()
    api.post(f"/v1/projects/{project['id']}/tasks:import", content=body)
    api.post(f"/v1/projects/{project['id']}/automation:run")
    worker = make_worker()
    for _ in range(6):
        offered = worker.post("/v1/work/next", json={"project": project["id"]}).json()
        label = _truth(offered["task"]["params"]["text"])
        worker.post(f"/v1/assignments/{offered['id']}/submit", json={"response": {"label": label}})
    cycle = api.post(f"/v1/projects/{project['id']}/automation:run").json()
    assert cycle["certified"] is None and cycle["automated"] == 0


def test_automation_settings_are_checked(api, as_role):
    bad = api.post(
        "/v1/projects",
        json={
            "name": "x",
            "kind": "spans",
            "params": {"labels": ["PER"]},
            "automation": {"target_accuracy": 0.9},
        },
    )
    assert_problem(bad, 422, field="automation")
    worse = api.post(
        "/v1/projects",
        json={
            "name": "x",
            "kind": "categorization",
            "params": {"labels": ["a", "b"]},
            "automation": {"target_accuracy": 1.5, "model": {"type": "nope"}},
        },
    )
    fields = {e["field"] for e in worse.json()["errors"]}
    assert "automation.target_accuracy" in fields
    project = _project(api)
    off = api.patch(f"/v1/projects/{project['id']}", json={"automation": None})
    assert off.status_code == 200 and off.json()["automation"] is None
    assert_problem(
        api.post(f"/v1/projects/{project['id']}/automation:run"), 422, field="automation"
    )
    assert_problem(as_role("annotator").get(f"/v1/projects/{project['id']}/automation"), 403)


def test_the_model_is_one_more_vote_when_people_disagree(api, make_worker, server):
    from assay.engine.refit import refit_project

    project = _project(api, target_accuracy=0.99, confidence_level=0.95, calibration_share=0.5)
    api.patch(f"/v1/projects/{project['id']}", json={"overlap": 2, "consolidation": "ds"})
    # Only texts the model is sure and right about, so the calibration sample (drawn at
    # random) always shows it right: its vote then outweighs the tie whatever the draw.
    texts = [t.replace("vague", "clear") for t in _texts(30)]
    body = "\n".join(f'{{"params": {{"text": "{t}"}}}}' for t in texts).encode()
    api.post(f"/v1/projects/{project['id']}/tasks:import", content=body)
    api.post(f"/v1/projects/{project['id']}/automation:run")
    workers = [make_worker(), make_worker()]
    for worker in workers:  # both label everything right
        _label_everything(worker, project["id"])
    assert refit_project(server.store, project["id"]) == "ds"
    task = api.post(
        "/v1/tasks", json={"project": project["id"], "params": {"text": "clear woof new"}}
    ).json()
    cycle = api.post(f"/v1/projects/{project['id']}/automation:run").json()
    assert cycle["certified"] is None  # 0.99 cannot be certified on 15 items: people decide
    _set_calibration(server, task["id"], 0)  # outside the calibration sample, whatever the draw
    for worker, label in zip(workers, ("cat", "dog"), strict=True):  # they disagree
        offered = worker.post("/v1/work/next", json={"project": project["id"]}).json()
        assert offered["task"]["id"] == task["id"]
        worker.post(f"/v1/assignments/{offered['id']}/submit", json={"response": {"label": label}})
    result = api.get(f"/v1/tasks/{task['id']}").json()["response"]
    assert result["label"] == "dog"  # the model's answer broke the tie


def test_the_background_job_runs_a_cycle_when_a_project_changes(api, server):
    from assay.engine.automation import Automator

    project = _project(api)
    job = Automator(server.store)
    body = "\n".join(f'{{"params": {{"text": "{t}"}}}}' for t in _texts(10)).encode()
    api.post(f"/v1/projects/{project['id']}/tasks:import", content=body)
    assert project["id"] in job.run_once()
    assert project["id"] not in job.run_once()  # nothing changed since
    report = api.get(f"/v1/projects/{project['id']}/automation").json()
    assert report["model"]["last_cycle"]["predicted"] == 10


def test_the_model_has_no_say_in_calibration_labels(api, make_worker, server):
    from assay.engine.refit import refit_project

    project = _project(api, target_accuracy=0.99, confidence_level=0.95, calibration_share=0.5)
    api.patch(f"/v1/projects/{project['id']}", json={"overlap": 2, "consolidation": "ds"})
    body = "\n".join(f'{{"params": {{"text": "{t}"}}}}' for t in _texts(30)).encode()
    api.post(f"/v1/projects/{project['id']}/tasks:import", content=body)
    workers = [make_worker(), make_worker()]
    for worker in workers:
        _label_everything(worker, project["id"])
    refit_project(server.store, project["id"])
    task = api.post(
        "/v1/tasks", json={"project": project["id"], "params": {"text": "clear woof new"}}
    ).json()
    api.post(f"/v1/projects/{project['id']}/automation:run")
    _set_calibration(server, task["id"], 1)  # in the calibration sample
    for worker, label in zip(workers, ("cat", "dog"), strict=True):
        offered = worker.post("/v1/work/next", json={"project": project["id"]}).json()
        worker.post(f"/v1/assignments/{offered['id']}/submit", json={"response": {"label": label}})
    result = api.get(f"/v1/tasks/{task['id']}").json()["response"]
    assert result["label"] == "cat"  # people's tie, decided without the model


def test_a_model_that_cannot_answer_is_a_clear_error_and_changes_nothing(api, make_worker):
    from conftest import free_port

    project = _project(api, model={"type": "http", "url": f"http://127.0.0.1:{free_port()}/"})
    body = "\n".join(f'{{"params": {{"text": "{t}"}}}}' for t in _texts(4)).encode()
    api.post(f"/v1/projects/{project['id']}/tasks:import", content=body)
    failed = api.post(f"/v1/projects/{project['id']}/automation:run")
    assert_problem(failed, 502, code="model_unavailable")
    tasks = api.get("/v1/tasks", params={"project": project["id"]}).json()["docs"]
    assert [t["status"] for t in tasks] == ["pending"] * 4
    assert all(t["hypothesis"] is None for t in tasks)


def test_a_model_is_asked_about_each_task_once(api):
    from automation_helpers import ASKED

    model = {"type": "python", "name": "counted_cat_or_dog"}
    project = _project(api, model=model)
    first = [f"clear meow {secrets.token_hex(4)}" for _ in range(6)]
    body = "\n".join(f'{{"params": {{"text": "{t}"}}}}' for t in first).encode()
    api.post(f"/v1/projects/{project['id']}/tasks:import", content=body)
    assert api.post(f"/v1/projects/{project['id']}/automation:run").json()["predicted"] == 6
    assert sorted(t for t in ASKED if t in first) == sorted(first)
    again = api.post(f"/v1/projects/{project['id']}/automation:run").json()
    assert again["predicted"] == 6  # every pending task still has its prediction ...
    assert sorted(t for t in ASKED if t in first) == sorted(first)  # ... asked for once
    late = f"vague woof {secrets.token_hex(4)}"
    new = api.post("/v1/tasks", json={"project": project["id"], "params": {"text": late}})
    assert new.status_code == 201
    api.post(f"/v1/projects/{project['id']}/automation:run")
    assert ASKED.count(late) == 1 and len([t for t in ASKED if t in first]) == 6


_CALIBRATION = Sql("SELECT id, calibration FROM tasks WHERE project_id = :project")


def test_calibration_tasks_get_more_answers(api, make_worker, server):
    project = _project(api, calibration_overlap=3, calibration_share=0.5)
    body = "\n".join(f'{{"params": {{"text": "{t}"}}}}' for t in _texts(8)).encode()
    api.post(f"/v1/projects/{project['id']}/tasks:import", content=body)
    api.post(f"/v1/projects/{project['id']}/automation:run")
    with server.store.read() as conn:
        drawn = dict(all_rows(conn, _CALIBRATION, {"project": project["id"]}))
    assert sorted(drawn.values()) == [0, 0, 0, 0, 1, 1, 1, 1]
    for worker in (make_worker(), make_worker(), make_worker()):
        _label_everything(worker, project["id"])
    tasks = api.get("/v1/tasks", params={"project": project["id"], "limit": 100}).json()["docs"]
    answers = {t["id"]: t["response"]["annotations"] for t in tasks if t["status"] == "completed"}
    assert answers == {task: 3 if flag else 1 for task, flag in drawn.items()}


def test_a_request_does_not_wait_for_a_running_cycle(api):
    from assay.engine.automation import _ONE_CYCLE_AT_A_TIME

    project = _project(api)
    with _ONE_CYCLE_AT_A_TIME:  # a long fit under way in this server process
        busy = api.post(f"/v1/projects/{project['id']}/automation:run")
    assert_problem(busy, 409, code="automation_running")
    assert api.post(f"/v1/projects/{project['id']}/automation:run").status_code == 200


def test_a_slow_model_is_refitted_only_when_its_labels_have_grown(api, make_worker):
    model = {"type": "text_classifier", "fields": ["text"], "refit_growth": 2}
    project = _project(api, model=model, calibration_share=0.1)
    body = "\n".join(f'{{"params": {{"text": "{t}"}}}}' for t in _texts(24)).encode()
    api.post(f"/v1/projects/{project['id']}/tasks:import", content=body)
    fits = []  # (training labels, model version) of each cycle after the first fit

    def cycle() -> None:
        report = api.post(f"/v1/projects/{project['id']}/automation:run").json()
        if report["model_version"] is not None:
            fits.append((report["training_labels"], report["model_version"]))

    _label_everything(make_worker(), project["id"], after_each=cycle)
    versions = list(dict.fromkeys(v for _, v in fits))
    assert len(versions) >= 2 and len(fits) > len(versions)  # some cycles kept the model
    fitted_on = {v: n for n, v in reversed(fits)}  # labels when each version was fitted
    for earlier, later in pairwise(versions):
        assert fitted_on[later] >= 2 * fitted_on[earlier]


def test_gold_tasks_show_the_model_pre_label_like_any_other(api, make_worker):
    """A pre-label missing only on gold tasks would point them out: gold gets the model's
    guess too, and is still never completed by the model."""
    project = _project(api)
    api.patch(f"/v1/projects/{project['id']}", json={"gold_rate": 1.0})
    text = f"clear meow {secrets.token_hex(4)}"
    gold = api.post(
        "/v1/tasks",
        json={"project": project["id"], "params": {"text": text}, "gold": {"label": "cat"}},
    )
    assert gold.status_code == 201, gold.text
    body = "\n".join(f'{{"params": {{"text": "{t}"}}}}' for t in _texts(10)).encode()
    api.post(f"/v1/projects/{project['id']}/tasks:import", content=body)
    api.post(f"/v1/projects/{project['id']}/automation:run")
    offered = make_worker().post("/v1/work/next", json={"project": project["id"]}).json()
    assert offered["task"]["id"] == gold.json()["id"]
    assert offered["task"]["hypothesis"] == {"label": "cat"}
    assert api.get(f"/v1/tasks/{gold.json()['id']}").json()["status"] == "pending"
