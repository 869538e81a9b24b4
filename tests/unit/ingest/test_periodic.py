"""Periodic: repeated calls on a thread, and the thread's error raised in its owner."""

from __future__ import annotations

import threading

import pytest

from airflow_provider_customerprofiles.ingest.periodic import Periodic


def test_calls_repeat_until_stopped():
    called = threading.Semaphore(0)
    periodic = Periodic(called.release, 0.01, "test").start()

    assert all(called.acquire(timeout=10) for _ in range(3))
    periodic.stop()


def test_an_error_in_the_thread_is_raised_by_the_owner():
    failed = threading.Event()

    def fail() -> None:
        failed.set()
        raise OSError("checkpoint location gone")

    periodic = Periodic(fail, 0.01, "test").start()
    assert failed.wait(timeout=10)
    periodic._thread.join(timeout=10)

    with pytest.raises(OSError, match="checkpoint location gone"):
        periodic.raise_if_failed()
    with pytest.raises(OSError, match="checkpoint location gone"):
        periodic.stop()
