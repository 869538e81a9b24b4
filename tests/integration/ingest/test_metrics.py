"""
The loader's metrics through Airflow's ``Stats`` in a real DAG run, received by a real listener on loopback.

Airflow sends them with its OpenTelemetry backend (OTLP over HTTP, ``[metrics] otel_on``) to an HTTP
server in this test, which decodes the protobuf requests. Counters are cumulative, so the last value
of each is the run's total and must equal the task's own counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from tests.integration.ingest.support import DOMAIN, OBJECT_TYPE, create_target

PREFIX = "airflow.customer_profiles.ingest."
ROWS, BLANK_KEYS = 3000, 3  # 300 calls asked at 300/s: over the one-second bucket of 100


class Received:
    """Every data point the listener decoded: metric name -> list of (value, attributes), in arrival order."""

    def __init__(self) -> None:
        self.points: dict[str, list[tuple[float, dict[str, str]]]] = {}
        self.lock = threading.Lock()

    def add(self, body: bytes) -> None:
        request = ExportMetricsServiceRequest.FromString(body)
        with self.lock:
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
        return self.points[PREFIX + name][-1][0]


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


def write_rows(path: Path) -> Path:
    rids = [f"r{i:05d}" for i in range(ROWS)]
    rids[10 : 10 + BLANK_KEYS] = [""] * BLANK_KEYS  # refused before sending: dead-lettered
    pq.write_table(pa.table({"rid": rids, "acct": [f"a{i % 20:02d}" for i in range(ROWS)]}), path)
    return path


def test_counters_and_gauges_reach_a_listener_through_airflow_stats(
    airflow_db, customer_profiles_emulator_factory, otlp_listener, tmp_path
):
    port, received = otlp_listener
    # AWS quotas and 3x the quota asked for: throttles, hence retries, happen for real
    service = customer_profiles_emulator_factory(conn_id="cp_metrics", quotas="aws")
    create_target(service.client())
    settings = {
        "source": str(write_rows(tmp_path / "rows.parquet")),
        "domain_name": DOMAIN,
        "object_type_name": OBJECT_TYPE,
        "aws_conn_id": "cp_metrics",
        "max_requests_per_second": 300,
        "max_failed_ratio": 0.1,
        "dead_letter_uri": str(tmp_path / "dead"),
        "checkpoint_uri": str(tmp_path / "checkpoints"),
    }
    env = {
        **os.environ,
        "AIRFLOW__METRICS__OTEL_ON": "True",
        "AIRFLOW__METRICS__OTEL_HOST": "127.0.0.1",
        "AIRFLOW__METRICS__OTEL_PORT": str(port),
        "AIRFLOW__METRICS__OTEL_INTERVAL_MILLISECONDS": "500",
    }
    run = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("metrics_dag_run.py")), json.dumps(settings)],
        env=env,
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
    assert result["throttles"] > 0 and result["retries"] > 0

    assert received.last("objects_written") == ROWS - BLANK_KEYS
    assert received.last("dead_lettered") == BLANK_KEYS
    assert received.last("throttles") == result["throttles"]
    assert received.last("retries") == result["retries"]
    assert 0 < received.last("request_rate_limit") <= 300
    assert PREFIX + "objects_per_second" in received.points
    ours = {name: points for name, points in received.points.items() if name.startswith(PREFIX)}
    attributes = {tuple(sorted(a.items())) for points in ours.values() for _, a in points}
    assert attributes == {(("domain", DOMAIN), ("object_type", OBJECT_TYPE))}  # names and tags: no row data
