"""One process at a time runs each background job, across every process and host on the
database, so `assay serve --workers N` (on one host or several) runs it once.

A job's lease is taken by name. On PostgreSQL it is a session advisory lock on a
connection the holder keeps for it: the lease ends the moment that connection does, a
killed process's included. SQLite has no such lock across processes; there the lease is
a row of `job_leases` whose expiry a thread of the holder renews every third of `ttl_s`,
so a holder killed mid-job leaves the job to another process once `ttl_s` has passed.
A holder keeps its lease from round to round (its caches stay useful) until it stops.
"""

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Protocol

import psycopg
from sqlalchemy import Connection

from assay.ids import new_id, utc_now
from assay.store.db import Store
from assay.store.sql import Sql, run, scalar

log = logging.getLogger(__name__)

DEFAULT_TTL_S = 30.0


class JobLease(Protocol):
    def hold(self) -> bool:
        """Take the lease if it is free, keep it if this process has it; whether it has."""
        ...

    def release(self) -> None:
        """Give the lease up for good, so another process takes over without waiting."""
        ...


def job_lease(store: Store, name: str, ttl_s: float = DEFAULT_TTL_S) -> JobLease:
    """The lease on job `name` (e.g. "automation") for this process."""
    if store.dialect == "postgresql":
        return _AdvisoryLease(store, name)
    return _RowLease(store, name, ttl_s)


_TRY_LOCK = Sql("SELECT pg_try_advisory_lock(:key) AS taken")
_ALIVE = Sql("SELECT 1 AS alive")
_UNLOCK = Sql("SELECT pg_advisory_unlock(:key) AS released")


class _AdvisoryLease:
    def __init__(self, store: Store, name: str):
        self.store = store
        digest = hashlib.sha256(f"assay job {name}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def hold(self) -> bool:
        with self._lock:
            if self._conn is not None:
                try:
                    scalar(self._conn, _ALIVE)
                    return True
                except psycopg.Error:  # the server or the network dropped it, and the lock
                    self._conn.invalidate()
                    self._conn.close()
                    self._conn = None
            conn = self.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            if scalar(conn, _TRY_LOCK, {"key": self.key}):
                self._conn = conn
                return True
            conn.close()
            return False

    def release(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            try:
                scalar(self._conn, _UNLOCK, {"key": self.key})
            except psycopg.Error:
                self._conn.invalidate()
            self._conn.close()
            self._conn = None


_TAKE = Sql(
    "INSERT INTO job_leases (name, holder, expires_at) VALUES (:name, :holder, :expires)"
    " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder,"
    " expires_at = excluded.expires_at"
    " WHERE job_leases.holder = excluded.holder OR job_leases.expires_at < :now"
)
_HOLDER = Sql("SELECT holder FROM job_leases WHERE name = :name")
_GIVE_UP = Sql("DELETE FROM job_leases WHERE name = :name AND holder = :holder")


class _RowLease:
    def __init__(self, store: Store, name: str, ttl_s: float):
        self.store = store
        self.name = name
        self.ttl_s = ttl_s
        self.holder = new_id()
        self._held = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._keeper: threading.Thread | None = None

    def _take(self) -> bool:
        """Take the row if it is free or expired, renew it if ours; whether it is ours."""
        with self.store.write() as conn:
            params = {"name": self.name, "holder": self.holder, "now": utc_now()}
            run(conn, _TAKE, params | {"expires": utc_now(self.ttl_s)})
            return scalar(conn, _HOLDER, {"name": self.name}) == self.holder

    def hold(self) -> bool:
        with self._lock:
            if not self._held and not self._stop.is_set():
                self._held = self._take()
                if self._held and self._keeper is None:
                    self._keeper = threading.Thread(
                        target=self._keep, name=f"assay-lease-{self.name}", daemon=True
                    )
                    self._keeper.start()
            return self._held

    def _keep(self) -> None:
        """Renew the lease while it is held, however long the job's round takes."""
        while not self._stop.wait(self.ttl_s / 3):
            with self._lock:
                if not self._held:
                    continue
                try:
                    self._held = self._take()
                except Exception:  # a busy database: the next renewal may still be in time
                    log.warning("could not renew the %s lease", self.name, exc_info=True)
                if not self._held:
                    log.warning("lost the %s lease to another process", self.name)

    def release(self) -> None:
        self._stop.set()
        if self._keeper is not None:
            self._keeper.join()
        with self._lock:
            try:
                if self._held:
                    with self.store.write() as conn:
                        run(conn, _GIVE_UP, {"name": self.name, "holder": self.holder})
            except Exception:  # the row expires by itself
                log.warning("could not give up the %s lease", self.name, exc_info=True)
            self._held = False


class LeasedLoop:
    """Runs `step` every `interval_s` from a daemon thread, in the one process (of all on
    the database) that holds the lease on job `name`. A failing step is logged and the
    loop goes on."""

    def __init__(
        self,
        store: Store,
        name: str,
        step: Callable[[], object],
        interval_s: float,
        ttl_s: float = DEFAULT_TTL_S,
    ):
        self.name = name
        self.step = step
        self.interval_s = interval_s
        self.lease = job_lease(store, name, ttl_s)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"assay-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float) -> None:
        """Stop the loop; the lease is given up once its round has ended (a round still
        running after `timeout_s` keeps it until the process exits or it expires)."""
        self._stop.set()
        self._thread.join(timeout=timeout_s)
        if not self._thread.is_alive():
            self.lease.release()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                if self.lease.hold():
                    self.step()
            except Exception:
                log.exception("%s round failed", self.name)
