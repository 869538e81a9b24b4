"""A progress line every few seconds: counts, rate, ETA, retries and throttles; never row contents."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m{rest % 60:02d}s" if hours else f"{rest // 60}m{rest % 60:02d}s"


class ProgressReporter:
    """
    Logs ``snapshot()`` every ``interval`` seconds from a daemon thread until stopped.

    ``snapshot`` returns (rows_done, rows_total, retries, throttles, dead_lettered);
    rows/s is measured since the reporter started.
    """

    def __init__(
        self,
        snapshot: Callable[[], tuple[int, int, int, int, int]],
        log: logging.Logger,
        interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._snapshot = snapshot
        self._log = log
        self._interval = interval
        self._clock = clock
        self._stop = threading.Event()
        self._started = clock()
        self._start_done = snapshot()[0]
        self._thread = threading.Thread(target=self._run, name="cp-ingest-progress", daemon=True)

    def line(self) -> str:
        done, total, retries, throttles, dead = self._snapshot()
        elapsed = max(self._clock() - self._started, 1e-9)
        rate = (done - self._start_done) / elapsed
        eta = (total - done) / rate if rate > 0 else None
        percent = 100.0 * done / total if total else 100.0
        return (
            f"rows {done}/{total} ({percent:.1f}%), {rate:.0f} rows/s, ETA {format_eta(eta)}, "
            f"dead-lettered {dead}, retries {retries}, throttles {throttles}"
        )

    def start(self) -> ProgressReporter:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._log.info("Ingest progress: %s", self.line())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._log.info("Ingest finished: %s", self.line())
