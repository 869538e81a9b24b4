"""
A client-side request rate that adapts to throttling (AIMD).

The account's quota is shared by every caller, so our own ceiling can be wrong at
any moment. Each request takes the next evenly spaced send slot (no bursts, which
is what the service's one-second token bucket tolerates best). A throttle cuts the
rate multiplicatively, at most once per ``cooldown`` (one burst of 429s from
requests already in flight is one signal, not ten); the rate then grows back
linearly to the ceiling.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol


class RateLimiter(Protocol):
    """What the sender needs from a limiter: one per process (below) or shared (``shared_quota``)."""

    def acquire(self) -> None:
        """Block until this caller may send one request."""

    def on_throttle(self) -> None:
        """The service said 429: slow down."""

    def current_rate(self) -> float:
        """Requests a second allowed now (for progress and metrics)."""


class AdaptiveRateLimiter:
    """
    Paces callers to at most ``max_rate`` requests a second, shared by all threads.

    :param max_rate: the ceiling, requests per second.
    :param min_rate: the floor the rate never drops below.
    :param decrease_factor: the rate is multiplied by this on a throttle.
    :param recovery_per_second: requests/s added back per second without throttling.
    :param cooldown: seconds after a decrease during which further throttles are ignored.
    :param clock: monotonic clock (seconds); injectable for tests.
    :param sleep: sleep function; injectable for tests.
    """

    def __init__(
        self,
        max_rate: float,
        *,
        min_rate: float = 1.0,
        decrease_factor: float = 0.7,
        recovery_per_second: float | None = None,
        cooldown: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_rate <= 0:
            raise ValueError("max_rate must be positive")
        self.max_rate = float(max_rate)
        self.min_rate = min(float(min_rate), self.max_rate)
        self.decrease_factor = decrease_factor
        self.recovery_per_second = recovery_per_second if recovery_per_second is not None else self.max_rate * 0.1
        self.cooldown = cooldown
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        now = clock()
        self._rate_at_change = self.max_rate
        self._changed_at = now
        self._last_decrease = now - cooldown
        self._next_slot = now

    def current_rate(self) -> float:
        """The rate in force now: the last decreased value plus linear recovery, capped at the ceiling."""
        with self._lock:
            return self._rate(self._clock())

    def _rate(self, now: float) -> float:
        grown = self._rate_at_change + self.recovery_per_second * (now - self._changed_at)
        return min(self.max_rate, grown)

    def reserve(self) -> float:
        """Take the next send slot; returns how many seconds to wait before sending."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot)
            self._next_slot = slot + 1.0 / self._rate(slot)
            return slot - now

    def acquire(self) -> None:
        """Block until this caller may send one request."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)

    def on_throttle(self) -> None:
        """The service said 429: slow down (once per cooldown)."""
        with self._lock:
            now = self._clock()
            if now - self._last_decrease < self.cooldown:
                return
            self._rate_at_change = max(self.min_rate, self._rate(now) * self.decrease_factor)
            self._changed_at = now
            self._last_decrease = now
            self._next_slot = max(self._next_slot, now + 1.0 / self._rate_at_change)
