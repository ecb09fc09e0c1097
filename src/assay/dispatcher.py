"""Deliver queued callbacks: signed POSTs, many in flight, retried with backoff.

Runs as a thread inside `assay serve` and as the foreground loop of `assay worker`;
any number of them may share one database (see engine/callbacks.py for how). The HTTP
client is aiohttp: its connection pool sends several times more requests per second per
core than httpx's, and delivery throughput is what this loop is for.
"""

import asyncio
import logging
import threading

import aiohttp

from assay import __version__
from assay.engine import callbacks
from assay.engine.callbacks import Delivery, Outcome
from assay.store.db import Store
from assay.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, sign

log = logging.getLogger("assay.callbacks")
PER_HOST = 8


class Dispatcher:
    def __init__(
        self,
        store: Store,
        batch: int = 500,
        concurrency: int = 64,
        timeout_s: float = 10,
        idle_s: float = 0.25,
    ):
        self.store = store
        self.batch = batch
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.idle_s = idle_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    async def _send(self, client: aiohttp.ClientSession, gate: asyncio.Semaphore, d: Delivery):
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(d.body, d.secret),
            DELIVERY_HEADER: d.id,
            "User-Agent": f"assay/{__version__}",
        }
        async with gate:
            try:
                async with client.post(d.url, data=d.body, headers=headers) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                return Outcome(d.id, d.task_id, False, f"{type(exc).__name__}: {exc}")
        if 200 <= status < 300:
            return Outcome(d.id, d.task_id, True)
        return Outcome(d.id, d.task_id, False, f"HTTP {status}")

    async def run_once(self, client: aiohttp.ClientSession) -> int:
        """Deliver one batch of due callbacks; returns how many were attempted."""
        due = await asyncio.to_thread(callbacks.claim_due, self.store, self.batch)
        if due:
            gate = asyncio.Semaphore(self.concurrency)
            outcomes = await asyncio.gather(*(self._send(client, gate, d) for d in due))
            await asyncio.to_thread(callbacks.record, self.store, list(outcomes))
        return len(due)

    async def run(self) -> None:
        """Loop until stopped; a failing round is logged and the loop goes on."""
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout_s),
            # A customer's endpoint gets a few connections at a time, not all of them: a
            # small server's accept queue overflows long before 64 arrive at once.
            connector=aiohttp.TCPConnector(limit=self.concurrency, limit_per_host=PER_HOST),
            auto_decompress=False,
        ) as client:
            while not self._stop.is_set():
                try:
                    sent = await self.run_once(client)
                except Exception:
                    log.exception("callback delivery round failed")
                    sent = 0
                if not sent:
                    await asyncio.sleep(self.idle_s)

    def start(self) -> None:
        """Run in a background thread (as `assay serve` does)."""
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self.run()), name="assay-callbacks", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s + 5)
