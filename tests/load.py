"""Shared pieces of the load tests: real `assay serve` processes and simulated workers."""

import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from conftest import free_port, wait_healthy
from sqlalchemy import select

from assay.store.tables import annotations, tasks

ASSAY = str(Path(sys.executable).parent / "assay")


class ServerProcess:
    """`assay serve` as a child process (so it can be killed like a real one)."""

    def __init__(self, database_args: list[str], port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Their callbacks go to receivers on this machine.
        self.args = [
            ASSAY,
            "serve",
            "--port",
            str(self.port),
            "--allow-private-urls",
            *database_args,
        ]
        self.proc: subprocess.Popen | None = None

    def start(self) -> "ServerProcess":
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy()
        )
        wait_healthy(self.url, self.proc)
        return self

    def kill(self) -> None:
        """kill -9: no shutdown, no flush, as a crash."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)


@dataclass
class Ledger:
    """What the workers were told: every 200 on a submit, by annotation id."""

    acknowledged: dict[str, tuple[str, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, annotation: dict, worker_id: str) -> None:
        with self.lock:
            self.acknowledged[annotation["id"]] = (annotation["task"], worker_id)


def work_until_dry(
    urls: list[str],
    key: str,
    worker_id: str,
    project: str,
    ledger: Ledger,
    seed: int,
    idle_rounds: int = 20,
    skip: float = 0.1,
    forget: float = 0.05,
    stop: threading.Event | None = None,
) -> None:
    """One simulated worker: next -> (skip | forget | submit) until nothing comes for a while
    (`idle_rounds` empty answers 0.3 s apart: longer than a test lease, so a slot held by a
    forgotten assignment has expired and been offered again before the worker gives up).

    A forgotten assignment is never answered, so its lease must expire to free the slot.
    Transport errors (a server being killed) are survived: the worker just goes on.
    """
    rng = random.Random(seed)
    idle = 0
    clients = [
        httpx.Client(base_url=u, headers={"Authorization": f"Bearer {key}"}, timeout=30)
        for u in urls
    ]
    try:
        while idle < idle_rounds and not (stop and stop.is_set()):
            client = rng.choice(clients)
            try:
                response = client.post("/v1/work/next", json={"project": project})
                if response.status_code == 204:
                    idle += 1
                    time.sleep(0.3)
                    continue
                idle = 0
                assignment = response.json()
                roll = rng.random()
                if roll < skip:
                    client.post(f"/v1/assignments/{assignment['id']}/skip")
                elif roll < skip + forget:
                    continue
                else:
                    label = rng.choice(["cat", "dog"])
                    answer = client.post(
                        f"/v1/assignments/{assignment['id']}/submit",
                        json={"response": {"label": label}},
                    )
                    if answer.status_code == 200:
                        ledger.add(answer.json(), worker_id)
            except httpx.TransportError:
                time.sleep(0.2)
    finally:
        for c in clients:
            c.close()


def stored_annotations(conn, project: str) -> dict[str, tuple[str, str]]:
    """Every stored answer of the project: annotation id -> (task id, worker id)."""
    query = (
        select(annotations.c.id, annotations.c.task_id, annotations.c.worker_id)
        .join(tasks, tasks.c.id == annotations.c.task_id)
        .where(tasks.c.project_id == project)
    )
    return {r.id: (r.task_id, r.worker_id) for r in conn.execute(query)}
