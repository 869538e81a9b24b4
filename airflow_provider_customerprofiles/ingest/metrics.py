"""
Load metrics for a fleet to watch: counters and gauges, pushed to whatever the caller plugs in.

The engine imports no Airflow, so it reports through the small :class:`Metrics`
protocol; the operator adapts it to Airflow's ``Stats`` (StatsD / OpenTelemetry).
Names are fixed words, never data: metrics carry counts, no row contents.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Protocol

log = logging.getLogger(__name__)

# Counters: cumulative counts of the run, reported as increments.
OBJECTS_WRITTEN = "objects_written"
DEAD_LETTERED = "dead_lettered"
THROTTLES = "throttles"
RETRIES = "retries"
# Gauges: objects accepted a second since the last report, and the requests a second the limiter allows.
OBJECTS_PER_SECOND = "objects_per_second"
REQUEST_RATE_LIMIT = "request_rate_limit"


class Metrics(Protocol):
    """Where a load reports; ``name`` is one of this module's constants."""

    def incr(self, name: str, count: int) -> None:
        """Add ``count`` to counter ``name``."""

    def gauge(self, name: str, value: float) -> None:
        """Set gauge ``name`` to ``value``."""


class _NoMetrics:
    """Reports nowhere: the default when the caller plugs nothing in."""

    def incr(self, name: str, count: int) -> None:
        pass

    def gauge(self, name: str, value: float) -> None:
        pass


NO_METRICS: Metrics = _NoMetrics()


class MetricsReporter:
    """
    On each :meth:`report`, sends what each counter grew by since the last report, and the gauges.

    Called from a timer rather than per row: a load at the quota settles a thousand rows a second.
    ``counters`` returns the run's cumulative counts; ``request_rate`` the limiter's current rate.
    """

    def __init__(
        self,
        metrics: Metrics,
        counters: Callable[[], Mapping[str, int]],
        request_rate: Callable[[], float],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._metrics = metrics
        self._counters = counters
        self._request_rate = request_rate
        self._clock = clock
        self._sent: dict[str, int] = {}
        self._last_report = clock()

    def report(self) -> None:
        """Send the increments and gauges; a metrics backend that fails never fails the load."""
        try:
            self._report()
        except Exception as exc:
            log.warning("Ingest metrics not sent: %s: %s", type(exc).__name__, exc)

    def _report(self) -> None:
        now = self._clock()
        counts = self._counters()
        grown = {name: value - self._sent.get(name, 0) for name, value in counts.items()}
        for name, delta in grown.items():
            if delta:
                self._metrics.incr(name, delta)
        self._sent = dict(counts)
        elapsed = now - self._last_report
        self._last_report = now
        if elapsed > 0:
            self._metrics.gauge(OBJECTS_PER_SECOND, grown.get(OBJECTS_WRITTEN, 0) / elapsed)
        self._metrics.gauge(REQUEST_RATE_LIMIT, self._request_rate())
