"""The adaptive limiter against a fake clock: pacing, multiplicative decrease, linear recovery."""

from __future__ import annotations

import pytest

from airflow_provider_customerprofiles.ingest.rate_limit import AdaptiveRateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make(clock: FakeClock, **kwargs) -> AdaptiveRateLimiter:
    return AdaptiveRateLimiter(100, clock=clock, sleep=clock.sleep, **kwargs)


def test_paces_evenly_at_the_ceiling(clock):
    limiter = make(clock)
    start = clock.now
    for _ in range(200):
        limiter.acquire()
    # 200 slots at 100/s: the last one starts 199 intervals after the first.
    assert clock.now - start == pytest.approx(1.99)


def test_throttle_decreases_multiplicatively_once_per_cooldown(clock):
    limiter = make(clock, decrease_factor=0.5, cooldown=1.0)
    limiter.on_throttle()
    assert limiter.current_rate() == pytest.approx(50)
    limiter.on_throttle()  # same burst of 429s: ignored
    assert limiter.current_rate() == pytest.approx(50)
    clock.now += 1.0
    limiter.on_throttle()
    # recovered 10/s for 1 s (60), then halved
    assert limiter.current_rate() == pytest.approx(30)


def test_recovers_linearly_to_the_ceiling_and_no_further(clock):
    limiter = make(clock, decrease_factor=0.5, recovery_per_second=10)
    limiter.on_throttle()
    clock.now += 2
    assert limiter.current_rate() == pytest.approx(70)
    clock.now += 100
    assert limiter.current_rate() == pytest.approx(100)


def test_never_below_the_floor(clock):
    limiter = make(clock, decrease_factor=0.1, min_rate=5, cooldown=0)
    for _ in range(10):
        limiter.on_throttle()
    assert limiter.current_rate() == pytest.approx(5)


def test_slower_rate_spaces_requests_wider(clock):
    limiter = make(clock, decrease_factor=0.5, recovery_per_second=0)
    limiter.on_throttle()
    limiter.acquire()
    before = clock.now
    limiter.acquire()
    assert clock.now - before == pytest.approx(1 / 50)


def test_rejects_a_non_positive_ceiling():
    with pytest.raises(ValueError, match="max_rate"):
        AdaptiveRateLimiter(0)
