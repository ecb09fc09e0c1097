"""The quick lane: a few dedicated threads for the small, frequent database calls (key
lookups and the work loop).

Run on the shared thread pool, sixteen concurrent requests mean sixteen threads taking
turns at the GIL and at SQLite's single writer lock, and each handover costs more than
the statements themselves. Queued onto one thread (SQLite writes one transaction at a
time anyway) they run back to back while the event loop keeps parsing and answering
requests. PostgreSQL runs transactions in parallel and waits on the network, so it gets
a few threads. Bulk work (imports, exports) stays on the shared pool, out of this queue.
"""

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import Request

from assay.store.db import retry_deadlocks

THREADS = {"sqlite": 1, "postgresql": 4}


class QuickLane:
    def __init__(self, dialect: str):
        self._pool = ThreadPoolExecutor(THREADS[dialect], thread_name_prefix="assay-quick")

    async def __call__(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(
            self._pool, retry_deadlocks, fn, *args
        )

    def close(self) -> None:
        self._pool.shutdown()


async def lane_of(request: Request) -> QuickLane:
    return request.app.state.lane
