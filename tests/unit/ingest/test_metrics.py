"""The metrics reporter: counter increments since the last report, the gauges, and a backend that fails."""

from __future__ import annotations

import pytest

from airflow_provider_customerprofiles.ingest.metrics import (
    OBJECTS_PER_SECOND,
    OBJECTS_WRITTEN,
    REQUEST_RATE_LIMIT,
    THROTTLES,
    MetricsReporter,
)
from tests.unit.ingest.test_rate_limit import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, float]] = []

    def incr(self, name: str, count: int) -> None:
        self.sent.append(("incr", name, count))

    def gauge(self, name: str, value: float) -> None:
        self.sent.append(("gauge", name, value))


def test_metrics_reporter_sends_what_each_counter_grew_by_and_the_gauges(clock):
    counts = {OBJECTS_WRITTEN: 0, THROTTLES: 0}
    recorder = Recorder()
    reporter = MetricsReporter(recorder, lambda: counts, lambda: 97.0, clock)
    counts.update({OBJECTS_WRITTEN: 500, THROTTLES: 2})
    clock.now += 2
    reporter.report()
    counts[OBJECTS_WRITTEN] = 800
    clock.now += 1
    reporter.report()
    assert recorder.sent == [
        ("incr", OBJECTS_WRITTEN, 500),
        ("incr", THROTTLES, 2),
        ("gauge", OBJECTS_PER_SECOND, 250.0),
        ("gauge", REQUEST_RATE_LIMIT, 97.0),
        ("incr", OBJECTS_WRITTEN, 300),  # throttles did not grow: nothing sent for them
        ("gauge", OBJECTS_PER_SECOND, 300.0),
        ("gauge", REQUEST_RATE_LIMIT, 97.0),
    ]


def test_a_failing_metrics_backend_never_fails_the_load(clock, caplog):
    class Broken(Recorder):
        def incr(self, name: str, count: int) -> None:
            raise OSError("statsd host unknown")

    reporter = MetricsReporter(Broken(), lambda: {OBJECTS_WRITTEN: 1}, lambda: 1.0, clock)
    reporter.report()
    assert "Ingest metrics not sent: OSError" in caplog.text


def test_the_failure_is_logged_with_its_reason(clock, caplog):
    class Broken(Recorder):
        def gauge(self, name: str, value: float) -> None:
            raise OSError("statsd host unknown")

    MetricsReporter(Broken(), lambda: {}, lambda: 1.0, clock).report()

    assert [r.getMessage() for r in caplog.records] == ["Ingest metrics not sent: OSError: statsd host unknown"]


def test_no_time_since_the_last_report_sends_no_objects_rate(clock, caplog):
    recorder = Recorder()
    reporter = MetricsReporter(recorder, lambda: {OBJECTS_WRITTEN: 5}, lambda: 40.0, clock)

    reporter.report()  # at the same instant the reporter was made: a rate over no time is undefined

    assert recorder.sent == [("incr", OBJECTS_WRITTEN, 5), ("gauge", REQUEST_RATE_LIMIT, 40.0)]
    assert not caplog.records


def test_a_run_that_wrote_no_objects_reports_a_zero_objects_rate(clock):
    recorder = Recorder()
    reporter = MetricsReporter(recorder, lambda: {THROTTLES: 3}, lambda: 40.0, clock)
    clock.now += 2

    reporter.report()

    assert ("gauge", OBJECTS_PER_SECOND, 0.0) in recorder.sent
