"""Where a person first trips over the CLI and SDK: which server or database a command
uses, the first admin key, an unreachable server, a failed export, long lines in a log."""

import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psycopg
import pytest
from conftest import PG_ADMIN_DSN, auth, free_port, wait_healthy
from test_cli import run as run_assay

from assay import AssayConnectionError, Client

ASSAY = str(Path(sys.executable).parent / "assay")
# A person's shell: no assay settings, and no COLUMNS (as under a pipe, cron or CI).
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_") and k != "COLUMNS"}


def run(*args, env=None, cwd=None, check=True) -> subprocess.CompletedProcess:
    """`assay ARGS` as a person runs it: in a clean environment (plus `env`)."""
    return run_assay(*args, check=check, env=CLEAN_ENV | (env or {}), cwd=cwd)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A server started as "Running it for real" says: migrate, first admin key, serve."""
    data = tmp_path_factory.mktemp("data")
    created = run("migrate", "--data-dir", str(data)).stdout
    assert created.startswith(f"{data / 'assay.db'}: created ") and " tables, schema at " in created
    again = run("migrate", "--data-dir", str(data)).stdout
    assert "schema is up to date at revision" in again
    admin = run("keys", "create", "--role", "admin", "--data-dir", str(data))
    assert str(data / "assay.db") in admin.stdout
    port = free_port()
    proc = subprocess.Popen(
        [ASSAY, "serve", "--port", str(port), "--data-dir", str(data)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=CLEAN_ENV,
    )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, proc)
    yield {"url": url, "data": data, "key": admin.stdout.strip().splitlines()[-1]}
    proc.send_signal(signal.SIGINT)
    proc.wait(20)


@pytest.fixture
def fresh_pg() -> str:
    """An empty PostgreSQL database of this test's own."""
    name = f"assay_cli_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_tables(url: str) -> list[str]:
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return [row[0] for row in rows]


def test_keys_use_the_server_of_assay_url(served, tmp_path):
    env = {"ASSAY_URL": served["url"], "ASSAY_KEY": served["key"]}
    created = run(
        "keys", "create", "--role", "manager", "--name", "data team", env=env, cwd=tmp_path
    )
    assert f"in {served['url']}" in created.stdout
    key = created.stdout.strip().splitlines()[-1]
    projects = httpx.get(f"{served['url']}/v1/projects", headers=auth(key))
    assert projects.status_code == 200
    assert list(tmp_path.iterdir()) == []  # no ./assay-data made on the side

    listed = run("keys", "list", env=env, cwd=tmp_path)
    assert served["url"] in listed.stderr
    key_id = created.stdout.split(" key ")[1].split()[0]
    row = next(line for line in listed.stdout.splitlines() if line.startswith(key_id + " "))
    assert "manager" in row and "data team" in row and key not in listed.stdout

    revoked = run("keys", "revoke", key_id, env=env, cwd=tmp_path)
    assert revoked.stdout.startswith(f"revoked {key_id} at ")
    assert httpx.get(f"{served['url']}/v1/projects", headers=auth(key)).status_code == 401


def test_keys_on_the_server_refuse_a_key_that_is_not_an_admin(served, tmp_path):
    env = {"ASSAY_URL": served["url"], "ASSAY_KEY": served["key"]}
    manager = run("keys", "create", "--role", "manager", env=env).stdout.splitlines()[-1]
    denied = run("keys", "create", "--role", "admin", "--key", manager, env=env, check=False)
    assert denied.returncode == 1 and denied.stderr.count("error:") == 1
    assert "403" in denied.stderr
    missing = run("keys", "revoke", "no-such-key", env=env, check=False)
    assert missing.returncode == 1 and "404" in missing.stderr
    no_key = run("keys", "list", env={"ASSAY_URL": served["url"]}, check=False)
    assert no_key.returncode == 2 and "ASSAY_KEY" in no_key.stderr


def test_keys_without_a_url_need_an_existing_database(tmp_path, fresh_pg):
    result = run("keys", "create", "--role", "admin", cwd=tmp_path, check=False)
    assert result.returncode == 1
    assert f"no assay database at {tmp_path / 'assay-data' / 'assay.db'}" in result.stderr
    assert list(tmp_path.iterdir()) == []

    elsewhere = tmp_path / "elsewhere"
    result = run("keys", "list", "--data-dir", str(elsewhere), check=False)
    assert result.returncode == 1 and str(elsewhere / "assay.db") in result.stderr
    assert not elsewhere.exists()

    result = run("keys", "create", "--role", "admin", "--database-url", fresh_pg, check=False)
    assert result.returncode == 1 and "is not an assay database" in result.stderr
    assert pg_tables(fresh_pg) == []


def test_the_first_admin_key_of_an_empty_postgres_database(fresh_pg):
    created = run("migrate", "--database-url", fresh_pg).stdout
    assert "created " in created and " tables, schema at revision " in created
    assert "schema is up to date at revision" in run("migrate", "--database-url", fresh_pg).stdout
    out = run("keys", "create", "--role", "admin", "--database-url", fresh_pg).stdout
    assert out.strip().splitlines()[-1].startswith("assay_")


def test_a_database_on_the_command_line_wins_over_assay_url(served):
    env = {"ASSAY_URL": f"http://127.0.0.1:{free_port()}"}  # nothing listens there
    listed = run("keys", "list", "--data-dir", str(served["data"]), env=env)
    assert str(served["data"] / "assay.db") in listed.stderr and "admin" in listed.stdout
    both = run(
        "keys", "list", "--data-dir", str(served["data"]), "--url", served["url"], check=False
    )
    assert both.returncode == 2 and "not both" in both.stderr


def test_an_unreachable_server_is_one_line_and_exit_2(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text('{"params": {"text": "a"}}\n')
    commands = [
        ["import", str(tasks), "--project", "p"],
        ["export", "--project", "p", "-o", str(tmp_path / "out.jsonl")],
        ["keys", "create", "--role", "manager"],
        ["keys", "list"],
        ["keys", "revoke", "k"],
    ]
    for command in commands:
        result = run(*command, env={"ASSAY_URL": url, "ASSAY_KEY": "assay_x"}, check=False)
        assert result.returncode == 2, command
        assert result.stderr == f"error: cannot reach {url}: connection refused\n", command
    assert not (tmp_path / "out.jsonl").exists()


def test_an_unreachable_database_is_one_line_and_exit_2():
    url = f"postgresql+psycopg://postgres:hunter2@127.0.0.1:{free_port()}/assay"
    for command in (["migrate"], ["keys", "list"]):
        result = run(*command, "--database-url", url, check=False)
        assert result.returncode == 2, command
        assert result.stderr.startswith("error: cannot reach postgresql+psycopg://postgres:***@")
        assert len(result.stderr.splitlines()) == 1 and "hunter2" not in result.stderr


def test_the_sdk_raises_its_own_connection_error(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"
    with Client(url, "assay_x") as client:
        with pytest.raises(AssayConnectionError) as caught:
            client.health()
        assert caught.value.url == url and caught.value.reason == "connection refused"
        assert isinstance(caught.value, ConnectionError)
        with pytest.raises(AssayConnectionError):
            client.import_tasks("p", [{"params": {"text": "a"}}])
        with (tmp_path / "out").open("wb") as out, pytest.raises(AssayConnectionError):
            client.export("p", out)


def test_a_failed_export_leaves_no_file_and_says_so_once(served, tmp_path):
    env = {"ASSAY_URL": served["url"], "ASSAY_KEY": served["key"]}
    out = tmp_path / "out.jsonl"
    result = run("export", "--project", "nope", "-o", str(out), env=env, check=False)
    assert result.returncode == 1
    assert result.stderr.count("project_not_found") == 1
    assert list(tmp_path.iterdir()) == []

    out.write_text("an earlier export\n")  # a failure leaves a file that was there alone
    run("export", "--project", "nope", "-o", str(out), env=env, check=False)
    assert out.read_text() == "an earlier export\n" and list(tmp_path.iterdir()) == [out]

    missing_dir = tmp_path / "no" / "out.jsonl"
    result = run("export", "--project", "nope", "-o", str(missing_dir), env=env, check=False)
    assert result.returncode == 1 and result.stderr.startswith(f"error: cannot write {missing_dir}")


def test_an_export_is_renamed_into_place_when_whole(served, tmp_path):
    env = {"ASSAY_URL": served["url"], "ASSAY_KEY": served["key"]}
    project = httpx.post(
        f"{served['url']}/v1/projects",
        headers=auth(served["key"]),
        json={"name": "export", "kind": "categorization", "params": {"labels": ["a", "b"]}},
    ).json()["id"]
    tasks = tmp_path / "tasks.jsonl"
    tasks.write_text("".join(f'{{"params": {{"text": "t{i}"}}}}\n' for i in range(30)))
    run("import", str(tasks), "--project", project, env=env)
    out = tmp_path / "out.jsonl"
    result = run("export", "--project", project, "-o", str(out), env=env)
    assert len(out.read_text().splitlines()) == 30
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "tasks.jsonl"]
    assert result.stderr == f"wrote {out.stat().st_size} bytes to {out}\n"  # no progress bar


def test_lines_are_not_wrapped_off_a_terminal(served, tmp_path):
    long_name = "a key with a long name that would not fit in eighty columns beside its id"
    env = {"ASSAY_URL": served["url"], "ASSAY_KEY": served["key"]}
    created = run("keys", "create", "--role", "annotator", "--name", long_name, env=env).stdout
    key_id = created.split(" key ")[1].split()[0]
    assert len(created.splitlines()) == 2
    rows = run("keys", "list", env=env).stdout.splitlines()
    row = next(line for line in rows if line.startswith(key_id + " "))
    assert long_name in row and len(row) > 80

    url = f"http://127.0.0.1:{free_port()}/" + "a-long-path/" * 8
    result = run("keys", "list", "--url", url, "--key", "assay_x", check=False)
    assert result.stderr == f"error: cannot reach {url.rstrip('/')}: connection refused\n"


def test_min_overlap_is_the_overlap_it_names(api):
    created = api.post(
        "/v1/projects",
        json={
            "name": "o",
            "kind": "categorization",
            "params": {"labels": ["a", "b"]},
            "overlap": 3,
        },
    ).json()
    assert created["overlap"] == created["min_overlap"] == 3
    changed = api.patch(f"/v1/projects/{created['id']}", json={"min_overlap": 2}).json()
    assert changed["overlap"] == changed["min_overlap"] == 2
    listed = api.get("/v1/projects").json()["docs"]
    assert all(p["min_overlap"] == p["overlap"] for p in listed)
