"""The ingest progress line: counts, rate, ETA, retries and throttles; never row contents."""

from __future__ import annotations

import time
from collections.abc import Callable

from airflow_provider_customerprofiles.periodic import format_eta


class IngestProgress:
    """
    ``line()`` from ``snapshot()``, which returns (rows_done, rows_total, retries, throttles, dead_lettered);
    rows/s is measured from when this was made, so rows done by earlier tries do not inflate it.
    """

    def __init__(
        self, snapshot: Callable[[], tuple[int, int, int, int, int]], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._snapshot = snapshot
        self._clock = clock
        self._started = clock()
        self._start_done = snapshot()[0]

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
