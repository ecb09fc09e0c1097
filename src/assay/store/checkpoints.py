"""Background WAL checkpoints for a serving process.

SQLite copies its write-ahead log back into the database file when a commit finds the
log longer than `wal_autocheckpoint` pages; that one commit then takes tens of
milliseconds, and the request behind it waits. A server instead checkpoints from a thread
of its own twice a second, in PASSIVE mode (it neither waits for nor blocks readers and
writers), so the log stays short and requests never pay for it. The autocheckpoint
stays on as a safety net for processes that run no such thread.
"""

import logging
import sqlite3
import threading

log = logging.getLogger("assay.store")


class Checkpointer:
    def __init__(self, database: str, interval_s: float = 0.5):
        self.database = database
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="assay-checkpoints", daemon=True)

    def start(self) -> "Checkpointer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        conn = sqlite3.connect(self.database, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(self.interval_s):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.OperationalError as exc:  # another checkpoint runs: next time
                    log.debug("checkpoint skipped: %s", exc)
        finally:
            conn.close()
