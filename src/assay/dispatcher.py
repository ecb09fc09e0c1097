"""Deliver queued callbacks: signed POSTs, many in flight, retried with backoff.

Runs as a thread inside `assay serve` and as the foreground loop of `assay worker`;
any number of them may share one database (see engine/callbacks.py for how).

Each destination (scheme, host and port) has a queue of its own and at most
`per_destination` deliveries in flight, so a receiver that is slow or down delays only
its own callbacks: while its queue is full, claims leave its rows in the database and
take other destinations' instead. Outcomes are recorded in batches while deliveries go
on. Every connection goes through the outbound policy (assay.outbound), and redirects
are not followed. The HTTP client is aiohttp: its connection pool sends several times
more requests per second per core than httpx's, and delivery throughput is what this
loop is for.
"""

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import aiohttp

from assay import __version__
from assay.engine import callbacks
from assay.engine.callbacks import CLAIM_LEASE_SECONDS, Delivery, Outcome
from assay.outbound import STRICT, OutboundPolicy
from assay.store.db import Store
from assay.webhooks import DELIVERY_HEADER, SIGNATURE_HEADER, sign

log = logging.getLogger("assay.callbacks")
PER_DESTINATION = 8
"""A customer's endpoint gets a few connections at a time: a small server's accept
queue overflows long before 64 arrive at once."""
LANE_DEPTH = 64
"""Deliveries a destination may have waiting before claims pass it over."""


@dataclass
class _Lane:
    """One destination's waiting deliveries (with the time each must start by, while
    its claim still holds) and how many senders work on them."""

    waiting: deque[tuple[float, Delivery]] = field(default_factory=deque)
    senders: int = 0


class Dispatcher:
    def __init__(
        self,
        store: Store,
        outbound: OutboundPolicy = STRICT,
        batch: int = 500,
        concurrency: int = 256,
        per_destination: int = PER_DESTINATION,
        timeout_s: float = 10,
        idle_s: float = 0.25,
    ):
        self.store = store
        self.outbound = outbound
        self.batch = batch
        self.concurrency = concurrency
        self.per_destination = per_destination
        self.timeout_s = timeout_s
        self.idle_s = idle_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    async def run(self) -> None:
        """Claim, send and record until stopped; sends in flight then finish and are
        recorded, and deliveries still waiting come due again when their claim ends."""
        self._lanes: dict[str, _Lane] = {}
        self._senders: set[asyncio.Task] = set()
        self._outcomes: list[Outcome] = []
        self._room = asyncio.Event()  # a full lane has drained below LANE_DEPTH
        self._finished = asyncio.Event()  # outcomes wait to be recorded
        self._draining = False
        connector = self.outbound.connector(
            limit=self.concurrency, limit_per_host=self.per_destination
        )
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.timeout_s),
            connector=connector,
            auto_decompress=False,
        ) as client:
            self._client = client
            recorder = asyncio.create_task(self._record())
            try:
                while not self._stop.is_set():
                    self._room.clear()
                    if not await self._claim():
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._room.wait(), self.idle_s)
            finally:
                self._stop.set()  # also when cancelled (Ctrl-C in `assay worker`)
                await asyncio.gather(*self._senders, return_exceptions=True)
                self._draining = True
                self._finished.set()
                await recorder

    async def _claim(self) -> int:
        """Claim due callbacks into their lanes, passing over full ones; how many."""
        full = [key for key, lane in self._lanes.items() if len(lane.waiting) >= LANE_DEPTH]
        waiting = sum(n for lane in self._lanes.values() if (n := len(lane.waiting)) < LANE_DEPTH)
        if waiting >= self.batch:
            return 0
        try:
            due = await asyncio.to_thread(
                callbacks.claim_due, self.store, self.batch - waiting, full
            )
        except Exception:
            log.exception("claiming callbacks failed")
            return 0
        start_by = time.monotonic() + CLAIM_LEASE_SECONDS - self.timeout_s
        for delivery in due:
            lane = self._lanes.setdefault(delivery.destination, _Lane())
            lane.waiting.append((start_by, delivery))
            if lane.senders < self.per_destination:
                lane.senders += 1
                sender = asyncio.create_task(self._work(delivery.destination, lane))
                self._senders.add(sender)
                sender.add_done_callback(self._senders.discard)
        return len(due)

    async def _work(self, key: str, lane: _Lane) -> None:
        """Send the lane's deliveries one after another until it is empty."""
        try:
            while lane.waiting and not self._stop.is_set():
                start_by, delivery = lane.waiting.popleft()
                if len(lane.waiting) == LANE_DEPTH - 1:
                    self._room.set()
                if time.monotonic() > start_by:
                    continue  # its claim would end mid-send: it comes due again for a new one
                outcome = await self._send(delivery)  # before naming the list: it is swapped
                self._outcomes.append(outcome)
                self._finished.set()
        finally:
            lane.senders -= 1
            if not lane.senders and self._lanes.get(key) is lane:
                del self._lanes[key]  # deliveries left waiting (stopping) are dropped

    async def _send(self, d: Delivery) -> Outcome:
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(d.body, d.secret),
            DELIVERY_HEADER: d.id,
            "User-Agent": f"assay/{__version__}",
        }
        try:
            async with self._client.post(
                d.url, data=d.body, headers=headers, allow_redirects=False
            ) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as exc:
            return Outcome(d.id, d.task_id, False, f"{type(exc).__name__}: {exc}")
        if 200 <= status < 300:
            return Outcome(d.id, d.task_id, True)
        return Outcome(d.id, d.task_id, False, f"HTTP {status}")

    async def _record(self) -> None:
        """Record outcomes as they come, all that have gathered in one transaction."""
        while not (self._draining and not self._outcomes):
            await self._finished.wait()
            self._finished.clear()
            outcomes, self._outcomes = self._outcomes, []
            try:
                await asyncio.to_thread(callbacks.record, self.store, outcomes)
            except Exception:
                log.exception("recording callback outcomes failed")

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
