"""kill -9 the server mid-load, start it again: nothing acknowledged is lost, no task stays
leased, and callbacks that could not go out before the crash go out after it."""

import threading
import time

import orjson
from conftest import free_port
from load import Ledger, ServerProcess, stored_annotations, work_until_dry
from sqlalchemy import select
from test_callbacks import Receiver, wait_for

from assay import Client
from assay.engine.keys import create_key
from assay.store.tables import assignments, callbacks, tasks

TASKS, OVERLAP, WORKERS = 200, 2, 8


def run_workers(urls, workers, project, ledger, stop=None, seed=0):
    threads = [
        threading.Thread(
            target=work_until_dry,
            args=(urls, w["key"], w["id"], project, ledger, seed + i),
            kwargs={"stop": stop},
        )
        for i, w in enumerate(workers)
    ]
    for t in threads:
        t.start()
    return threads


def test_a_crash_loses_nothing_acknowledged(database):
    args, store = database
    hook_port = free_port()
    server = ServerProcess(args).start()
    admin = Client(server.url, create_key(store, "admin", "crash")["key"])
    project = admin.create_project(
        "crash",
        "categorization",
        {"labels": ["cat", "dog"]},
        overlap=OVERLAP,
        lease_seconds=1,
        callback_url=f"http://127.0.0.1:{hook_port}/hook",
    )["id"]
    admin.import_tasks(project, ({"params": {"i": i}} for i in range(TASKS)))
    workers = [admin.create_worker(f"c{i}") for i in range(WORKERS)]
    ledger = Ledger()

    stop = threading.Event()
    threads = run_workers([server.url], workers, project, ledger, stop)
    assert wait_for(lambda: len(ledger.acknowledged) >= TASKS // 2, timeout=120)
    server.kill()  # mid-load, with the callback receiver down
    stop.set()
    for t in threads:
        t.join()
    before_crash = dict(ledger.acknowledged)

    server = ServerProcess(args, port=server.port).start()
    try:
        with Receiver(port=hook_port) as receiver:
            for t in run_workers([server.url], workers, project, ledger, seed=100):
                t.join()
            with store.read() as conn:
                completed = set(
                    conn.execute(
                        select(tasks.c.id).where(
                            tasks.c.project_id == project, tasks.c.status == "completed"
                        )
                    ).scalars()
                )
            assert wait_for(
                lambda: {task_of(r) for r in receiver.received} >= completed, timeout=120
            )
    finally:
        server.stop()

    with store.read() as conn:
        stored = stored_annotations(conn, project)
        statuses = set(
            conn.execute(select(tasks.c.status).where(tasks.c.project_id == project)).scalars()
        )
        live = (
            conn.execute(
                select(assignments.c.expires_at).where(
                    assignments.c.project_id == project, assignments.c.status == "active"
                )
            )
            .scalars()
            .all()
        )
        undelivered = conn.execute(
            select(callbacks.c.id).where(
                callbacks.c.project_id == project, callbacks.c.status != "delivered"
            )
        ).all()
    assert before_crash.items() <= stored.items()  # acknowledged before the crash: kept
    assert ledger.acknowledged.items() <= stored.items()
    assert statuses == {"completed"}  # nothing stayed leased forever
    now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    assert all(expires < now for expires in live)
    assert len(completed) == TASKS and undelivered == []


def task_of(received: dict) -> str | None:
    return orjson.loads(received["body"]).get("task_id")
