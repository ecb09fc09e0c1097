import orjson
from conftest import assert_problem


def ndjson(*rows) -> bytes:
    return b"\n".join(r if isinstance(r, bytes) else orjson.dumps(r) for r in rows)


def import_body(api, project, body: bytes, **query):
    return api.post(
        f"/v1/projects/{project['id']}/tasks:import",
        content=body,
        params=query,
        headers={"Content-Type": "application/x-ndjson"},
    )


def all_tasks(api, project):
    out, token = [], None
    while True:
        page = api.get(
            "/v1/tasks",
            params={"project": project["id"]} | ({"next_token": token} if token else {}),
        ).json()
        out += page["docs"]
        token = page["next_token"]
        if not token:
            return out


def test_import_reports_bad_rows_by_line_and_field_and_stores_the_rest(api, project):
    body = ndjson(
        {"params": {"text": "one"}, "unique_id": "a"},
        b"{not json",
        {"params": {"text": "three"}, "priority": "high"},
        b"",  # blank lines are skipped but counted
        {"params": {"text": "five"}, "metadata": {"k": 1}},
        {"params": ["not", "an", "object"]},
        {"params": {"text": "seven"}, "unique_id": "a"},
        {"text": "no params"},
    )
    response = import_body(api, project, body)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["created"] == 2
    assert report["duplicate"] == 1
    assert report["rejected"] == 4
    by_line = {(e["line"], e["field"]) for e in report["errors"]}
    assert (2, "(row)") in by_line
    assert (3, "priority") in by_line
    assert (6, "params") in by_line
    assert (8, "params") in by_line and (8, "text") in by_line
    stored = all_tasks(api, project)
    assert sorted(t["params"]["text"] for t in stored) == ["five", "one"]


def test_import_is_idempotent_with_unique_ids(api, project):
    body = ndjson(*({"params": {"i": i}, "unique_id": f"row-{i}"} for i in range(50)))
    first = import_body(api, project, body).json()
    again = import_body(api, project, body).json()
    assert (first["created"], first["duplicate"]) == (50, 0)
    assert (again["created"], again["duplicate"]) == (0, 50)
    assert len(all_tasks(api, project)) == 50


def test_import_accepts_a_json_array(api, project):
    rows = [{"params": {"i": 1}}, {"params": {"i": 2}}, {"params": 3}]
    response = api.post(f"/v1/projects/{project['id']}/tasks:import", json=rows)
    report = response.json()
    assert (report["created"], report["rejected"]) == (2, 1)
    assert report["errors"][0]["line"] == 3 and report["errors"][0]["field"] == "params"


def test_import_into_a_staging_batch_only(api, project):
    batch = api.post("/v1/batches", json={"project": project["id"], "name": "imp"}).json()
    ok = import_body(api, project, ndjson({"params": {}}, {"params": {}}), batch=batch["id"])
    assert ok.json()["created"] == 2
    assert api.get(f"/v1/batches/{batch['id']}/status").json()["counts"]["pending"] == 2
    api.post(f"/v1/batches/{batch['id']}/finalize")
    late = import_body(api, project, ndjson({"params": {}}), batch=batch["id"])
    assert_problem(late, 409, "batch_not_staging")
    assert api.get(f"/v1/batches/{batch['id']}/status").json()["total"] == 2


def test_import_into_unknown_project_is_404_and_stores_nothing(api, project):
    response = api.post("/v1/projects/nope/tasks:import", content=ndjson({"params": {}}))
    assert_problem(response, 404, "project_not_found")


def test_a_failed_chunk_leaves_no_partial_rows(api, server, project):
    """A database error mid-insert rolls the whole request back."""
    from sqlalchemy import text

    # A trigger makes the 3rd row of the chunk fail inside the database.
    ddl = {
        "sqlite": [
            "CREATE TRIGGER fail_third BEFORE INSERT ON tasks "
            "WHEN json_extract(NEW.params, '$.boom') = 1 "
            "BEGIN SELECT RAISE(ABORT, 'boom'); END"
        ],
        "postgresql": [
            "CREATE FUNCTION fail_third() RETURNS trigger AS $$ BEGIN "
            "IF (NEW.params::json->>'boom') = '1' THEN RAISE EXCEPTION 'boom'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER fail_third BEFORE INSERT ON tasks "
            "FOR EACH ROW EXECUTE FUNCTION fail_third()",
        ],
    }[server.store.dialect]
    with server.store.write() as conn:
        for statement in ddl:
            conn.execute(text(statement))
    try:
        body = ndjson(
            {"params": {"i": 1}},
            {"params": {"i": 2}},
            {"params": {"boom": 1}},
            {"params": {"i": 4}},
        )
        response = import_body(api, project, body)
        assert response.status_code == 500
        assert response.headers["content-type"].startswith("application/problem+json")
    finally:
        with server.store.write() as conn:
            conn.execute(
                text(
                    "DROP TRIGGER fail_third"
                    + (" ON tasks" if server.store.dialect == "postgresql" else "")
                )
            )
            if server.store.dialect == "postgresql":
                conn.execute(text("DROP FUNCTION fail_third()"))
    assert all_tasks(api, project) == []


def test_oversize_import_is_413(api, server, project):
    row = orjson.dumps({"params": {"text": "x" * 1000}})
    body = b"\n".join([row] * (server.settings.max_body_bytes // len(row) + 10))
    assert_problem(import_body(api, project, body), 413, "body_too_large")
    assert all_tasks(api, project) == []


def test_sdk_import_pulls_rows_lazily(server, keys, project):
    """The SDK never holds more than a few chunks of a long input in memory."""
    from assay import Client

    chunk_rows, concurrency = 50, 2
    pulled = {"n": 0}
    acknowledged = {"n": 0}
    most_held = {"n": 0}

    def rows():
        for i in range(1_000):
            pulled["n"] += 1
            most_held["n"] = max(most_held["n"], pulled["n"] - acknowledged["n"])
            yield {"params": {"i": i}}

    def progress(n):
        acknowledged["n"] += n

    with Client(server.url, keys["admin"]) as client:
        report = client.import_tasks(
            project["id"],
            rows(),
            chunk_rows=chunk_rows,
            concurrency=concurrency,
            on_progress=progress,
        )
    assert report["created"] == 1_000
    assert most_held["n"] <= (concurrency + 2) * chunk_rows


def test_reports_stay_small_however_many_rows_are_bad(api, project):
    """The first 100 problems in full, the rest counted by field and code; a field name
    of the sender's own per row does not grow the report."""
    rows = [b'{"params": {}, "f%d": 1}' % i for i in range(400)] + [b"{broken"] * 100
    report = import_body(api, project, ndjson(*rows)).json()
    assert report["rejected"] == 500 and report["error_count"] == 500
    assert len(report["errors"]) == 100
    assert report["errors"][0] == {
        "line": 1,
        "field": "f0",
        "message": "Extra inputs are not permitted",
        "code": "extra_forbidden",
    }
    assert report["errors_by_code"] == {"extra_forbidden": 400, "invalid_json": 100}
    by_field = report["errors_by_field"]
    assert len(by_field) == 101 and by_field["(other)"] == 300 + 100
    long_name = "k" * 5000
    clipped = import_body(api, project, ndjson({"params": {}, long_name: 1})).json()
    assert len(clipped["errors"][0]["field"]) == 200


def test_the_sdk_sums_up_reports_of_many_chunks(server, keys, project):
    from assay import Client

    rows = [(i, b'{"params": 1}' if i % 2 else b"{bad") for i in range(1, 501)]
    with Client(server.url, keys["admin"]) as client:
        report = client.import_tasks(project["id"], iter(rows), chunk_rows=50)
    assert report["rejected"] == report["error_count"] == 500
    assert [e["line"] for e in report["errors"]] == list(range(1, 101))
    assert report["errors_by_code"] == {"invalid_json": 250, "dict_type": 250}
    assert report["errors_by_field"] == {"(row)": 250, "params": 250}
