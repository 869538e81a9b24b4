"""The shared quota on a real Redis (127.0.0.1:6379, db 5): shares, membership, shared throttles, the sum
under the rate, loads against the local service, the operator's quota_conn_id, and an unreachable store."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import redis

from airflow_provider_customerprofiles.ingest.loader import LoadOptions, load
from airflow_provider_customerprofiles.ingest.shared_quota import SharedRateLimiter
from airflow_provider_customerprofiles.testing import run_dag
from tests.integration.ingest.support import DOMAIN, OBJECT_TYPE

REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 5


@pytest.fixture
def store() -> Iterator[redis.Redis]:
    """A real Redis, database 5, emptied before and after; fails (never skips) when Redis is not running."""
    client = redis.Redis(REDIS_HOST, REDIS_PORT, db=REDIS_DB, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.ConnectionError as exc:
        pytest.fail(
            f"Redis is not reachable on {REDIS_HOST}:{REDIS_PORT} ({exc}). These tests need it: start it "
            "(for example `redis-server --daemonize yes`).",
            pytrace=False,
        )
    yield client
    client.flushdb()


def test_loads_of_one_namespace_get_equal_shares_and_other_namespaces_are_apart(store):
    loads = [SharedRateLimiter(store, "111111111111:us-east-1", 90) for _ in range(3)]
    other = SharedRateLimiter(store, "222222222222:us-east-1", 90)
    for _ in range(2):
        for load_limiter in [*loads, other]:
            load_limiter.acquire()
    assert [limiter.current_rate() for limiter in loads] == [pytest.approx(30, rel=0.02)] * 3
    assert other.current_rate() == pytest.approx(90, rel=0.02)


def test_a_load_that_ends_or_stalls_frees_its_share(store):
    ending, stalling, staying = (SharedRateLimiter(store, "acct:eu-west-1", 60, member_ttl=0.5) for _ in range(3))
    for limiter in (ending, stalling, staying, staying):
        limiter.acquire()
    assert staying.current_rate() == pytest.approx(20, rel=0.02)
    ending.close()
    staying.acquire()
    assert staying.current_rate() == pytest.approx(30, rel=0.02)  # at once
    time.sleep(0.6)  # longer than member_ttl without a request from ``stalling``
    staying.acquire()
    assert staying.current_rate() == pytest.approx(60, rel=0.02)


def test_a_throttle_seen_by_one_load_slows_every_load(store):
    first, second = (SharedRateLimiter(store, "acct:us-west-2", 100, recovery_per_second=1) for _ in range(2))
    first.acquire()
    second.acquire()
    first.on_throttle()
    first.on_throttle()  # the same burst: one decrease per cooldown, across loads too
    second.on_throttle()
    second.acquire()
    assert second.current_rate() == pytest.approx(70 / 2, rel=0.02)


def test_the_sum_of_concurrent_loads_stays_under_the_rate_and_shares_are_even(store):
    rate, seconds = 40.0, 3.0
    limiters = [SharedRateLimiter(store, "acct:ap-south-1", rate) for _ in range(3)]
    sent: list[list[float]] = [[] for _ in limiters]
    stop = time.monotonic() + seconds

    def worker(index: int) -> None:
        while time.monotonic() < stop:
            limiters[index].acquire()
            sent[index].append(time.monotonic())

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(3) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times = sorted(t for load_times in sent for t in load_times)
    busiest_second = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    # GCRA slots 1/rate apart, plus at most catch_up (0.2 s) of slots missed by late callers
    assert busiest_second <= rate * 1.2 + 2
    counts = [len(load_times) for load_times in sent]
    mean = sum(counts) / len(counts)
    assert min(counts) >= 0.85 * mean, counts


def write_rows(path: Path, start: int, rows: int) -> Path:
    ids = range(start, start + rows)
    pq.write_table(pa.table({"rid": [f"r{i:07d}" for i in ids], "acct": [f"a{i % 20:02d}" for i in ids]}), path)
    return path


def test_two_loads_sharing_the_quota_are_not_throttled_by_the_service(store, emulator, tmp_path):
    endpoint, client = emulator(quotas="aws")
    results = {}

    def run(name: str, start: int) -> None:
        limiter = SharedRateLimiter(store, "acct:us-east-1", 97)
        options = LoadOptions(DOMAIN, OBJECT_TYPE, dead_letter_uri=str(tmp_path / name), rate_limiter=limiter)
        with limiter:
            results[name] = load(client, str(write_rows(tmp_path / f"{name}.parquet", start, 1500)), options)

    threads = [threading.Thread(target=run, args=(name, n * 1500)) for n, name in enumerate(("a", "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [results[name].objects_written for name in ("a", "b")] == [1500, 1500]
    assert [results[name].throttles for name in ("a", "b")] == [0, 0]
    assert endpoint.metrics()["operations"]["BatchPutProfileObject"].get("throttled", 0) == 0


def test_an_unreachable_store_leaves_the_load_on_its_own_limit_and_says_so_once(emulator, tmp_path, caplog):
    _, client = emulator()
    closed = redis.Redis(REDIS_HOST, 1, socket_timeout=1, socket_connect_timeout=1)  # nothing listens on port 1
    limiter = SharedRateLimiter(closed, "acct:us-east-1", 97)
    options = LoadOptions(DOMAIN, OBJECT_TYPE, dead_letter_uri=str(tmp_path / "dead"), rate_limiter=limiter)
    with caplog.at_level(logging.WARNING, "airflow_provider_customerprofiles.ingest.shared_quota"):
        result = load(client, str(write_rows(tmp_path / "rows.parquet", 0, 300)), options)
    assert result.objects_written == 300
    assert not limiter.shared
    warnings = [r for r in caplog.records if r.name.endswith("shared_quota")]
    assert len(warnings) == 1
    assert "unreachable (ConnectionError" in warnings[0].getMessage()


def test_the_operator_joins_the_shared_quota_of_its_redis_connection_and_leaves_it(
    airflow_db, store, customer_profiles_emulator_factory, moto_s3_server, monkeypatch, tmp_path
):
    from airflow.sdk import DAG

    from airflow_provider_customerprofiles.transfers.parquet_to_customer_profiles import (
        ParquetToCustomerProfilesOperator,
    )
    from tests.integration.ingest.support import create_target

    service = customer_profiles_emulator_factory(conn_id="cp_quota_load")
    create_target(service.client())
    # STS (for the account in the quota's namespace) answered by moto, as AWS would
    sts = {"sts": {"endpoint_url": moto_s3_server}, "customer-profiles": {"endpoint_url": service.url}}
    monkeypatch.setenv(service.env_var, service.connection_uri({"service_config": sts}))
    monkeypatch.setenv(
        "AIRFLOW_CONN_CP_QUOTA",
        json.dumps({"conn_type": "redis", "host": REDIS_HOST, "port": REDIS_PORT, "extra": {"db": REDIS_DB}}),
    )
    with DAG("cp_quota_load", schedule=None) as dag:
        ParquetToCustomerProfilesOperator(
            task_id="load",
            source=str(write_rows(tmp_path / "rows.parquet", 0, 200)),
            domain_name=DOMAIN,
            object_type_name=OBJECT_TYPE,
            aws_conn_id="cp_quota_load",
            quota_conn_id="{{ 'cp_' ~ 'quota' }}",
            dead_letter_uri=str(tmp_path / "dead"),
            checkpoint_uri=str(tmp_path / "checkpoints"),
        )
    tis = run_dag(dag)
    assert tis["load"].state == "success"
    # moto's account and the connection's Region name the budget; the load left it when it ended
    namespace = "123456789012:us-east-1"
    assert store.hget(f"customer_profiles:quota:{{{namespace}}}:pace", "tat") is not None
    assert store.zcard(f"customer_profiles:quota:{{{namespace}}}:loads") == 0
