"""The SQLite store's process-level machinery: the writer lock and background checkpoints."""

import fcntl
import time

import pytest
from sqlalchemy import text

from assay.store.checkpoints import Checkpointer
from assay.store.db import Store
from assay.store.migrate import migrate


@pytest.fixture
def sqlite_store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    migrate(store)
    yield store
    store.close()


def test_writers_of_other_processes_queue_on_a_file_lock(sqlite_store, tmp_path):
    """While one store writes, the lock file beside the database is held, so a writer in
    another process (another open file) waits for it instead of polling SQLite."""
    with open(tmp_path / "s.db-writer", "a+b") as other_process:
        with sqlite_store.write(), pytest.raises(BlockingIOError):
            fcntl.flock(other_process, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(other_process, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free once committed
        fcntl.flock(other_process, fcntl.LOCK_UN)


def test_background_checkpoints_copy_the_log_back(sqlite_store, tmp_path):
    with sqlite_store.write() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    with sqlite_store.write() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
    checkpointer = Checkpointer(str(tmp_path / "s.db"), interval_s=0.01).start()
    try:
        deadline = time.monotonic() + 30
        while True:
            with sqlite_store.read() as conn:
                # NOOP mode only reports: frames in the log, and how many are checkpointed.
                _, logged, copied = conn.execute(text("PRAGMA wal_checkpoint(NOOP)")).one()
            if logged > 0 and logged == copied or time.monotonic() > deadline:
                break
            time.sleep(0.02)
    finally:
        checkpointer.stop()
    assert logged > 0 and copied == logged
