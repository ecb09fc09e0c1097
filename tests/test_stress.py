"""24 workers against real server processes: 2,000 tasks, overlap 3, skips, expiring leases.

SQLite runs one server process; PostgreSQL runs three on one database, so claims race
across processes. Afterwards every invariant of the work loop must hold.
"""

import threading
from collections import Counter

import orjson
from load import Ledger, ServerProcess, stored_annotations, work_until_dry
from sqlalchemy import func, select
from test_callbacks import Receiver, wait_for

from assay import Client
from assay.engine.keys import create_key
from assay.store.tables import callbacks, tasks

TASKS, OVERLAP, WORKERS = 2_000, 3, 24


def test_no_slot_is_handed_out_twice_under_load(backend, database):
    args, store = database
    servers = [ServerProcess(args).start() for _ in range(3 if backend == "postgres" else 1)]
    try:
        with Receiver() as receiver:
            admin = Client(servers[0].url, create_key(store, "admin", "stress")["key"])
            project = admin.create_project(
                "stress",
                "categorization",
                {"labels": ["cat", "dog"]},
                overlap=OVERLAP,
                lease_seconds=2,
                callback_url=receiver.url,
            )["id"]
            report = admin.import_tasks(project, ({"params": {"i": i}} for i in range(TASKS)))
            assert report["created"] == TASKS
            workers = [admin.create_worker(f"w{i}") for i in range(WORKERS)]
            ledger = Ledger()
            threads = [
                threading.Thread(
                    target=work_until_dry,
                    args=([s.url for s in servers], w["key"], w["id"], project, ledger, i),
                )
                for i, w in enumerate(workers)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert wait_for(lambda: len(receiver.received) >= TASKS, timeout=120)
    finally:
        for server in servers:
            server.stop()

    with store.read() as conn:
        stored = stored_annotations(conn, project)
        rows = conn.execute(select(tasks).where(tasks.c.project_id == project)).all()
        outbox = dict(
            conn.execute(
                select(callbacks.c.task_id, func.count())
                .where(callbacks.c.project_id == project)
                .group_by(callbacks.c.task_id)
            ).all()
        )

    assert ledger.acknowledged.items() <= stored.items()  # every acknowledged submit is stored
    per_task = Counter(task for task, _ in stored.values())
    assert max(per_task.values()) <= OVERLAP
    assert len(set(stored.values())) == len(stored)  # no worker answered a task twice
    assert all(row.status == "completed" and row.answers == OVERLAP for row in rows)
    assert all(orjson.loads(row.response)["annotations"] == OVERLAP for row in rows)
    assert outbox == {row.id: 1 for row in rows}  # one callback per completion
