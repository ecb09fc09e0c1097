"""Peak resident memory of a server's process tree while a benchmark runs."""

import contextlib
import threading
import time

import psutil


def tree_rss(proc: psutil.Process) -> int:
    """RSS in bytes of a process and all its descendants."""
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += p.memory_info().rss
    return total


class RssSampler:
    """Samples the RSS of a process tree every `interval` seconds in a background thread."""

    def __init__(self, pid: int, interval: float = 0.01):
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.before = tree_rss(self.proc)
        self.peak = self.before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.proc))
            time.sleep(self.interval)

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join()
