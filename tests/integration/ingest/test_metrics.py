"""
The loader's metrics through Airflow's ``Stats`` in a real DAG run, received by real listeners on loopback.

Airflow's metrics backend is chosen once per process from its configuration, so each test runs the DAG in a
fresh process (``metrics_dag_run.py``) with the environment that picks a backend:

- OpenTelemetry (OTLP over HTTP, ``[metrics] otel_on``) to an HTTP server in this test, which decodes the
  protobuf requests. Counters are cumulative, so the last value of each is the run's total.
- StatsD (``[metrics] statsd_on``) to a UDP socket in this test. Counters arrive as increments, so their
  sum is the run's total.

Either way the totals must equal the task's own counts and what the service accepted, and nothing sent may
carry a value from the input rows.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from tests.integration.ingest.support import DOMAIN, OBJECT_TYPE, create_target

METRICS = "customer_profiles.ingest."
# 1,000 calls asked at 400/s: far over the service's one-second bucket of 100, even when a busy machine
# slows the client down, so throttles (hence retries) happen for real.
ROWS, BLANK_KEYS, REQUESTS_PER_SECOND = 10_000, 3, 400
COUNTERS = ("objects_written", "dead_lettered", "throttles", "retries")
# Input values that look like customer data: none may appear in anything a metrics backend receives.
CUSTOMER_VALUES = [f"cust-{i:05d}@example.com" for i in range(ROWS)] + [f"acct-secret-{i:02d}" for i in range(20)]


class Received:
    """Every OTLP data point the listener decoded: metric name -> list of (value, attributes), in arrival order."""

    def __init__(self) -> None:
        self.points: dict[str, list[tuple[float, dict[str, str]]]] = {}
        self.bodies: list[bytes] = []
        self.lock = threading.Lock()

    def add(self, body: bytes) -> None:
        request = ExportMetricsServiceRequest.FromString(body)
        with self.lock:
            self.bodies.append(body)
            for resource in request.resource_metrics:
                for scope in resource.scope_metrics:
                    for metric in scope.metrics:
                        kind = metric.WhichOneof("data")
                        if kind not in ("sum", "gauge"):  # Airflow's own timings are histograms
                            continue
                        for point in getattr(metric, kind).data_points:
                            value = point.as_int if point.WhichOneof("value") == "as_int" else point.as_double
                            attributes = {a.key: a.value.string_value for a in point.attributes}
                            self.points.setdefault(metric.name, []).append((value, attributes))

    def last(self, name: str) -> float:
        return self.points["airflow." + METRICS + name][-1][0]


@pytest.fixture
def otlp_listener() -> Iterator[tuple[int, Received]]:
    """An OTLP/HTTP metrics receiver on 127.0.0.1 (port chosen by the OS)."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.add(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], received
    server.shutdown()


@dataclass
class StatsdListener:
    """A UDP socket on 127.0.0.1 that keeps every datagram; :meth:`stop` returns once the socket is drained."""

    sock: socket.socket
    datagrams: list[bytes] = field(default_factory=list)
    stopped: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.sock.settimeout(0.1)
        self.thread = threading.Thread(target=self._receive, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _receive(self) -> None:
        while True:
            try:
                self.datagrams.append(self.sock.recv(65535))
            except TimeoutError:  # nothing waiting: done once asked to stop
                if self.stopped.is_set():
                    return

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()
        self.sock.close()

    def lines(self) -> list[tuple[str, float, str]]:
        """(name, value, type) of every StatsD line, e.g. ``fleet.x:5|c`` -> ("fleet.x", 5.0, "c")."""
        parsed = []
        for datagram in self.datagrams:
            for line in datagram.decode().splitlines():
                name, _, rest = line.partition(":")
                value, kind = rest.split("|")[:2]
                parsed.append((name, float(value), kind))
        return parsed


@pytest.fixture
def statsd_listener() -> Iterator[StatsdListener]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    listener = StatsdListener(sock)
    yield listener
    if not listener.stopped.is_set():
        listener.stop()


def write_rows(path: Path) -> Path:
    emails = list(CUSTOMER_VALUES[:ROWS])
    emails[10 : 10 + BLANK_KEYS] = [""] * BLANK_KEYS  # refused before sending: dead-lettered
    accounts = [CUSTOMER_VALUES[ROWS + i % 20] for i in range(ROWS)]
    pq.write_table(pa.table({"rid": emails, "acct": accounts}), path)
    return path


def run_metered_load(emulator_factory: Any, tmp_path: Path, metrics_env: dict[str, str]) -> tuple[Any, dict]:
    """Load ``ROWS`` rows through the operator in a DAG run, with Airflow's metrics set by ``metrics_env``.

    Returns the service (AWS quotas on) and the task's result, after checking the load itself.
    """
    service = emulator_factory(conn_id="cp_metrics", quotas="aws")
    create_target(service.client())
    settings = {
        "source": str(write_rows(tmp_path / "rows.parquet")),
        "domain_name": DOMAIN,
        "object_type_name": OBJECT_TYPE,
        "aws_conn_id": "cp_metrics",
        "max_requests_per_second": REQUESTS_PER_SECOND,
        "max_failed_ratio": 0.1,
        "dead_letter_uri": str(tmp_path / "dead"),
        "checkpoint_uri": str(tmp_path / "checkpoints"),
    }
    run = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("metrics_dag_run.py")), json.dumps(settings)],
        env={**os.environ, **metrics_env},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    assert outcome["state"] == "success"
    result = outcome["result"]
    assert result["objects_written"] == ROWS - BLANK_KEYS
    assert result["dead_lettered"] == BLANK_KEYS
    assert result["throttles"] > 0 and result["retries"] > 0
    return service, result


def accepted_by_service(service: Any) -> int:
    operations = service.metrics()["operations"]
    return sum(
        operations.get(op, {}).get("objects_accepted", 0) for op in ("BatchPutProfileObject", "PutProfileObject")
    )


def test_counters_and_gauges_reach_an_otlp_listener_through_airflow_stats(
    airflow_db, customer_profiles_emulator_factory, otlp_listener, tmp_path
):
    port, received = otlp_listener
    service, result = run_metered_load(
        customer_profiles_emulator_factory,
        tmp_path,
        {
            "AIRFLOW__METRICS__OTEL_ON": "True",
            "AIRFLOW__METRICS__OTEL_HOST": "127.0.0.1",
            "AIRFLOW__METRICS__OTEL_PORT": str(port),
            "AIRFLOW__METRICS__OTEL_INTERVAL_MILLISECONDS": "500",
        },
    )

    assert received.last("objects_written") == accepted_by_service(service) == ROWS - BLANK_KEYS
    for counter in COUNTERS:
        assert received.last(counter) == result[counter]
    assert 0 < received.last("request_rate_limit") <= REQUESTS_PER_SECOND
    assert "airflow." + METRICS + "objects_per_second" in received.points
    ours = {name: points for name, points in received.points.items() if METRICS in name}
    attributes = {tuple(sorted(a.items())) for points in ours.values() for _, a in points}
    assert attributes == {(("domain", DOMAIN), ("object_type", OBJECT_TYPE))}  # names and tags: no row data
    sent = b"".join(received.bodies)
    assert not [value for value in CUSTOMER_VALUES if value.encode() in sent]


def test_counters_and_gauges_reach_a_statsd_listener_through_airflow_stats(
    airflow_db, customer_profiles_emulator_factory, statsd_listener, tmp_path
):
    service, result = run_metered_load(
        customer_profiles_emulator_factory,
        tmp_path,
        {
            "AIRFLOW__METRICS__STATSD_ON": "True",
            "AIRFLOW__METRICS__STATSD_HOST": "127.0.0.1",
            "AIRFLOW__METRICS__STATSD_PORT": str(statsd_listener.port),
            "AIRFLOW__METRICS__STATSD_PREFIX": "fleet",
        },
    )
    statsd_listener.stop()

    ours = [(name, value, kind) for name, value, kind in statsd_listener.lines() if name.startswith("fleet." + METRICS)]
    totals: Counter[str] = Counter()
    for name, value, kind in ours:
        if kind == "c":
            totals[name.removeprefix("fleet." + METRICS)] += value
    assert set(totals) == set(COUNTERS)
    assert totals["objects_written"] == accepted_by_service(service) == ROWS - BLANK_KEYS
    for counter in COUNTERS:
        assert totals[counter] == result[counter]
    gauges = {name.removeprefix("fleet." + METRICS): value for name, value, kind in ours if kind == "g"}
    assert set(gauges) == {"objects_per_second", "request_rate_limit"}
    assert 0 < gauges["request_rate_limit"] <= REQUESTS_PER_SECOND
    sent = b"".join(statsd_listener.datagrams)
    assert not [value for value in CUSTOMER_VALUES if value.encode() in sent]
