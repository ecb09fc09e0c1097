"""Speed of the work loop on a real `assay serve`.

Measures, in one run on this machine:
  * latency: with N pending tasks (default 1,000,000) in one project on SQLite, one client
    asks POST /v1/work/next again and again; end-to-end latency at the client and
    server-side latency from the `Server-Timing` header, p50/p99, beside the physical
    limit: a raw sqlite3 claim transaction (BEGIN IMMEDIATE, pick, lease, COMMIT) on the
    same file with nothing else in the way;
  * throughput: C client processes (default 16) each loop next -> submit, overlap 1, for
    D seconds: submits/s on SQLite (1 and 2 server processes) and on PostgreSQL (2);
  * callbacks: N completions queued in the outbox, delivered by `assay worker` to a
    local receiver: deliveries/s, first to last.

Usage:
    python bench/work_loop.py [--part latency|throughput|callbacks|all]
        [--pending 1000000] [--clients 16] [--seconds 20] [--callbacks 20000]
        [--postgres postgresql+psycopg://postgres@127.0.0.1:5432/test] [--out FILE]
"""

import argparse
import asyncio
import http.client
import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson
from rich.console import Console
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from assay.engine.callbacks import enqueue_task
from assay.engine.imports import import_tasks
from assay.engine.keys import create_key
from assay.engine.projects import create_project
from assay.engine.tasks import public_task
from assay.outbound import OutboundPolicy
from assay.store.db import SQLITE_FILE, Store, database_url
from assay.store.migrate import migrate
from assay.store.tables import tasks
from assay.webhooks import SIGNATURE_HEADER, verify

console = Console()
ASSAY = str(Path(sys.executable).parent / "assay")
LABELS = ["positive", "negative"]
IMPORT_CHUNK = 50_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


LOCAL = OutboundPolicy(allow_private=True)
"""The callbacks' receiver runs on this machine."""


def seed(store: Store, pending: int, workers: int, callback_url: str | None = None):
    """A categorization project (overlap 1) with `pending` tasks, and worker keys."""
    project = create_project(
        store,
        {
            "name": "bench",
            "kind": "categorization",
            "params": {"labels": LABELS},
            "overlap": 1,
            "gold_rate": 0,
            "callback_url": callback_url,
            # The latency part leases thousands of tasks to one worker without answering.
            "max_leases_per_worker": 1_000_000,
        },
        LOCAL,
    )
    for start in range(0, pending, IMPORT_CHUNK):
        body = b"\n".join(
            b'{"params": {"text": "review %d: the film was fine, the ending less so."}}' % i
            for i in range(start, min(pending, start + IMPORT_CHUNK))
        )
        import_tasks(store, project["id"], None, body)
    keys = [create_key(store, "annotator", f"bench worker {i}")["key"] for i in range(workers)]
    return project, keys


class Server:
    """`assay serve` as a child process."""

    def __init__(self, database_args: list[str], port: int, processes: int = 1):
        self.url = f"http://127.0.0.1:{port}"
        self.port = port
        args = [ASSAY, "serve", "--port", str(port), "--workers", str(processes), "--server-timing"]
        self.proc = subprocess.Popen([*args, *database_args], stdout=subprocess.DEVNULL)

    def __enter__(self) -> "Server":
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def __exit__(self, *_exc) -> None:
        self.proc.terminate()
        self.proc.wait(30)


def post(conn: http.client.HTTPConnection, path: str, key: str, body: bytes):
    """(status, body, server-side ms) of one POST over a kept-alive connection."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    timing = response.getheader("Server-Timing", "app;dur=nan").split("dur=")[1]
    return response.status, data, float(timing)


# --- latency: one client, a million pending tasks -------------------------------------------


def next_latency(port: int, key: str, calls: int, warmup: int = 200):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    e2e, server = [], []
    for i in range(warmup + calls):
        start = time.perf_counter()
        status, _, server_ms = post(conn, "/v1/work/next", key, b"{}")
        elapsed = (time.perf_counter() - start) * 1000
        if status != 200:
            raise RuntimeError(f"work/next answered {status}")
        if i >= warmup:
            e2e.append(elapsed)
            server.append(server_ms)
    return e2e, server


RAW_CLAIM = (
    "SELECT t.id FROM tasks t WHERE t.project_id = ? AND t.status = 'pending' AND t.ready = 1"
    " AND t.gold IS NULL AND t.filled = 0 AND t.answers + t.leases < 1"
    " AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id AND a.worker_id = ?)"
    " ORDER BY t.priority DESC, t.boost DESC, t.id LIMIT 1"
)


def raw_claims(db_file: Path, project_id: str, worker_id: str, calls: int) -> list[float]:
    """ms per claim transaction in plain sqlite3: the floor under any server."""
    conn = sqlite3.connect(db_file, isolation_level=None)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA cache_size=-32768")
    times = []
    for i in range(calls):
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        (task_id,) = conn.execute(RAW_CLAIM, (project_id, worker_id)).fetchone()
        conn.execute(
            "INSERT INTO assignments (id, task_id, project_id, worker_id, status, leased_at,"
            " expires_at) VALUES (?, ?, ?, ?, 'active', '2026', '2099')",
            (f"raw-{i}", task_id, project_id, worker_id),
        )
        conn.execute("UPDATE tasks SET leases = leases + 1, filled = 1 WHERE id = ?", (task_id,))
        conn.execute("COMMIT")
        times.append((time.perf_counter() - start) * 1000)
    conn.close()
    return times


def part_latency(args, results: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(database_url(tmp))
        migrate(store)
        console.print(f"latency: seeding {args.pending:,} pending tasks ...")
        project, keys = seed(store, args.pending, 2)
        store.close()
        with Server(["--data-dir", tmp], args.port) as server:
            e2e, server_side = next_latency(server.port, keys[0], args.calls)
        with Store(database_url(tmp)).engine.connect() as conn:
            worker_id = conn.execute(text("SELECT id FROM workers LIMIT 1 OFFSET 1")).scalar()
        raw = raw_claims(Path(tmp) / SQLITE_FILE, project["id"], worker_id, args.calls)
    figures = {
        "pending": args.pending,
        "calls": args.calls,
        "server_p50_ms": percentile(server_side, 0.5),
        "server_p99_ms": percentile(server_side, 0.99),
        "e2e_p50_ms": percentile(e2e, 0.5),
        "e2e_p99_ms": percentile(e2e, 0.99),
        "raw_claim_p50_ms": percentile(raw, 0.5),
        "raw_claim_p99_ms": percentile(raw, 0.99),
    }
    results["latency"] = figures
    console.print(
        f"work/next on {args.pending:,} pending tasks, 1 client, {args.calls} calls:\n"
        f"  server-side p50 {figures['server_p50_ms']:.3f} ms, "
        f"p99 {figures['server_p99_ms']:.3f} ms (limit 2 ms)\n"
        f"  end-to-end  p50 {figures['e2e_p50_ms']:.3f} ms, "
        f"p99 {figures['e2e_p99_ms']:.3f} ms (limit 10 ms)\n"
        f"  raw sqlite3 claim transaction p50 {figures['raw_claim_p50_ms'] * 1000:.0f} µs, "
        f"p99 {figures['raw_claim_p99_ms'] * 1000:.0f} µs"
    )


# --- throughput: many clients doing next -> submit ------------------------------------------


def client_loop(port: int, key: str, seconds: float, start_at: float, queue) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    while time.time() < start_at:
        time.sleep(0.001)
    submits, cycles = 0, []
    deadline = start_at + seconds
    while time.time() < deadline:
        began = time.perf_counter()
        status, data, _ = post(conn, "/v1/work/next", key, b"{}")
        if status == 204:
            break
        assignment = orjson.loads(data)["id"]
        answer = orjson.dumps({"response": {"label": LABELS[submits % 2]}, "duration_ms": 900})
        status, _, _ = post(conn, f"/v1/assignments/{assignment}/submit", key, answer)
        if status != 200:
            raise RuntimeError(f"submit answered {status}")
        submits += 1
        cycles.append((time.perf_counter() - began) * 1000)
    queue.put((submits, cycles))


def run_clients(port: int, keys: list[str], seconds: float) -> tuple[float, list[float]]:
    queue = multiprocessing.Queue()
    start_at = time.time() + 2  # every client connected and waiting
    procs = [
        multiprocessing.Process(target=client_loop, args=(port, key, seconds, start_at, queue))
        for key in keys
    ]
    for proc in procs:
        proc.start()
    outcomes = [queue.get() for _ in procs]
    for proc in procs:
        proc.join()
    submits = sum(n for n, _ in outcomes)
    cycles = [c for _, cs in outcomes for c in cs]
    return submits / seconds, cycles


def fresh_postgres(url: str, name: str) -> str:
    """A new empty database beside the one in `url`; returns its URL."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def throughput_on(label: str, store_url: str, server_args: list[str], processes: int, args):
    store = Store(store_url)
    migrate(store)
    tasks_needed = int(args.seconds * 3000)  # more than the loop can take
    console.print(f"throughput on {label}: seeding {tasks_needed:,} tasks ...")
    _, keys = seed(store, tasks_needed, args.clients)
    store.close()
    with Server(server_args, args.port, processes) as server:
        rate, cycles = run_clients(server.port, keys, args.seconds)
    console.print(
        f"  {label}, {processes} server process(es), {args.clients} clients, overlap 1: "
        f"[bold]{rate:,.0f} submits/s[/] (next+submit p50 {percentile(cycles, 0.5):.1f} ms,"
        f" p99 {percentile(cycles, 0.99):.1f} ms)"
    )
    return {
        "server_processes": processes,
        "clients": args.clients,
        "submits_per_s": rate,
        "cycle_p50_ms": percentile(cycles, 0.5),
        "cycle_p99_ms": percentile(cycles, 0.99),
    }


def part_throughput(args, results: dict) -> None:
    for processes in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            results[f"throughput_sqlite_{processes}"] = throughput_on(
                "SQLite", database_url(tmp), ["--data-dir", tmp], processes, args
            )
    url = fresh_postgres(args.postgres, "assay_bench_work_loop")
    results["throughput_postgres"] = throughput_on(
        "PostgreSQL", url, ["--database-url", url], 2, args
    )


# --- callbacks: outbox to a local receiver --------------------------------------------------


async def _receive(port: int, secret: str, counter) -> None:
    """A minimal keep-alive HTTP/1.1 receiver that checks every signature."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while head := await reader.readuntil(b"\r\n\r\n"):
                headers = dict(
                    line.split(": ", 1) for line in head.decode().split("\r\n")[1:] if line
                )
                lowered = {k.lower(): v for k, v in headers.items()}
                body = await reader.readexactly(int(lowered["content-length"]))
                good = verify(body, lowered[SIGNATURE_HEADER.lower()], secret)
                counter.value += good
                status = b"204 No Content" if good else b"400 Bad Request"
                writer.write(b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def receiver(port: int, secret: str, counter) -> None:
    asyncio.run(_receive(port, secret, counter))


def part_callbacks(args, results: dict) -> None:
    port = args.port + 1
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(database_url(tmp))
        migrate(store)
        url = f"http://127.0.0.1:{port}/hook"
        project, _ = seed(store, args.callbacks, 0, url)
        with store.write() as conn:  # the completions, as the work loop writes them
            for row in conn.execute(tasks.select()):
                enqueue_task(conn, public_task(row), url)
            secret = conn.execute(
                text("SELECT callback_secret FROM projects WHERE id = :id"), {"id": project["id"]}
            ).scalar()
        counter = multiprocessing.Value("l", 0)
        listener = multiprocessing.Process(target=receiver, args=(port, secret, counter))
        listener.start()
        worker = subprocess.Popen(
            [ASSAY, "worker", "--data-dir", tmp, "--allow-private-urls"], stdout=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + 600
            while counter.value < args.callbacks and time.monotonic() < deadline:
                if not listener.is_alive() or worker.poll() is not None:
                    raise RuntimeError("the receiver or the worker stopped")
                time.sleep(0.2)
            time.sleep(1)  # the worker records the last outcomes
            with store.read() as conn:
                first, last, delivered = conn.execute(
                    text(
                        "SELECT min(delivered_at), max(delivered_at), count(*) FROM callbacks"
                        " WHERE status = 'delivered'"
                    )
                ).one()
        finally:
            worker.terminate()
            worker.wait(30)
            listener.terminate()
        store.close()
        spread = (
            time.mktime(time.strptime(last[:19], "%Y-%m-%dT%H:%M:%S"))
            + float(last[19:-1])
            - time.mktime(time.strptime(first[:19], "%Y-%m-%dT%H:%M:%S"))
            - float(first[19:-1])
        )
    rate = (delivered - 1) / spread
    results["callbacks"] = {
        "queued": args.callbacks,
        "delivered": delivered,
        "verified_by_receiver": counter.value,
        "per_s": rate,
    }
    console.print(
        f"callbacks: {delivered:,} of {args.callbacks:,} delivered and recorded, "
        f"{counter.value:,} signatures verified: [bold]{rate:,.0f} deliveries/s[/] "
        "(limit 1,000/s)"
    )


PARTS = {"latency": part_latency, "throughput": part_throughput, "callbacks": part_callbacks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=[*PARTS, "all"], default="all")
    parser.add_argument("--pending", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--callbacks", type=int, default=20_000)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args()
    results: dict = {"cpus": os.cpu_count()}
    for name, part in PARTS.items():
        if args.part in (name, "all"):
            part(args, results)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
