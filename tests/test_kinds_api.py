"""Kinds through the API: task params and hypotheses checked by the kind, pre-labels served
to workers, uploaded images, the kinds listing and kind-specific export formats."""

import io
import secrets

import httpx
from conftest import assert_problem, cat_dog_project
from PIL import Image


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def test_hypothesis_is_checked_and_served_to_the_worker(api, make_worker):
    project = cat_dog_project(api)
    bad = api.post(
        "/v1/tasks",
        json={"project": project["id"], "params": {"text": "x"}, "hypothesis": {"label": "cow"}},
    )
    assert_problem(bad, 422, field="hypothesis.label")
    created = api.post(
        "/v1/tasks",
        json={"project": project["id"], "params": {"text": "x"}, "hypothesis": {"label": "dog"}},
    )
    assert created.status_code == 201, created.text
    assert created.json()["hypothesis"] == {"label": "dog"}
    worker = make_worker()
    offered = worker.post("/v1/work/next", json={"project": project["id"]}).json()
    assert offered["task"]["hypothesis"] == {"label": "dog"}


def test_task_without_a_hypothesis_is_served_without_one(api, make_worker):
    project = cat_dog_project(api)
    api.post("/v1/tasks", json={"project": project["id"], "params": {"text": "y"}})
    offered = make_worker().post("/v1/work/next", json={"project": project["id"]}).json()
    assert "hypothesis" not in offered["task"] or offered["task"]["hypothesis"] is None


def test_import_checks_hypotheses_row_by_row(api):
    project = cat_dog_project(api)
    body = (
        b'{"params": {"text": "a"}, "hypothesis": {"label": "cat"}}\n'
        b'{"params": {"text": "b"}, "hypothesis": {"label": "eel"}}\n'
    )
    report = api.post(f"/v1/projects/{project['id']}/tasks:import", content=body).json()
    assert report["created"] == 1 and report["rejected"] == 1
    assert report["errors"][0]["line"] == 2
    assert report["errors"][0]["field"] == "hypothesis.label"


def test_kinds_are_listed_with_their_schemas(api):
    kinds = {k["name"]: k for k in api.get("/v1/kinds").json()["items"]}
    assert "categorization" in kinds
    assert "labels" in kinds["categorization"]["params_schema"]["properties"]
    assert kinds["categorization"]["categorical"] is True
    one = api.get("/v1/kinds/categorization")
    assert one.status_code == 200 and one.json()["widget"] == "labels"
    assert_problem(api.get("/v1/kinds/nope"), 404, code="kind_not_found")


def test_export_rejects_a_format_the_kind_has_not(api):
    project = cat_dog_project(api)
    response = api.get(f"/v1/projects/{project['id']}/export", params={"format": "coco"})
    body = assert_problem(response, 422, field="format")
    assert "jsonl" in body["errors"][0]["message"]


def test_uploaded_image_is_served_and_sizes_its_tasks(api, make_worker, as_role):
    data = _png(64, 48)
    uploaded = api.post("/v1/media", content=data, headers={"Content-Type": "image/png"})
    assert uploaded.status_code == 201, uploaded.text
    media = uploaded.json()
    assert (media["width"], media["height"], media["content_type"]) == (64, 48, "image/png")
    again = api.post("/v1/media", content=data, headers={"Content-Type": "image/png"})
    assert again.json()["id"] == media["id"]  # idempotent on the bytes
    worker = make_worker()
    served = worker.get(media["url"])
    assert served.status_code == 200 and served.content == data
    assert_problem(as_role("annotator").post("/v1/media", content=data), 403)
    assert httpx.get(str(api.base_url.join(media["url"]))).status_code == 401
    assert_problem(api.post("/v1/media", content=b"not an image"), 422, field="body")

    project = api.post(
        "/v1/projects",
        json={"name": f"p-{secrets.token_hex(3)}", "kind": "boxes", "params": {"labels": ["car"]}},
    ).json()
    task = api.post("/v1/tasks", json={"project": project["id"], "params": {"image": media["url"]}})
    assert task.status_code == 201, task.text
    assert task.json()["params"] | {} == {"image": media["url"], "width": 64, "height": 48}
    outside = {"boxes": [{"x": 40, "y": 10, "width": 30, "height": 10, "label": "car"}]}
    gold = api.post(
        "/v1/tasks",
        json={"project": project["id"], "params": {"image": media["url"]}, "gold": outside},
    )
    assert_problem(gold, 422)
    assert gold.json()["errors"][0]["field"].startswith("gold.boxes[0]")
    missing = api.post(
        "/v1/tasks", json={"project": project["id"], "params": {"image": "/v1/media/" + "0" * 64}}
    )
    assert_problem(missing, 422, field="params.image")


def test_comparisons_rank_the_models_they_compare(api, make_worker, as_role):
    project = api.post(
        "/v1/projects",
        json={"name": f"p-{secrets.token_hex(3)}", "kind": "comparison", "params": {}},
    ).json()
    # m1 beats m2 twice, m2 beats m3 once: m1 > m2 > m3.
    for models, preferred in ((["m1", "m2"], 0), (["m2", "m1"], 1), (["m3", "m2"], 1)):
        task = {"prompt": "hi", "responses": ["a", "b"], "models": models}
        api.post("/v1/tasks", json={"project": project["id"], "params": task})
        worker = make_worker()
        offered = worker.post("/v1/work/next", json={"project": project["id"]}).json()
        worker.post(
            f"/v1/assignments/{offered['id']}/submit", json={"response": {"preferred": preferred}}
        )
    board = api.get(f"/v1/projects/{project['id']}/leaderboard")
    assert board.status_code == 200, board.text
    models = board.json()["models"]
    assert [m["model"] for m in models] == ["m1", "m2", "m3"]
    assert [m["comparisons"] for m in models] == [2, 3, 1]
    assert_problem(as_role("annotator").get(f"/v1/projects/{project['id']}/leaderboard"), 403)
    other = cat_dog_project(api)
    assert_problem(api.get(f"/v1/projects/{other['id']}/leaderboard"), 409, code="no_leaderboard")


def test_stats_show_how_often_a_worker_keeps_the_prelabel(api, make_worker):
    project = cat_dog_project(api)
    for hypothesis in ({"label": "dog"}, {"label": "dog"}, None):
        body = {"project": project["id"], "params": {"text": "x"}, "hypothesis": hypothesis}
        api.post("/v1/tasks", json=body)
    worker = make_worker()
    for label in ("dog", "cat", "cat"):  # keeps, changes, (no pre-label)
        offered = worker.post("/v1/work/next", json={"project": project["id"]}).json()
        worker.post(f"/v1/assignments/{offered['id']}/submit", json={"response": {"label": label}})
    stats = api.get(f"/v1/workers/{worker.worker_id}/stats").json()
    assert stats["prelabels"] == {"shown": 2, "kept": 1}
