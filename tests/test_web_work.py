"""The annotator's and reviewer's pages in a real browser (Debian's Chromium): sign-in,
labelling with the keyboard only, drafts that survive a reload, review with a fix, the
worker's own figures, and what the browser is never sent."""

import secrets

import httpx
import pytest
from conftest import auth, cat_dog_project
from playwright.sync_api import expect


@pytest.fixture(autouse=True)
def _one_backend(backend):
    """The pages are the same on both databases; the engine tests cover both."""
    if backend != "sqlite":
        pytest.skip("browser tests run against the SQLite server")


def _tasks(api, project_id: str, n: int, **fields) -> list[str]:
    ids = []
    for i in range(n):
        body = {"project": project_id, "params": {"text": f"item {i}"}} | fields
        created = api.post("/v1/tasks", json=body)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    return ids


def _worker(api, role="annotator") -> dict:
    body = {"name": f"web-{secrets.token_hex(2)}", "role": role}
    created = api.post("/v1/workers", json=body)
    assert created.status_code == 201, created.text
    return created.json()


def _ready(page, task_id: str | None = None) -> str:
    """Wait until the widget shows a task (this one, if given); return its id."""
    selector = "#widget[data-state=ready]"
    if task_id:
        selector += f'[data-task-id="{task_id}"]'
    page.wait_for_selector(selector)
    return page.get_attribute("#widget", "data-task-id")


def test_sign_in_rejects_a_bad_key_and_signs_out(open_page, api):
    page = open_page(None, "/login")
    page.fill("#key", "assay_not-a-key")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "That key is unknown or revoked."
    worker = _worker(api)
    page.fill("#key", worker["key"])
    page.click("button[type=submit]")
    page.wait_for_url("**/work")
    cookie = next(c for c in page.context.cookies() if c["name"] == "assay_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert worker["key"] not in cookie["value"]
    page.click("text=Sign out")
    page.wait_for_url("**/login")
    page.goto("/work")
    assert "/login?next=/work" in page.url


def test_session_cookie_needs_the_csrf_token_to_change_anything(server, api):
    worker = _worker(api)
    with httpx.Client(base_url=server.url) as browser_like:
        form = browser_like.get("/login")
        csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
        signed = browser_like.post("/login", data={"key": worker["key"], "csrf": csrf})
        assert signed.status_code == 303
        assert browser_like.get("/v1/me").json()["role"] == "annotator"
        refused = browser_like.post("/v1/work/next", json={})
        assert refused.status_code == 403 and refused.json()["code"] == "csrf"
        page = browser_like.get("/work").text
        token = page.split('name="csrf-token" content="')[1].split('"')[0]
        allowed = browser_like.post("/v1/work/next", json={}, headers={"X-CSRF-Token": token})
        assert allowed.status_code in (200, 204)
        refused = browser_like.post("/web/markdown", json={"text": "# hi"})
        assert refused.status_code == 403 and refused.json()["code"] == "csrf"
        headers = {"X-CSRF-Token": token}
        bad = browser_like.post("/web/markdown", json={"txt": "x"}, headers=headers)
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "text"
        rendered = browser_like.post(
            "/web/markdown", json={"text": "# Hi <script>alert(1)</script>"}, headers=headers
        ).json()["html"]
        assert "<h1>Hi" in rendered and "<script>" not in rendered


def test_login_form_needs_its_own_token(server, api):
    worker = _worker(api)
    forged = httpx.post(f"{server.url}/login", data={"key": worker["key"], "csrf": "x"})
    assert forged.status_code == 400 and "assay_session" not in forged.cookies


def test_label_twenty_tasks_with_the_keyboard_and_survive_a_reload(open_page, api, server):
    project = cat_dog_project(api)
    task_ids = _tasks(api, project["id"], 20)
    worker = _worker(api)
    page = open_page(worker["key"], f"/work?project={project['id']}")
    chosen = {}
    for n in range(20):
        task_id = _ready(page)
        digit = "1" if n % 3 else "2"
        page.keyboard.press(digit)
        if n == 10:  # reload in the middle of a task: the draft comes back and is what
            # gets submitted (the label is not pressed again)
            page.reload()
            assert _ready(page) == task_id
            assert "draft" in page.locator("#status").inner_text()
        page.keyboard.press("Enter")
        chosen[task_id] = ["cat", "dog"][int(digit) - 1]
        expect(page.locator("#widget")).not_to_have_attribute("data-task-id", task_id)
    page.wait_for_selector("#widget[data-state=empty]")
    assert set(chosen) == set(task_ids)
    for task_id, label in chosen.items():
        task = api.get(f"/v1/tasks/{task_id}").json()
        assert task["status"] == "completed" and task["response"]["label"] == label
    stats = api.get(f"/v1/workers/{worker['id']}/stats").json()
    assert stats["answers"] == 20 and stats["active_ms"] > 0
    assert page.errors == []


def test_the_browser_never_sees_gold_or_other_workers_answers(open_page, api):
    project = cat_dog_project(api, overlap=2, gold_rate=0.5)
    for i in range(3):
        api.post(
            "/v1/tasks",
            json={"project": project["id"], "params": {"text": f"g{i}"}, "gold": {"label": "dog"}},
        )
    task_ids = _tasks(api, project["id"], 4)
    other = _worker(api)
    with httpx.Client(base_url=str(api.base_url), headers=auth(other["key"])) as client:
        for _ in task_ids:
            offered = client.post("/v1/work/next", json={"project": project["id"]}).json()
            client.post(
                f"/v1/assignments/{offered['id']}/submit", json={"response": {"label": "dog"}}
            )
    worker = _worker(api)
    page = open_page(worker["key"])
    seen = []

    def keep(response):
        if response.ok and "json" in response.headers.get("content-type", ""):
            seen.append(response.json())

    page.on("response", keep)
    page.goto(f"/work?project={project['id']}")
    while page.get_attribute("#widget", "data-state") != "empty":
        page.wait_for_selector("#widget[data-state=ready], #widget[data-state=empty]")
        current = page.get_attribute("#widget", "data-task-id")
        if not current:
            break
        page.keyboard.press("1")
        page.keyboard.press("Enter")
        expect(page.locator("#widget")).not_to_have_attribute("data-task-id", current)
    bodies = seen

    def fields(value):
        if isinstance(value, dict):
            for key, inner in value.items():
                yield key, inner
                yield from fields(inner)
        elif isinstance(value, list):
            for inner in value:
                yield from fields(inner)

    found = [(key, inner) for body in bodies for key, inner in fields(body)]
    assert len(bodies) > 5
    assert not [key for key, _ in found if key in ("gold", "correct")]
    assert not [key for key, inner in found if key == "answers" and isinstance(inner, list)]
    assert page.errors == []
    for page_path in ("/projects", f"/projects/{project['id']}", "/workers", "/keys", "/review"):
        page.goto(page_path)
        assert page.locator("h1").inner_text() == "Not allowed", page_path


def test_review_with_a_fix(open_page, api, make_worker, screenshots):
    project = cat_dog_project(api, review_rate=1.0)
    (task_id,) = _tasks(api, project["id"], 1)
    annotator = make_worker()
    offered = annotator.post("/v1/work/next", json={"project": project["id"]}).json()
    annotator.post(f"/v1/assignments/{offered['id']}/submit", json={"response": {"label": "cat"}})
    assert api.get(f"/v1/tasks/{task_id}").json()["status"] == "in_review"
    reviewer = _worker(api, "reviewer")
    page = open_page(reviewer["key"], f"/review?project={project['id']}")
    _ready(page, task_id)
    assert page.locator("#answers li").count() == 1
    page.wait_for_selector("#instructions p")
    page.screenshot(path=str(screenshots / "review.png"), full_page=True)
    page.keyboard.press("2")  # the widget now shows "dog"
    page.keyboard.press("f")
    page.wait_for_selector("#widget[data-state=empty]")
    task = api.get(f"/v1/tasks/{task_id}").json()
    assert task["status"] == "completed"
    assert task["response"]["label"] == "dog" and task["response"]["reviewed"] == "fix"
    assert page.errors == []


def test_my_work_page_shows_my_figures(open_page, api, make_worker, screenshots):
    project = cat_dog_project(api, gold_rate=1.0)
    api.post(
        "/v1/tasks",
        json={"project": project["id"], "params": {"text": "g"}, "gold": {"label": "cat"}},
    )
    _tasks(api, project["id"], 19)  # gold is mixed into real work, never served alone
    worker = _worker(api)
    client = httpx.Client(base_url=str(api.base_url), headers=auth(worker["key"]))
    for answered in range(20):  # a worker's gold figure counts whole windows of 20 answers
        offered = client.post("/v1/work/next", json={"project": project["id"]}).json()
        body = {"response": {"label": "cat"}, "duration_ms": 0 if answered else 65_000}
        client.post(f"/v1/assignments/{offered['id']}/submit", json=body)
    client.close()
    page = open_page(worker["key"], "/me")
    expect(page.locator("#answers")).not_to_have_text("…")
    assert page.locator("#answers").inner_text() == "20"
    assert page.locator("#active").inner_text() == "1:05"
    assert page.locator("#accuracy").inner_text() == "100 %"
    page.screenshot(path=str(screenshots / "me.png"))
    assert page.errors == []


def test_screenshots_of_the_worker_pages(open_page, api, screenshots):
    """Pictures for the README, taken from a real session (and looked at)."""
    project = api.post(
        "/v1/projects",
        json={
            "name": "Movie reviews",
            "kind": "categorization",
            "params": {"labels": ["positive", "negative", "mixed"]},
            "instructions": "# Sentiment\n\nChoose the sentiment the **whole review** expresses.",
            "gold_rate": 0,
        },
    ).json()
    api.post(
        "/v1/tasks",
        json={
            "project": project["id"],
            "params": {"text": "Beautifully shot, but the plot goes nowhere."},
            "hypothesis": {"label": "mixed"},
        },
    )
    page = open_page(None, "/login")
    page.screenshot(path=str(screenshots / "login.png"))
    worker = _worker(api)
    page = open_page(worker["key"], f"/work?project={project['id']}")
    _ready(page)
    page.wait_for_selector("#instructions h1")
    page.screenshot(path=str(screenshots / "work.png"), full_page=True)
    page.keyboard.press("?")
    page.screenshot(path=str(screenshots / "shortcuts.png"))


def test_pages_fit_the_window_at_200_percent_zoom(open_page, api, keys):
    """At 200% zoom a 1280-pixel window is 640 CSS pixels wide: nothing may need sideways
    scrolling."""
    project = cat_dog_project(api)
    _tasks(api, project["id"], 1)
    worker = _worker(api)
    pages = [
        (worker["key"], f"/work?project={project['id']}", "#widget[data-state=ready]"),
        (worker["key"], "/me", "#answers"),
        (keys["manager"], f"/projects/{project['id']}", "h1"),
    ]
    for key, path, ready in pages:
        page = open_page(key, path)
        page.set_viewport_size({"width": 640, "height": 450})
        page.wait_for_selector(ready)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
        assert page.errors == []
