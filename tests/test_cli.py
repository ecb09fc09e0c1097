"""The `assay` command as a user runs it: real processes, real server, real files."""

import csv
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import free_port, wait_healthy, watch_errors
from playwright.sync_api import expect

ASSAY = str(Path(sys.executable).parent / "assay")


def run(*args, check=True, **kw) -> subprocess.CompletedProcess:
    result = subprocess.run([ASSAY, *args], capture_output=True, text=True, timeout=120, **kw)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`assay serve --sample` on a fresh data dir, as `make serve` runs it."""
    data = tmp_path_factory.mktemp("data")
    port = free_port()
    proc = subprocess.Popen(
        [ASSAY, "serve", "--port", str(port), "--data-dir", str(data), "--sample"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, proc)
    yield {"url": url, "data": data, "proc": proc}
    proc.send_signal(signal.SIGINT)
    proc.wait(20)


def new_key(data: Path, role: str = "admin") -> str:
    out = run("keys", "create", "--role", role, "--name", "cli test", "--data-dir", str(data))
    return out.stdout.strip().splitlines()[-1]


def make_project(url: str, key: str) -> str:
    response = httpx.post(
        f"{url}/v1/projects",
        headers={"Authorization": f"Bearer {key}"},
        json={"name": "cli", "kind": "categorization", "params": {"labels": ["a", "b"]}},
    )
    return response.json()["id"]


def test_keys_create_prints_the_key_last(served):
    key = new_key(served["data"], "manager")
    assert key.startswith("assay_")
    me = httpx.get(f"{served['url']}/v1/projects", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200
    listed = run("keys", "list", "--data-dir", str(served["data"])).stdout
    assert "manager" in listed and key not in listed


def test_keys_create_on_postgres(pg_url):
    run("migrate", "--database-url", pg_url)  # keys never create a database's schema
    out = run("keys", "create", "--role", "annotator", "--database-url", pg_url)
    assert out.stdout.strip().splitlines()[-1].startswith("assay_")


def test_keys_create_rejects_an_unknown_role(tmp_path):
    result = run("keys", "create", "--role", "boss", "--data-dir", str(tmp_path), check=False)
    assert result.returncode == 2 and "--role" in result.stderr


def test_sample_project_exists(served):
    key = new_key(served["data"])
    projects = httpx.get(
        f"{served['url']}/v1/projects", headers={"Authorization": f"Bearer {key}"}
    ).json()["docs"]
    sample = [p for p in projects if p["name"].startswith("Sample")]
    assert sample
    tasks = httpx.get(
        f"{served['url']}/v1/tasks",
        params={"project": sample[0]["id"]},
        headers={"Authorization": f"Bearer {key}"},
    ).json()["docs"]
    assert len(tasks) >= 5


def test_a_new_user_labels_the_sample_in_the_browser(served, browser):
    """As the README promises: open the printed address, sign in with the printed key,
    label the sample project. (Runs before the tests below add projects of their own.)"""
    printed = [served["proc"].stdout.readline() for _ in range(5)]
    assert "/login" in printed[2]
    annotator_key = printed[3].strip()
    page = watch_errors(browser.new_page())
    page.goto(printed[2].split("open ")[1].split(" and")[0])
    page.fill("#key", annotator_key)
    page.click("button[type=submit]")
    page.wait_for_url("**/work")
    page.wait_for_selector("#widget[data-state=ready]")
    expect(page.locator("#instructions")).to_contain_text("sentiment")  # rendered apart
    first = page.get_attribute("#widget", "data-task-id")
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    expect(page.locator("#widget")).not_to_have_attribute("data-task-id", first)
    page.close()
    assert page.errors == []


def test_import_jsonl_reports_bad_lines_and_exports(served, tmp_path):
    key = new_key(served["data"])
    project = make_project(served["url"], key)
    source = tmp_path / "tasks.jsonl"
    lines = [orjson.dumps({"params": {"text": f"t{i}"}, "unique_id": f"u{i}"}) for i in range(250)]
    lines[9] = b'{"params": "oops"}'
    lines[99] = b"{broken"
    source.write_bytes(b"\n".join(lines) + b"\n")
    common = ["--project", project, "--url", served["url"], "--key", key]
    result = run("import", str(source), *common, "--chunk-rows", "40", check=False)
    assert result.returncode == 1  # some rows were rejected
    assert "created 248, duplicate 0, rejected 2" in result.stdout
    assert "line 10: params" in result.stdout and "line 100: (row)" in result.stdout

    again = run("import", str(source), *common, check=False)
    assert "created 0, duplicate 248, rejected 2" in again.stdout

    out = tmp_path / "out.jsonl"
    run("export", *common, "--format", "jsonl", "-o", str(out))
    exported = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(exported) == 248
    assert {e["params"]["text"] for e in exported} == {
        f"t{i}" for i in range(250) if i not in (9, 99)
    }


def test_import_of_many_bad_lines_prints_a_summary(served, tmp_path):
    key = new_key(served["data"])
    project = make_project(served["url"], key)
    source = tmp_path / "bad.jsonl"
    lines = [b'{"params": "oops"}' if i % 2 else b"{broken" for i in range(300)]
    source.write_bytes(b"\n".join(lines) + b"\n")
    common = ["--project", project, "--url", served["url"], "--key", key]
    result = run("import", str(source), *common, "--chunk-rows", "40", check=False)
    assert result.returncode == 1
    assert "created 0, duplicate 0, rejected 300" in result.stdout
    assert "line 1: (row)" in result.stdout and "line 300: params" not in result.stdout
    assert "... and 250 more problems" in result.stdout
    assert "problems by field: (row) 150, params 150" in result.stdout
    assert "problems by code: invalid_json 150, dict_type 150" in result.stdout


def test_import_csv_and_parquet(served, tmp_path):
    key = new_key(served["data"])
    project = make_project(served["url"], key)
    common = ["--project", project, "--url", served["url"], "--key", key]

    csv_file = tmp_path / "tasks.csv"
    with csv_file.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "unique_id", "priority", "metadata"])
        writer.writerow(["hello", "c1", "3", '{"src": "a"}'])
        writer.writerow(["world", "c2", "", ""])
        writer.writerow(["bad", "c3", "urgent", ""])
    result = run("import", str(csv_file), *common, check=False)
    assert "created 2, duplicate 0, rejected 1" in result.stdout
    assert "line 4: priority" in result.stdout

    table = pa.table({"text": ["p1", "p2"], "unique_id": ["q1", "q2"], "priority": [1, 2]})
    parquet_file = tmp_path / "tasks.parquet"
    pq.write_table(table, parquet_file)
    run("import", str(parquet_file), *common)

    out = tmp_path / "out.parquet"
    run("export", *common, "--format", "parquet", "-o", str(out))
    exported = pq.read_table(out).to_pylist()
    by_uid = {row["unique_id"]: row for row in exported}
    assert orjson.loads(by_uid["c1"]["params"]) == {"text": "hello"}
    assert orjson.loads(by_uid["c1"]["metadata"]) == {"src": "a"}
    assert by_uid["c1"]["priority"] == 3 and by_uid["q2"]["priority"] == 2

    # an exported CSV imports again into another project
    out_csv = tmp_path / "out.csv"
    run("export", *common, "--format", "csv", "-o", str(out_csv))
    second = make_project(served["url"], key)
    result = run("import", str(out_csv), "--project", second, "--url", served["url"], "--key", key)
    assert "created 4, duplicate 0, rejected 0" in result.stdout


def test_import_errors_are_clear(served, tmp_path):
    key = new_key(served["data"])
    source = tmp_path / "tasks.txt"
    source.write_text("x")
    result = run(
        "import", str(source), "--project", "p", "--url", served["url"], "--key", key, check=False
    )
    assert result.returncode == 2 and ".jsonl, .csv or .parquet" in result.stderr
    source = tmp_path / "tasks.jsonl"
    source.write_text('{"params": {}}\n')
    result = run(
        "import",
        str(source),
        "--project",
        "nope",
        "--url",
        served["url"],
        "--key",
        key,
        check=False,
    )
    assert result.returncode == 1 and "project_not_found" in result.stderr


def test_serve_refuses_a_newer_schema(tmp_path):
    from sqlalchemy import text

    from assay.store.db import Store, database_url
    from assay.store.migrate import migrate

    store = Store(database_url(tmp_path))
    migrate(store)
    with store.write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    store.close()
    result = subprocess.run(
        [ASSAY, "serve", "--data-dir", str(tmp_path), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        env=os.environ | {"COLUMNS": "200"},
    )
    assert result.returncode == 1
    assert "newer than this version of assay" in result.stderr


def _kind_project(url: str, key: str, kind: str, params: dict) -> str:
    response = httpx.post(
        f"{url}/v1/projects",
        headers={"Authorization": f"Bearer {key}"},
        json={"name": kind, "kind": kind, "params": params},
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_kinds_lists_every_kind_and_its_schemas():
    listed = run("kinds").stdout
    for name in ("categorization", "spans", "boxes", "comparison", "chat"):
        assert name in listed
    shown = orjson.loads(run("kinds", "spans").stdout)
    assert shown["exports"] == ["conll", "spacy"] and "text" in shown["task_schema"]["properties"]
    assert run("kinds", "nope", check=False).returncode == 2


def test_import_coco_makes_box_tasks_with_hypotheses(served, tmp_path):
    key = new_key(served["data"])
    project = _kind_project(served["url"], key, "boxes", {"labels": ["car", "dog"]})
    coco = {
        "images": [{"id": 7, "file_name": "a.png", "width": 100, "height": 50}],
        "categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "dog"}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 2, "bbox": [5, 5, 20, 10], "iscrowd": 0}
        ],
    }
    source = tmp_path / "coco.json"
    source.write_bytes(orjson.dumps(coco))
    common = ["--project", project, "--url", served["url"], "--key", key]
    result = run("import", str(source), *common, "--format", "coco")
    assert "created 1, duplicate 0, rejected 0" in result.stdout
    tasks = httpx.get(
        f"{served['url']}/v1/tasks",
        params={"project": project},
        headers={"Authorization": f"Bearer {key}"},
    ).json()["docs"]
    assert tasks[0]["params"] == {"image": "a.png", "width": 100, "height": 50}
    box = tasks[0]["hypothesis"]["boxes"][0]
    assert (box["x"], box["y"], box["width"], box["height"], box["label"]) == (5, 5, 20, 10, "dog")

    wrong = run("import", str(source), *common, "--format", "conll", check=False)
    assert wrong.returncode == 2 and "coco" in wrong.stderr


def test_conll_import_then_export_keeps_the_tags(served, tmp_path):
    key = new_key(served["data"])
    project = _kind_project(served["url"], key, "spans", {"labels": ["PER", "LOC"]})
    source = tmp_path / "ner.conll"
    source.write_text("Ada\tB-PER\nLovelace\tI-PER\nvisited\tO\nParis\tB-LOC\n\n")
    common = ["--project", project, "--url", served["url"], "--key", key]
    assert "created 1" in run("import", str(source), *common, "--format", "conll").stdout
    worker = httpx.post(
        f"{served['url']}/v1/workers",
        headers={"Authorization": f"Bearer {key}"},
        json={"name": "w", "role": "annotator"},
    ).json()
    auth = {"Authorization": f"Bearer {worker['key']}"}
    offered = httpx.post(f"{served['url']}/v1/work/next", headers=auth, json={}).json()
    while offered["project"]["id"] != project:  # the sample project may come first
        httpx.post(f"{served['url']}/v1/assignments/{offered['id']}/skip", headers=auth)
        offered = httpx.post(f"{served['url']}/v1/work/next", headers=auth, json={}).json()
    hypothesis = offered["task"]["hypothesis"]
    submitted = httpx.post(
        f"{served['url']}/v1/assignments/{offered['id']}/submit",
        headers=auth,
        json={"response": hypothesis},
    )
    assert submitted.status_code in (200, 201), submitted.text
    out = tmp_path / "out.conll"
    run("export", *common, "--format", "conll", "-o", str(out))
    assert out.read_text() == source.read_text()
