"""Periodic: repeated calls on a thread, the thread's error raised in its owner; PeriodicLog's lines on it."""

from __future__ import annotations

import logging
import threading

import pytest

from airflow_provider_customerprofiles.periodic import Periodic, PeriodicLog, format_eta

log = logging.getLogger(__name__)


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


class Lines:
    """A counter whose line says how often it was asked, and signals the third time."""

    def __init__(self) -> None:
        self.calls = 0
        self.third = threading.Event()

    def line(self) -> str:
        self.calls += 1
        if self.calls == 3:
            self.third.set()
        return f"call {self.calls}"


def test_progress_lines_repeat_and_stop_logs_the_last_one(caplog):
    lines = Lines()
    with caplog.at_level(logging.INFO, logger=__name__):
        progress = PeriodicLog(lines.line, log, "Ingest", 0.01).start()
        assert lines.third.wait(timeout=10)
        progress.stop()

    messages = [r.getMessage() for r in caplog.records]
    assert messages[:3] == ["Ingest progress: call 1", "Ingest progress: call 2", "Ingest progress: call 3"]
    assert messages[-1] == f"Ingest finished: call {lines.calls}"
    assert len(messages) == lines.calls


def test_a_block_that_fails_logs_no_finished_line(caplog):
    lines = Lines()
    with (
        caplog.at_level(logging.INFO, logger=__name__),
        pytest.raises(RuntimeError, match="export failed"),
        PeriodicLog(lines.line, log, "Match export", 60),
    ):
        raise RuntimeError("export failed")
    assert caplog.records == []

    with caplog.at_level(logging.INFO, logger=__name__), PeriodicLog(lines.line, log, "Match export", 60):
        pass
    assert [r.getMessage() for r in caplog.records] == ["Match export finished: call 1"]


@pytest.mark.parametrize(("seconds", "text"), [(None, "unknown"), (0, "0m00s"), (61.9, "1m01s"), (3723, "1h02m03s")])
def test_format_eta(seconds, text):
    assert format_eta(seconds) == text
