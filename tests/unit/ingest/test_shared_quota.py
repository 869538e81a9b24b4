"""The shared limiter when its store fails and comes back, and its per-load pacing.

The store here stands in for Redis to script an outage (the fake is the point); the scripts
themselves run against a real Redis in tests/integration/ingest/test_shared_quota.py.
"""

from __future__ import annotations

import logging
import threading

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from airflow_provider_customerprofiles.ingest.shared_quota import SharedRateLimiter
from tests.unit.ingest.test_rate_limit import FakeClock


class ScriptedStore:
    """Answers the limiter's two scripts as Redis would for ``loads`` loads at ``rate``, or fails while ``down``."""

    def __init__(self, rate: float = 100.0, loads: int = 4, wait: float = 0.0) -> None:
        self.down = False
        self.calls = 0
        self.rate, self.loads, self.wait = rate, loads, wait

    def register_script(self, source: str):
        def run(keys, args):
            self.calls += 1
            if self.down:
                raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
            if "ZADD" in source:
                return [f"{self.wait:.6f}", f"{self.rate:.6f}", self.loads]
            self.rate *= 0.7
            return f"{self.rate:.6f}"

        return run

    def zrem(self, key, member):
        self.calls += 1


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def limiter(store: ScriptedStore, clock: FakeClock, **kwargs) -> SharedRateLimiter:
    return SharedRateLimiter(store, "123456789012:us-east-1", 100, clock=clock, sleep=clock.sleep, **kwargs)


def test_paces_this_load_at_its_share_of_the_shared_rate(clock):
    shared = limiter(ScriptedStore(rate=100, loads=4), clock)
    start = clock.now
    for _ in range(11):
        shared.acquire()
    # the first gap is the full rate (no answer yet), then 4 loads share 100/s: 25/s each, asked at
    # up to 1.25 times that (the share headroom; the namespace's schedule holds the sum)
    assert clock.now - start == pytest.approx(0.01 / 1.25 + 9 * 0.04 / 1.25)
    assert shared.current_rate() == pytest.approx(25)


def test_a_throttle_lowers_the_shared_rate_and_so_this_loads_share(clock):
    store = ScriptedStore(rate=100, loads=4)
    shared = limiter(store, clock)
    shared.acquire()
    shared.on_throttle()
    assert shared.current_rate() == pytest.approx(70 / 4)


def test_store_down_paces_on_the_per_process_limit_and_logs_once(clock, caplog):
    store = ScriptedStore()
    store.down = True
    shared = limiter(store, clock, retry_after=30)
    start = clock.now
    with caplog.at_level(logging.INFO, "airflow_provider_customerprofiles.ingest.shared_quota"):
        for _ in range(200):
            shared.acquire()
    assert not shared.shared
    assert clock.now - start == pytest.approx(1.99)  # 200 slots at the per-process 100/s
    assert store.calls == 1  # not asked again before retry_after
    [warning] = caplog.records
    assert warning.levelname == "WARNING"
    assert "unreachable (ConnectionError" in warning.getMessage()


def test_asks_again_after_retry_after_and_rejoins_the_shared_quota(clock, caplog):
    store = ScriptedStore(rate=100, loads=2)
    store.down = True
    shared = limiter(store, clock, retry_after=30)
    shared.acquire()
    clock.now += 29
    shared.acquire()
    assert store.calls == 1
    store.down = False
    clock.now += 1
    with caplog.at_level(logging.INFO, "airflow_provider_customerprofiles.ingest.shared_quota"):
        shared.acquire()
    assert store.calls == 2
    assert shared.shared
    assert shared.current_rate() == pytest.approx(50)
    assert "answers again" in caplog.records[-1].getMessage()


def test_a_throttle_while_the_store_is_down_lowers_the_per_process_rate(clock):
    store = ScriptedStore()
    store.down = True
    shared = limiter(store, clock, decrease_factor=0.5)
    shared.acquire()
    shared.on_throttle()
    assert shared.current_rate() == pytest.approx(50)


def test_leaving_never_raises_when_the_store_is_gone(clock):
    class Gone(ScriptedStore):
        def zrem(self, key, member):
            raise RedisConnectionError("gone")

    with limiter(Gone(), clock):
        pass


def test_waits_for_the_namespace_slot_the_store_gives(clock):
    shared = limiter(ScriptedStore(rate=100, loads=1, wait=0.5), clock)
    start = clock.now
    shared.acquire()
    assert clock.now - start == pytest.approx(0.5)


def test_a_store_counting_no_loads_leaves_this_load_the_whole_rate(clock):
    shared = limiter(ScriptedStore(rate=80, loads=0), clock)
    shared.acquire()
    assert shared.current_rate() == pytest.approx(80)


def test_the_fallback_warning_names_the_namespace_error_limit_and_retry(clock, caplog):
    store = ScriptedStore()
    store.down = True
    shared = limiter(store, clock, retry_after=30)
    with caplog.at_level(logging.INFO, "airflow_provider_customerprofiles.ingest.shared_quota"):
        shared.acquire()
    assert [r.getMessage() for r in caplog.records] == [
        "Shared quota store for 123456789012:us-east-1 unreachable (ConnectionError: Error 111 connecting to "
        "127.0.0.1:6379. Connection refused.): this load paces on its own limit of 100 requests/s and asks "
        "the store again every 30 s"
    ]
    assert shared.current_rate() == pytest.approx(100)


def test_the_store_answering_again_is_logged_with_its_namespace(clock, caplog):
    store = ScriptedStore()
    store.down = True
    shared = limiter(store, clock, retry_after=30)
    shared.acquire()
    store.down = False
    clock.now += 30
    caplog.clear()  # the fallback warning
    with caplog.at_level(logging.INFO, "airflow_provider_customerprofiles.ingest.shared_quota"):
        shared.acquire()
    assert [r.getMessage() for r in caplog.records] == [
        "Shared quota store 123456789012:us-east-1 answers again: pacing on the shared quota"
    ]


def test_a_store_failing_on_a_throttle_falls_back_and_slows_the_per_process_limit(clock, caplog):
    store = ScriptedStore(rate=100, loads=1)
    shared = limiter(store, clock, decrease_factor=0.5)
    shared.acquire()
    store.down = True
    shared.on_throttle()
    assert not shared.shared
    assert shared.current_rate() == pytest.approx(50)
    [warning] = caplog.records
    assert "unreachable (ConnectionError: Error 111 connecting" in warning.getMessage()


def test_a_store_still_down_at_the_next_probe_is_not_warned_about_again(clock, caplog):
    store = ScriptedStore()
    store.down = True
    shared = limiter(store, clock, retry_after=30)
    shared.acquire()
    clock.now += 30
    shared.acquire()
    assert store.calls == 2
    assert len(caplog.records) == 1


def test_leaving_a_gone_store_is_logged_at_debug_only(clock, caplog):
    class Gone(ScriptedStore):
        def zrem(self, key, member):
            raise RedisConnectionError("gone")

    with caplog.at_level(logging.DEBUG, "airflow_provider_customerprofiles.ingest.shared_quota"):
        limiter(Gone(), clock).close()
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("DEBUG", "Shared quota: could not leave (ConnectionError); the share frees itself within seconds")
    ]


def test_the_per_process_fallback_paces_with_this_limiters_settings(clock):
    store = ScriptedStore()
    store.down = True
    shared = limiter(store, clock, min_rate=20, decrease_factor=0.1, cooldown=5, recovery_per_second=2)
    shared.acquire()
    shared.on_throttle()
    assert shared.current_rate() == pytest.approx(20)  # 100 x 0.1, but not below min_rate
    clock.now += 1
    shared.on_throttle()  # within the cooldown: ignored
    assert shared.current_rate() == pytest.approx(22)  # recovering at 2/s


def test_by_default_throttles_a_second_apart_both_slow_the_fallback_and_the_store_is_asked_every_30_s(clock):
    store = ScriptedStore()
    store.down = True
    shared = limiter(store, clock)
    shared.acquire()
    shared.on_throttle()
    clock.now += 0.5
    shared.on_throttle()  # within the one-second cooldown
    clock.now += 1.0
    shared.on_throttle()
    assert shared.current_rate() == pytest.approx((70 + 15) * 0.7)  # recovering at a tenth of the ceiling a second
    clock.now += 30 - 1.5 - 0.001
    shared.acquire()
    assert store.calls == 1
    clock.now += 0.001
    shared.acquire()
    assert store.calls == 2


def test_while_one_caller_probes_the_store_the_others_stay_on_the_fallback(clock):
    class Probed(ScriptedStore):
        def __init__(self) -> None:
            super().__init__(rate=100, loads=1)
            self.probing, self.answer = threading.Event(), threading.Event()

        def register_script(self, source: str):
            run = super().register_script(source)

            def blocking(keys, args):
                if not self.down:
                    self.probing.set()
                    self.answer.wait(timeout=10)  # a second probe would wait here, then be counted
                return run(keys, args)

            return blocking

    store = Probed()
    store.down = True
    shared = limiter(store, clock, retry_after=30)
    shared.acquire()
    store.down = False
    clock.now += 30
    probe = threading.Thread(target=shared.acquire)
    probe.start()
    store.probing.wait()
    shared.acquire()  # the probe has not answered yet
    store.answer.set()
    probe.join()
    assert store.calls == 2
    assert shared.shared
