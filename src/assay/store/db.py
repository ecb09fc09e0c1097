"""Connections: one Store per process wraps a SQLAlchemy engine for SQLite or PostgreSQL.

`write()` opens the only kind of transaction that may change data. On SQLite it starts
with BEGIN IMMEDIATE so a writer takes the lock up front and waits (busy timeout) rather
than failing half-way with "database is locked"; readers never block in WAL mode.

SQLite's own wait for its write lock is a sleep-and-retry loop (1 ms, 2 ms, 5 ms, ...),
which costs more than the short transactions it waits for. So writers queue first on a
lock that wakes the next one the moment it frees: a thread lock within a process, and an
advisory file lock (flock) beside the database between processes (several `assay serve`
workers, `assay worker`, the CLI).
"""

import fcntl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from psycopg.errors import DeadlockDetected
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import OperationalError

from assay.store.checkpoints import Checkpointer

SQLITE_FILE = "assay.db"
BUSY_TIMEOUT_MS = 30_000
CACHE_KIB = 32 * 1024  # per connection: the hot index pages of millions of tasks
WAL_CHECKPOINT_PAGES = 10_000  # index pages rewritten by consecutive imports are copied once


def database_url(data_dir: str | Path, url: str | None = None) -> str:
    """The URL to use: an explicit one, else the SQLite file under the data dir."""
    if url:
        return url
    path = Path(data_dir).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path / SQLITE_FILE}"


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        pool_size=16,  # kept open: a new connection starts with a cold page cache
        max_overflow=32,
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cur.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        cur.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection):
        immediate = conn.get_execution_options().get("write", False)
        # On the driver itself: this runs for every transaction.
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class _WriterLock:
    """One writer at a time: a thread lock, then an flock on `<database>-writer`."""

    def __init__(self, database: str | None):
        self._threads = threading.Lock()
        self._file = None
        if database and database != ":memory:":
            self._file = open(f"{database}-writer", "a+b")  # noqa: SIM115 (held for life)

    def __enter__(self) -> None:
        self._threads.acquire()
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_EX)

    def __exit__(self, *_exc) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
        self._threads.release()


class Store:
    def __init__(self, url: str):
        self.url = url
        if url.startswith("sqlite"):
            self.engine = _sqlite_engine(url)
        else:
            self.engine = create_engine(url, pool_size=10, max_overflow=30, pool_pre_ping=True)
        self.dialect = self.engine.dialect.name
        self._writer_lock = (
            _WriterLock(self.engine.url.database) if self.dialect == "sqlite" else nullcontext()
        )

    @contextmanager
    def write(self) -> Iterator[Connection]:
        # The lock is held from BEGIN to COMMIT only, not while the pool hands out and
        # takes back the connection.
        with (
            self.engine.connect().execution_options(write=True) as conn,
            self._writer_lock,
            conn.begin(),
        ):
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def start_checkpoints(self) -> Checkpointer | None:
        """For a long-running server on SQLite: checkpoint the WAL off the request path."""
        if self.dialect != "sqlite" or not self.engine.url.database:
            return None
        return Checkpointer(self.engine.url.database).start()

    def close(self) -> None:
        self.engine.dispose()


def as_dict(row) -> dict:
    """A result row (or a dict) as a plain dict with str keys (orjson refuses str subclasses,
    which is what SQLAlchemy's column names are)."""
    if isinstance(row, dict):
        return dict(row)
    return dict(zip(map(str, row._fields), row, strict=True))


DEADLOCK_RETRIES = 3


def retry_deadlocks(fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn`, again if PostgreSQL chose its transaction as a deadlock's victim: the
    transaction was rolled back whole, so running it again is safe."""
    for attempt in range(DEADLOCK_RETRIES + 1):
        try:
            return fn(*args)
        except (DeadlockDetected, OperationalError) as exc:
            cause = getattr(exc, "orig", exc)
            if not isinstance(cause, DeadlockDetected) or attempt == DEADLOCK_RETRIES:
                raise
