import csv
import io

import orjson
import pyarrow.parquet as pq
from conftest import assert_problem

from assay import Client

N = 10_000


def seed(server, keys, project) -> list[dict]:
    rows = [
        {
            "params": {"text": f"item {i}", "n": i},
            "unique_id": f"u{i}",
            "metadata": {"shard": i % 7} if i % 2 else None,
            "priority": i % 5,
        }
        for i in range(N)
    ]
    rows = [{k: v for k, v in r.items() if v is not None} for r in rows]
    with Client(server.url, keys["admin"]) as client:
        report = client.import_tasks(project["id"], rows, chunk_rows=3_000)
    assert report["created"] == N
    assert (report["duplicate"], report["rejected"], report["error_count"]) == (0, 0, 0)
    assert report["errors"] == []
    return rows


def test_export_round_trip_of_10k_tasks(api, server, keys, project):
    rows = seed(server, keys, project)
    expected = {r["unique_id"]: r for r in rows}

    jsonl = api.get(f"/v1/projects/{project['id']}/export", params={"format": "jsonl"})
    assert jsonl.status_code == 200
    assert jsonl.headers["content-type"].startswith("application/x-ndjson")
    exported = [orjson.loads(line) for line in jsonl.content.splitlines()]
    assert len(exported) == N
    assert [e["id"] for e in exported] == sorted(e["id"] for e in exported)
    for e in exported:
        source = expected[e["unique_id"]]
        assert e["params"] == source["params"]
        assert e["metadata"] == source.get("metadata")
        assert e["priority"] == source["priority"]
        assert e["status"] == "pending" and e["project"] == project["id"]

    text = api.get(f"/v1/projects/{project['id']}/export", params={"format": "csv"}).text
    records = list(csv.DictReader(io.StringIO(text)))
    assert len(records) == N
    assert {r["unique_id"]: orjson.loads(r["params"]) for r in records} == {
        k: v["params"] for k, v in expected.items()
    }

    parquet = api.get(f"/v1/projects/{project['id']}/export", params={"format": "parquet"})
    table = pq.read_table(io.BytesIO(parquet.content))
    assert table.num_rows == N
    assert table.column("id").to_pylist() == [e["id"] for e in exported]
    assert [orjson.loads(p) for p in table.column("params").to_pylist()] == [
        e["params"] for e in exported
    ]


def test_export_filters_by_status(api, project):
    ids = [
        api.post("/v1/tasks", json={"project": project["id"], "params": {"i": i}}).json()["id"]
        for i in range(3)
    ]
    api.post(f"/v1/tasks/{ids[1]}/cancel")
    response = api.get(
        f"/v1/projects/{project['id']}/export", params={"format": "jsonl", "status": "canceled"}
    )
    assert [orjson.loads(line)["id"] for line in response.content.splitlines()] == [ids[1]]


def test_export_of_an_empty_project_is_empty_but_valid(api, project):
    assert api.get(f"/v1/projects/{project['id']}/export").content == b""
    csv_text = api.get(f"/v1/projects/{project['id']}/export", params={"format": "csv"}).text
    assert csv_text.startswith("id,project,batch,status,params")
    parquet = api.get(f"/v1/projects/{project['id']}/export", params={"format": "parquet"})
    assert pq.read_table(io.BytesIO(parquet.content)).num_rows == 0


def test_export_bad_inputs(api, project):
    assert_problem(
        api.get(f"/v1/projects/{project['id']}/export", params={"format": "xml"}),
        422,
        field="format",
    )
    assert_problem(
        api.get(f"/v1/projects/{project['id']}/export", params={"status": "x"}), 422, field="status"
    )
    assert_problem(api.get("/v1/projects/nope/export"), 404, "project_not_found")


def test_export_is_streamed_not_buffered(api, project):
    api.post("/v1/tasks", json={"project": project["id"], "params": {}})
    with api.stream("GET", f"/v1/projects/{project['id']}/export") as response:
        assert response.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in response.headers
        response.read()
