"""Import, export and list throughput of a real `assay serve` on SQLite.

Measures, in one run on this machine:
  * bulk import through POST /v1/projects/{id}/tasks:import (end to end, via the SDK),
    beside the physical limit: raw sqlite3.executemany of the same rows into the same
    schema, in one transaction, with nothing else in the way;
  * JSONL export of N tasks with the server's RSS sampled throughout;
  * GET /v1/tasks pages of 100 at random cursors, client-side latency.

Each throughput is the median of --repeat runs (this machine's timings wander by a
quarter from run to run). Usage:
    python bench/import_export.py [--import-tasks 100000] [--export-tasks 1000000]
"""

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
import psutil
from rich.console import Console
from rich.table import Table
from rss import RssSampler

from assay import Client
from assay.engine.pagination import encode_token
from assay.engine.tasks import INSERT_COLUMNS
from assay.store.db import Store, database_url
from assay.store.migrate import migrate

console = Console()
ASSAY = str(Path(sys.executable).parent / "assay")


def task_lines(n: int, tag: str) -> list[tuple[int, bytes]]:
    return [
        (
            i + 1,
            orjson.dumps(
                {
                    "params": {"text": f"review {tag}-{i}: the film was fine, the ending less so."},
                    "unique_id": f"{tag}-{i}",
                    "priority": i % 3,
                }
            ),
        )
        for i in range(n)
    ]


def raw_executemany(lines: list[tuple[int, bytes]], project_id: str, bare: bool = False) -> float:
    """rows/s of sqlite3.executemany of the same rows into a fresh copy of the schema
    (with `bare`, after dropping the secondary indexes: the table alone)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(database_url(tmp))
        migrate(store)
        store.close()
        conn = sqlite3.connect(Path(tmp) / "assay.db", isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA cache_size=-32768")
        if bare:
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'tasks' "
                "AND sql IS NOT NULL"
            ).fetchall():
                conn.execute(f"DROP INDEX {name}")
        conn.execute(
            "INSERT INTO projects (id, name, kind, params, instructions, overlap, "
            "callback_secret, created_at, updated_at) VALUES (?, 'p', 'categorization', "
            "'{}', '', 1, 's', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
            (project_id,),
        )
        rows = []
        for n, (_, line) in enumerate(lines):
            obj = orjson.loads(line)
            rows.append(
                (
                    f"{n:024x}",
                    project_id,
                    None,
                    "pending",
                    orjson.dumps(obj["params"]).decode(),
                    obj["unique_id"],
                    None,
                    None,
                    obj["priority"],
                    "2026-01-01T00:00:00.000000Z",
                    1,
                    None,  # gold
                    None,  # hypothesis
                )
            )
        assert len(rows[0]) == len(INSERT_COLUMNS)
        sql = (
            f"INSERT INTO tasks ({', '.join(INSERT_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(INSERT_COLUMNS))}) ON CONFLICT DO NOTHING"
        )
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
        elapsed = time.perf_counter() - start
        conn.close()
    return len(rows) / elapsed


def raw_select(path: Path, project_id: str) -> float:
    """rows/s of reading every exported column of the project's tasks with sqlite3 alone."""
    conn = sqlite3.connect(path)
    start = time.perf_counter()
    cursor = conn.execute(
        "SELECT id, project_id, batch_id, status, params, unique_id, metadata, callback_url, "
        "priority, response, created_at, completed_at, canceled_at, callback_succeeded_at "
        "FROM tasks WHERE project_id = ? ORDER BY id",
        (project_id,),
    )
    count = 0
    while rows := cursor.fetchmany(2000):
        count += len(rows)
    elapsed = time.perf_counter() - start
    conn.close()
    return count / elapsed


def start_server(data_dir: str, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [ASSAY, "serve", "--port", str(port), "--data-dir", data_dir], stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def import_all(client: Client, project: str, lines, chunk_rows: int) -> float:
    start = time.perf_counter()
    report = client.import_tasks(project, lines, chunk_rows=chunk_rows)
    elapsed = time.perf_counter() - start
    assert report["created"] == len(lines), report
    return len(lines) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--import-tasks", type=int, default=100_000)
    parser.add_argument("--export-tasks", type=int, default=1_000_000)
    parser.add_argument("--list-requests", type=int, default=1_000)
    parser.add_argument("--chunk-rows", type=int, default=20_000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "out" / "import_export.json"
    )
    args = parser.parse_args()

    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as data_dir:
        store = Store(database_url(data_dir))
        migrate(store)
        from assay.engine.keys import create_key

        key = create_key(store, "admin", "bench")["key"]
        store.close()
        server = start_server(data_dir, args.port)
        server_ps = psutil.Process(server.pid)
        try:
            client = Client(f"http://127.0.0.1:{args.port}", key, timeout=600)
            project = client.create_project(
                "bench", "categorization", {"labels": ["positive", "negative"]}
            )["id"]

            # Each import run goes into a project of its own on the same (growing) database.
            runs = []
            for run in range(args.repeat):
                target = (
                    project
                    if run == 0
                    else client.create_project(
                        f"bench-{run}", "categorization", {"labels": ["positive", "negative"]}
                    )["id"]
                )
                runs.append(
                    import_all(
                        client, target, task_lines(args.import_tasks, f"r{run}"), args.chunk_rows
                    )
                )
            results["import_tasks_per_s"] = statistics.median(runs)
            lines = task_lines(args.import_tasks, "raw")
            results["raw_executemany_rows_per_s"] = statistics.median(
                raw_executemany(lines, project) for _ in range(args.repeat)
            )
            results["raw_bare_table_rows_per_s"] = statistics.median(
                raw_executemany(lines, project, bare=True) for _ in range(args.repeat)
            )
            results["import_share_of_raw"] = (
                results["import_tasks_per_s"] / results["raw_executemany_rows_per_s"]
            )

            remaining = args.export_tasks - args.import_tasks
            filled = 0
            fill_start = time.perf_counter()
            while filled < remaining:
                n = min(200_000, remaining - filled)
                client.import_tasks(
                    project, task_lines(n, f"fill{filled}"), chunk_rows=args.chunk_rows
                )
                filled += n
            results["fill_import_tasks_per_s"] = remaining / (time.perf_counter() - fill_start)

            speeds, growths = [], []
            for _ in range(args.repeat):
                with RssSampler(server.pid) as rss:
                    start = time.perf_counter()
                    count = 0
                    with client.http.stream(
                        "GET", f"/v1/projects/{project}/export", params={"format": "jsonl"}
                    ) as response:
                        for chunk in response.iter_bytes(1 << 20):
                            count += chunk.count(b"\n")
                    elapsed = time.perf_counter() - start
                assert count == args.export_tasks, count
                speeds.append(count / elapsed)
                growths.append((rss.peak - rss.before) / 2**20)
            results["export_tasks_per_s"] = statistics.median(speeds)
            results["export_rss_growth_mb"] = max(growths)

            results["raw_select_rows_per_s"] = raw_select(Path(data_dir) / "assay.db", project)
            ids = [
                r[0]
                for r in sqlite3.connect(Path(data_dir) / "assay.db").execute(
                    "SELECT id FROM tasks WHERE project_id = ?", (project,)
                )
            ]
            latencies = []
            for _ in range(args.list_requests):
                token = encode_token(random.choice(ids))
                start = time.perf_counter()
                response = client.http.get(
                    "/v1/tasks", params={"project": project, "limit": 100, "next_token": token}
                )
                latencies.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200
            latencies.sort()
            results["list_p50_ms"] = statistics.median(latencies)
            results["list_p99_ms"] = latencies[int(len(latencies) * 0.99) - 1]
            results["server_peak_rss_mb"] = server_ps.memory_info().rss / 2**20
            results["tasks_stored"] = len(ids)
        finally:
            server.terminate()
            server.wait(30)

    table = Table(
        "measure", "value", "target / limit", title="assay import / export / list (SQLite)"
    )
    table.add_row(
        "import via tasks:import",
        f"{results['import_tasks_per_s']:,.0f} tasks/s",
        ">= 100,000 tasks/s; Label Studio 1.23: ~4,900",
    )
    table.add_row(
        "raw sqlite3.executemany, same rows",
        f"{results['raw_executemany_rows_per_s']:,.0f} rows/s",
        "physical limit",
    )
    table.add_row(
        "raw sqlite3.executemany, table alone",
        f"{results['raw_bare_table_rows_per_s']:,.0f} rows/s",
        "same rows, secondary indexes dropped",
    )
    table.add_row("import / raw", f"{results['import_share_of_raw']:.0%}", ">= 40%")
    table.add_row(
        "import while filling to 1M", f"{results['fill_import_tasks_per_s']:,.0f} tasks/s", ""
    )
    table.add_row(
        "export JSONL",
        f"{results['export_tasks_per_s']:,.0f} tasks/s",
        ">= 200,000 tasks/s; Label Studio: 100k in 172 s",
    )
    table.add_row(
        "raw sqlite3 SELECT of the same rows",
        f"{results['raw_select_rows_per_s']:,.0f} rows/s",
        "read limit (no encoding, no HTTP)",
    )
    table.add_row(
        "server RSS growth during export (max)",
        f"{results['export_rss_growth_mb']:.1f} MB",
        "< 100 MB; Label Studio: 756 MB",
    )
    table.add_row("GET /v1/tasks page of 100, p50 (client)", f"{results['list_p50_ms']:.2f} ms", "")
    table.add_row(
        "GET /v1/tasks page of 100, p99 (client)", f"{results['list_p99_ms']:.2f} ms", "< 20 ms"
    )
    table.add_row("server peak RSS at the end", f"{results['server_peak_rss_mb']:.0f} MB", "")
    console.print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    os.sync()


if __name__ == "__main__":
    main()
