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


class RecordingClock(FakeClock):
    """A fake clock that also records every sleep it was asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        super().sleep(seconds)


def test_a_throttle_pushes_the_next_slot_one_new_interval_past_now(clock):
    limiter = make(clock, decrease_factor=0.5, recovery_per_second=0)
    limiter.acquire()
    clock.now += 5  # idle: the next evenly spaced slot is long past
    limiter.on_throttle()
    # At the halved rate (50/s) the next request waits one full new interval from the throttle.
    assert limiter.reserve() == pytest.approx(1 / 50)


def test_a_throttle_never_pulls_a_later_slot_earlier(clock):
    limiter = make(clock, decrease_factor=0.5, recovery_per_second=0)
    for _ in range(10):
        limiter.reserve()  # slots booked up to 0.1 s ahead at 100/s
    limiter.on_throttle()
    assert limiter.reserve() == pytest.approx(10 / 100)


def test_defaults_cut_by_30_percent_at_most_once_a_second_down_to_1_per_second(clock):
    limiter = AdaptiveRateLimiter(100, recovery_per_second=0, clock=clock, sleep=clock.sleep)
    limiter.on_throttle()
    assert limiter.current_rate() == pytest.approx(70)
    clock.now += 0.99
    limiter.on_throttle()
    assert limiter.current_rate() == pytest.approx(70)
    clock.now += 0.01
    limiter.on_throttle()
    assert limiter.current_rate() == pytest.approx(49)
    for _ in range(20):
        clock.now += 1
        limiter.on_throttle()
    assert limiter.current_rate() == pytest.approx(1)


def test_default_recovery_is_a_tenth_of_the_ceiling_per_second(clock):
    limiter = AdaptiveRateLimiter(100, decrease_factor=0.5, clock=clock, sleep=clock.sleep)
    limiter.on_throttle()
    clock.now += 3
    assert limiter.current_rate() == pytest.approx(50 + 3 * 10)


def test_a_fractional_ceiling_is_accepted_and_paces_below_one_per_second(clock):
    limiter = AdaptiveRateLimiter(0.5, clock=clock, sleep=clock.sleep)
    start = clock.now
    for _ in range(3):
        limiter.acquire()
    assert clock.now - start == pytest.approx(4.0)
    assert limiter.current_rate() == pytest.approx(0.5)


def test_a_free_slot_sends_without_sleeping():
    clock = RecordingClock()
    limiter = AdaptiveRateLimiter(10, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    clock.now += 1
    limiter.acquire()
    assert clock.sleeps == []
    limiter.acquire()
    assert clock.sleeps == [pytest.approx(0.1)]


@pytest.mark.parametrize("ceiling", [0, -1.5])
def test_a_non_positive_ceiling_is_refused_with_a_clear_message(ceiling):
    with pytest.raises(ValueError, match=r"^max_rate must be positive$"):
        AdaptiveRateLimiter(ceiling)
