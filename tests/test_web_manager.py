"""The manager's pages in a real browser (Debian Chromium through Playwright), on SQLite.

The dashboard shows the API's figures, importing and settings go through the pages,
annotators are turned away, and no page raises an error. Screenshots of the pages,
filled with some work, are saved (see the `screenshots` fixture).
"""

import json
import secrets
from pathlib import Path

import httpx
import pytest
from conftest import auth, cat_dog_project
from playwright.sync_api import expect
from sqlalchemy import select, update

from assay.ids import utc_now
from assay.store.tables import projects, tasks


@pytest.fixture(autouse=True)
def sqlite_only(backend):
    if backend == "postgres":
        pytest.skip("browser tests run once, on SQLite")


def screenshot(page, folder: Path, name: str) -> None:
    page.screenshot(path=folder / f"{name}.png", full_page=True)


def work_in_turns(server, crew: list[tuple[str, object, int]], project_id: str) -> None:
    """Workers (key, how they choose, ms an answer) take one task each in turn until the
    project offers none of them anything."""
    clients = [httpx.Client(base_url=server.url, headers=auth(key)) for key, _, _ in crew]
    busy = True
    while busy:
        busy = False
        for client, (_, choose, ms) in zip(clients, crew, strict=True):
            offered = client.post("/v1/work/next", json={"project": project_id})
            if offered.status_code != 200:
                continue
            busy = True
            assignment = offered.json()
            label = choose(assignment["task"]["params"])
            body = {"response": {"label": label}, "duration_ms": ms}
            submitted = client.post(f"/v1/assignments/{assignment['id']}/submit", json=body)
            assert submitted.is_success, submitted.text
    for client in clients:
        client.close()


WORKERS = {  # name: (how they choose, milliseconds an answer)
    "Ada (careful)": (lambda p: p["truth"], 6500),
    "Ben (quick)": (lambda p: p["truth"] if p["n"] % 4 else "bird", 1800),
    "Cy (always cat)": (lambda p: "cat", 900),
    "Dee (steady)": (lambda p: p["truth"], 4200),
}
TRUTHS = ("cat", "dog", "cat", "bird", "dog")


@pytest.fixture(scope="session")
def crew(server, keys) -> list[tuple[str, object, int]]:
    """The four workers of WORKERS (created once): (key, how they choose, ms an answer)."""
    with httpx.Client(base_url=server.url, headers=auth(keys["admin"])) as admin:
        return [
            (admin.post("/v1/workers", json={"name": name}).json()["key"], choose, ms)
            for name, (choose, ms) in WORKERS.items()
        ]


@pytest.fixture
def busy_project(api, server, crew) -> dict:
    """A pet-photo project: two released batches answered by four workers (overlap 2,
    with gold), a staging batch, and completions spread over the last hours."""
    project = api.post(
        "/v1/projects",
        json={
            "name": f"Pet photos {secrets.token_hex(2)}",
            "kind": "categorization",
            "params": {"labels": ["cat", "dog", "bird"]},
            "instructions": "# Which animal is in the photo?",
            "overlap": 2,
            "gold_rate": 0.2,
        },
    ).json()
    pid = project["id"]
    n = 0
    batch_ids = {}
    for name, size in (("week 1", 14), ("week 2", 10), ("week 3", 6)):
        batch_ids[name] = api.post("/v1/batches", json={"project": pid, "name": name}).json()["id"]
        rows = []
        for _ in range(size):
            n += 1
            rows.append({"params": {"n": n, "truth": TRUTHS[n % 5]}, "unique_id": f"photo-{n}"})
        body = "\n".join(json.dumps(row) for row in rows)
        imported = api.post(
            f"/v1/projects/{pid}/tasks:import", params={"batch": batch_ids[name]}, content=body
        )
        assert imported.json()["created"] == size
    for i, truth in enumerate(("cat", "dog", "bird")):
        gold = {"project": pid, "params": {"n": 100 + i, "truth": truth}, "gold": {"label": truth}}
        assert api.post("/v1/tasks", json=gold).status_code == 201
    for name in ("week 1", "week 2"):
        api.post(f"/v1/batches/{batch_ids[name]}/finalize")
    work_in_turns(server, crew, pid)
    completed = api.get("/v1/tasks", params={"project": pid, "status": "completed"}).json()
    with server.store.write() as conn:  # spread the completions over the last seven hours
        for i, task in enumerate(completed["docs"]):
            at = utc_now(-3600 * (7 - i * 7 // len(completed["docs"])))
            conn.execute(update(tasks).where(tasks.c.id == task["id"]).values(completed_at=at))
    return {"id": pid, "batches": batch_ids}


def ready_dashboard(open_page, key: str, project_id: str, query: str = ""):
    page = open_page(key, f"/projects/{project_id}{query}")
    page.wait_for_selector("#dashboard[data-state=ready]")
    page.wait_for_selector("#quality[data-state=ready]")
    return page


def assert_figures(page, board: dict) -> None:
    for key in ("total", "answers", "workers_active", "answers_last_hour", "remaining_answers"):
        expect(page.get_by_test_id(key)).to_have_text(f"{board[key]:,}")
    for key in ("completed", "pending", "in_review", "canceled"):
        expect(page.get_by_test_id(key)).to_have_text(f"{board['counts'][key]:,}")
    for key, value in (("mean_answer", board["mean_answer_ms"]), ("eta", board["eta_seconds"])):
        shown = page.get_by_test_id(key).get_attribute("data-value")
        assert float(shown) == pytest.approx(value)


def test_dashboard_shows_the_api_figures(api, keys, open_page, busy_project, screenshots):
    pid = busy_project["id"]
    page = ready_dashboard(open_page, keys["manager"], pid)
    board = api.get(f"/v1/projects/{pid}/dashboard").json()
    assert board["counts"]["completed"] > 0 and board["eta_seconds"] > 0
    assert_figures(page, board)
    progress = page.locator("#progress-table tbody tr")
    assert progress.count() == len(board["batches"]) == 3
    first = board["batches"][0]
    assert progress.first.locator("th").inner_text() == "week 1"
    assert progress.first.locator("td").nth(3).inner_text() == str(first["counts"]["completed"])
    for slot in ("progress", "throughput", "labels", "quality"):
        chart = page.locator(f"#{slot}-chart svg")
        assert chart.get_attribute("role") == "img"
        assert chart.get_attribute("aria-label")
        assert chart.locator("title").first.text_content()
    label_chart = page.locator("#labels-chart svg").get_attribute("aria-label")
    for label in board["labels"]:
        assert f"{label['label']}: {label['count']} (" in label_chart
    links = page.locator("#lowest-table tbody a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
        t["url"] for t in board["lowest_confidence"]
    ]
    quality = api.get(f"/v1/projects/{pid}/quality").json()
    alpha = page.get_by_test_id("alpha").get_attribute("data-value")
    assert float(alpha) == pytest.approx(quality["agreement"]["krippendorff_alpha"]["value"])
    assert page.locator("#workers-table tbody tr").count() == len(quality["workers"]) == 4
    exports = page.locator("#exports a")
    assert exports.first.get_attribute("href") == f"/v1/projects/{pid}/export?format=jsonl"
    screenshot(page, screenshots, "dashboard")
    assert page.errors == []


def test_dashboard_filters_by_batch_and_dates(api, keys, open_page, busy_project):
    pid, week2 = busy_project["id"], busy_project["batches"]["week 2"]
    page = ready_dashboard(open_page, keys["manager"], pid)
    page.select_option("#batch", week2)
    page.click("#filters button[type=submit]")
    assert_figures(page, api.get(f"/v1/projects/{pid}/dashboard", params={"batch": week2}).json())
    assert f"batch={week2}" in page.url
    today = utc_now()[:10]
    page.fill("#since", today)
    page.fill("#until", today)
    page.click("#filters button[type=submit]")
    dated = api.get(f"/v1/projects/{pid}/dashboard", params={"batch": week2, "since": today})
    assert_figures(page, dated.json())
    reopened = ready_dashboard(open_page, keys["manager"], pid, f"?batch={week2}&since={today}")
    expect(reopened.locator("#batch")).to_have_value(week2)
    assert_figures(reopened, dated.json())
    assert page.errors == [] and reopened.errors == []


def test_an_annotator_gets_the_403_page(keys, open_page, busy_project):
    page = open_page(keys["annotator"])
    page.errors.clear()  # the annotator's own start page is not under test here
    response = page.goto(f"/projects/{busy_project['id']}")
    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    assert page.goto("/workers").status == 403
    assert page.errors == []


def test_importing_a_file_creates_the_tasks(api, keys, open_page, tmp_path, screenshots):
    pid = cat_dog_project(api)["id"]
    batch = api.post("/v1/batches", json={"project": pid, "name": "delivery 1"}).json()["id"]
    existing = {"project": pid, "params": {"n": 6}, "unique_id": "u6"}
    assert api.post("/v1/tasks", json=existing).status_code == 201
    lines = [json.dumps({"params": {"n": i}, "unique_id": f"u{i}"}) for i in range(1, 2501)]
    lines[2100] = json.dumps({"unique_id": "no params"})  # line 2101
    lines[2199] = "{not json"  # line 2200
    upload = tmp_path / "tasks.jsonl"
    upload.write_text("\n".join(lines) + "\n")
    page = open_page(keys["manager"], f"/projects/{pid}/import")
    page.wait_for_selector(f"#batch option[value='{batch}']", state="attached")
    page.set_input_files("#file", upload)
    page.select_option("#batch", batch)
    page.click("#import button[type=submit]")
    expect(page.locator("#import-status")).to_have_text("Imported tasks.jsonl.")
    expect(page.get_by_test_id("created")).to_have_text("2,497")
    expect(page.get_by_test_id("duplicate")).to_have_text("1")
    expect(page.get_by_test_id("rejected")).to_have_text("2")
    expect(page.get_by_test_id("progress-text")).to_have_text("2,500 of 2,500 lines sent.")
    assert page.locator("#import-progress").evaluate("p => p.value / p.max") == 1
    error_lines = page.locator("#row-errors tbody tr td:first-child").all_inner_texts()
    assert error_lines == ["2101", "2200"]
    board = api.get(f"/v1/projects/{pid}/dashboard", params={"batch": batch}).json()
    assert board["total"] == 2497
    screenshot(page, screenshots, "import")
    assert page.errors == []


def test_an_import_of_many_bad_lines_shows_the_first_and_counts_the_rest(
    api, keys, open_page, tmp_path
):
    pid = cat_dog_project(api)["id"]
    upload = tmp_path / "bad.jsonl"
    upload.write_text("\n".join(["{not json"] * 2500 + ['{"params": 1}'] * 500) + "\n")
    page = open_page(keys["manager"], f"/projects/{pid}/import")
    page.set_input_files("#file", upload)
    page.click("#import button[type=submit]")
    # 3,000 lines are sent and checked first: give a loaded machine more than 5 s
    expect(page.locator("#import-status")).to_have_text("Imported bad.jsonl.", timeout=30_000)
    expect(page.get_by_test_id("rejected")).to_have_text("3,000")
    assert page.locator("#row-errors tbody tr").count() == 100
    expect(page.locator("#more-errors")).to_have_text(
        "… and 2,900 more problems (by field: (row) 2,500, params 500)."
    )
    assert page.errors == []


def test_a_settings_change_persists(api, keys, open_page, screenshots):
    pid = cat_dog_project(api)["id"]
    page = open_page(keys["manager"], f"/projects/{pid}/settings")
    expect(page.locator("#overlap")).to_have_value("1")
    page.fill("#overlap", "3")
    page.fill("#gold_rate", "0.05")
    page.fill("#review_below", "0.7")
    page.fill("#callback_url", "https://example.com/hook")
    page.fill("#instructions", "# Cats and dogs\n\nPick the animal you see.")
    page.click("#settings button[type=submit]")
    expect(page.locator("#settings-status")).to_contain_text("Saved")
    saved = api.get(f"/v1/projects/{pid}").json()
    assert (saved["overlap"], saved["gold_rate"], saved["review_below"]) == (3, 0.05, 0.7)
    assert saved["callback_url"] == "https://example.com/hook"
    assert saved["instructions"].startswith("# Cats and dogs")
    page.reload()
    expect(page.locator("#overlap")).to_have_value("3")
    expect(page.locator("#review_below")).to_have_value("0.7")
    page.fill("#target_confidence", "0.9")
    page.fill("#callback_url", "not a url")
    page.click("#settings button[type=submit]")
    expect(page.locator("#callback_url-error")).to_be_visible()
    expect(page.locator("#callback_url")).to_have_attribute("aria-invalid", "true")
    page.fill("#callback_url", "https://example.com/hook")
    page.click("#settings button[type=submit]")
    expect(page.locator("#max_overlap-error")).to_contain_text("max_overlap")
    assert api.get(f"/v1/projects/{pid}").json()["target_confidence"] is None
    screenshot(page, screenshots, "settings")
    assert page.errors == []


def test_no_page_shows_a_model_credential_and_the_secret_rotates(api, keys, open_page, server):
    api_key = "sk-page-" + "Zq7Wm3Xp9Rt2" + "-abc987"
    model = {
        "type": "openai",
        "base_url": "http://127.0.0.1:9/v1",  # never called: no cycle runs in this test
        "model": "gpt-test",
        "prompt_template": "Label: {text}",
        "api_key": api_key,
    }
    created = cat_dog_project(api, automation={"target_accuracy": 0.9, "model": model})
    pid = created["id"]
    seen, bodies = [], []

    def read_bodies() -> None:  # the pages and their API calls, before navigating away
        page.wait_for_load_state("networkidle")
        kinds = ("document", "fetch", "xhr")
        bodies.extend(r.text() for r in seen if r.ok and r.request.resource_type in kinds)
        seen.clear()
        assert "Zq7Wm3Xp9Rt2" not in page.content()

    for path in ("/projects", f"/projects/{pid}", f"/projects/{pid}/settings"):
        page = open_page(keys["manager"], path)
        page.wait_for_load_state("networkidle")  # then watch a load from its start
        page.on("response", lambda response: seen.append(response))
        page.reload()
        read_bodies()
    expect(page.locator("#overlap")).to_have_value("1")
    page.fill("#overlap", "2")
    page.click("#settings button[type=submit]")
    expect(page.locator("#settings-status")).to_contain_text("Saved")
    page.click("#rotate-secret")
    rotated = page.get_by_test_id("secret").input_value()
    assert len(rotated) == 64 and rotated != created["callback_secret"]
    read_bodies()
    assert len(bodies) > 10 and not any("Zq7Wm3Xp9Rt2" in body for body in bodies)
    with server.store.read() as conn:
        stored = conn.execute(
            select(projects.c.automation, projects.c.callback_secret).where(projects.c.id == pid)
        ).one()
    assert json.loads(stored.automation)["model"]["api_key"] == api_key  # the page kept it
    assert stored.callback_secret == rotated
    assert page.errors == []


def _all_projects(api) -> list[dict]:
    """Every project, page by page (the session's server holds many)."""
    found, token = [], None
    while True:
        page = api.get("/v1/projects", params={"next_token": token} if token else {}).json()
        found += page["docs"]
        token = page.get("next_token")
        if not token:
            return found


def test_projects_page_lists_and_creates_projects(api, keys, open_page, busy_project, screenshots):
    page = open_page(keys["manager"], "/projects")
    expect(page.locator(f"tr[data-project-id='{busy_project['id']}'] a").first).to_be_visible()
    page.fill("#name", "Bird songs")
    page.select_option("#kind", "categorization")
    page.fill("#params", "{not json")
    page.click("#create-project button[type=submit]")
    expect(page.locator("#params-error")).to_contain_text("not valid JSON")
    page.fill("#params", '{"labels": ["finch", "robin", "wren"]}')
    page.fill("#instructions", "# Name the bird you hear")
    page.click("#create-project button[type=submit]")
    expect(page.locator("#create-status")).to_contain_text("Created Bird songs")
    secret = page.get_by_test_id("secret").input_value()
    created = next(p for p in _all_projects(api) if p["name"] == "Bird songs")
    assert len(secret) == 64 and created["params"]["labels"] == ["finch", "robin", "wren"]
    link = page.locator(f"tr[data-project-id='{created['id']}'] th a")
    expect(link).to_have_attribute("href", f"/projects/{created['id']}")
    screenshot(page, screenshots, "projects")
    assert page.errors == []


def test_workers_page_adds_blocks_and_unblocks(api, keys, open_page, busy_project, screenshots):
    page = open_page(keys["manager"], "/workers")
    page.fill("#worker-name", "Eve (new)")
    page.fill("#worker-skills", "birds, french")
    page.click("#create-worker button[type=submit]")
    expect(page.locator("#create-status")).to_have_text("Added Eve (new).")
    key = page.get_by_test_id("secret").input_value()
    assert key.startswith("assay_")
    me = api.get("/v1/me", headers=auth(key)).json()
    row = page.locator(f"tr[data-worker-id='{me['key_id']}']")
    expect(row.locator("td").nth(1)).to_have_text("birds, french")
    row.get_by_role("button", name="Block Eve (new)").click()
    expect(row.locator("td").nth(2)).to_contain_text("blocked")
    assert api.get(f"/v1/workers/{me['key_id']}").json()["active"] is False
    row.get_by_role("button", name="Unblock Eve (new)").click()
    expect(row.locator("td").nth(2)).to_have_text("active")
    assert api.get(f"/v1/workers/{me['key_id']}").json()["active"] is True
    screenshot(page, screenshots, "workers")
    assert page.errors == []


def test_keys_page_creates_and_revokes_keys(api, keys, open_page):
    assert open_page(keys["manager"]).goto("/keys").status == 403
    page = open_page(keys["admin"], "/keys")
    page.fill("#key-name", "ci exporter")
    page.click("#create-key button[type=submit]")
    key = page.get_by_test_id("secret").input_value()
    me = api.get("/v1/me", headers=auth(key)).json()
    assert me["role"] == "manager"
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke ci exporter").click()
    row = page.locator(f"tr[data-key-id='{me['key_id']}']")
    expect(row.locator("td").nth(3)).to_contain_text("revoked")
    assert api.get("/v1/me", headers=auth(key)).status_code == 401
    assert page.errors == []
