"""Connections: one Store per process wraps a SQLAlchemy engine for SQLite or PostgreSQL.

`write()` opens the only kind of transaction that may change data. On SQLite it starts
with BEGIN IMMEDIATE so a writer takes the lock up front and waits (busy timeout) rather
than failing half-way with "database is locked"; readers never block in WAL mode.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event

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


class Store:
    def __init__(self, url: str):
        self.url = url
        if url.startswith("sqlite"):
            self.engine = _sqlite_engine(url)
        else:
            self.engine = create_engine(url, pool_size=10, max_overflow=30, pool_pre_ping=True)
        self.dialect = self.engine.dialect.name
        self._writer_lock = threading.Lock() if self.dialect == "sqlite" else nullcontext()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        # SQLite admits one writer; queueing this process's writers on a lock wakes the next
        # one the moment the lock frees, where SQLite's busy handler would sleep and poll.
        with (
            self._writer_lock,
            self.engine.connect().execution_options(write=True) as conn,
            conn.begin(),
        ):
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def close(self) -> None:
        self.engine.dispose()


def as_dict(row) -> dict:
    """A result row (or a dict) as a plain dict with str keys (orjson refuses str subclasses,
    which is what SQLAlchemy's column names are)."""
    if isinstance(row, dict):
        return dict(row)
    return dict(zip(map(str, row._fields), row, strict=True))
