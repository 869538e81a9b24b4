"""Where read-ahead runs: the caller's thread without depth, else one named daemon thread that outwaits a full queue."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from airflow_provider_customerprofiles.matches.prefetch import prefetched
from tests.eventually import eventually


def producing_threads(count: int, seen: list[threading.Thread]) -> Iterator[int]:
    for item in range(count):
        seen.append(threading.current_thread())
        yield item


def test_without_depth_items_are_read_in_the_callers_thread():
    seen: list[threading.Thread] = []
    assert list(prefetched(producing_threads(3, seen), 0)) == [0, 1, 2]
    assert set(seen) == {threading.current_thread()}


def test_with_depth_items_are_read_on_one_named_daemon_thread():
    seen: list[threading.Thread] = []
    assert list(prefetched(producing_threads(3, seen), 1)) == [0, 1, 2]
    (thread,) = set(seen)
    assert (thread.name, thread.daemon) == ("matches-prefetch", True)


def test_a_producer_waiting_on_a_full_queue_keeps_waiting_for_a_slow_reader():
    seen: list[threading.Thread] = []
    items = prefetched(producing_threads(4, seen), 1)
    assert next(items) == 0
    eventually(lambda: len(seen), lambda produced: produced >= 3, "the producer reaching the full queue")
    time.sleep(0.3)  # several of the producer's 0.1 s put timeouts pass with the queue full
    assert list(items) == [1, 2, 3]
