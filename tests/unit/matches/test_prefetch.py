"""Read-ahead keeps order, passes errors on, and stops its thread when the reader stops early."""

from __future__ import annotations

import threading
import time

import pytest

from airflow_provider_customerprofiles.matches.prefetch import prefetched


def test_order_is_kept():
    assert list(prefetched(iter(range(1000)), 3)) == list(range(1000))


def test_an_error_in_the_producer_reaches_the_consumer_after_the_items_before_it():
    def failing():
        yield 1
        yield 2
        raise ConnectionError("gone")

    seen = []
    with pytest.raises(ConnectionError):
        for item in prefetched(failing(), 4):
            seen.append(item)
    assert seen == [1, 2]


def test_it_reads_at_most_depth_items_ahead_and_stops_when_closed():
    produced = []

    def slow_source():
        for number in range(100):
            produced.append(number)
            yield number

    reader = prefetched(slow_source(), 2)
    assert next(reader) == 0
    time.sleep(0.3)
    assert len(produced) <= 1 + 2 + 1  # the one handed over, a full queue, one waiting to be put
    reader.close()
    assert not [thread for thread in threading.enumerate() if thread.name == "matches-prefetch"]
    assert len(produced) < 100
