"""Opaque, time-ordered identifiers.

Ids sort in creation order (12 hex digits of milliseconds, then a per-process counter,
then randomness), so a table keyed by id gives cursor pagination for free and inserts
append to the end of its index instead of scattering across it.
"""

import itertools
import os
import secrets
import threading
import time
from datetime import datetime

_counter = itertools.count(secrets.randbits(24))
_lock = threading.Lock()


def new_ids(n: int) -> list[str]:
    """Return n fresh ids, ascending."""
    with _lock:
        start = next(_counter)
        for _ in range(n - 1):
            next(_counter)
    stamp = f"{time.time_ns() // 1_000_000:012x}"
    noise = os.urandom(3 * n).hex()
    return [f"{stamp}{(start + i) & 0xFFFFFF:06x}{noise[6 * i : 6 * i + 6]}" for i in range(n)]


def new_id() -> str:
    return new_ids(1)[0]


def utc_iso(micros_since_epoch: int) -> str:
    """UTC ISO-8601 with microseconds and a Z: fixed width, so text order is time order."""
    seconds, micros = divmod(micros_since_epoch, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micros:06d}Z"


def utc_now(plus_seconds: float = 0) -> str:
    """The current UTC time (or that many seconds from now) as sortable ISO-8601 text."""
    return utc_iso(time.time_ns() // 1000 + int(plus_seconds * 1_000_000))


def iso_plus(iso: str, seconds: float) -> str:
    """An ISO time from utc_now, moved by `seconds`."""
    micros = int(datetime.fromisoformat(iso).timestamp() * 1_000_000)
    return utc_iso(micros + int(seconds * 1_000_000))
