"""The loader against the local service over HTTP: accounting, ordering, rejection, preflight, PII."""

from __future__ import annotations

import json
import logging
import math

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from airflow_provider_customerprofiles.ingest.loader import (
    FailedRatioExceeded,
    LoadOptions,
    load,
)
from airflow_provider_customerprofiles.ingest.source import SourceError
from tests.integration.ingest.support import (
    DOMAIN,
    OBJECT_TYPE,
    all_accounts,
    by_rid,
    put_requests,
    read_dead_letters,
    stored_objects,
    write_rows,
    write_versions,
)


def options(tmp_path, **overrides) -> LoadOptions:
    settings = {
        "dead_letter_uri": str(tmp_path / "dead"),
        "checkpoint_uri": str(tmp_path / "checkpoint.json"),
        "progress_interval": 0.5,
        "commit_interval": 0.2,
        "batch_rows": 100,
        "max_failed_ratio": 1.0,
        **overrides,
    }
    return LoadOptions(DOMAIN, OBJECT_TYPE, **settings)


def test_exact_accounting_under_faults_and_the_aws_quota(emulator, tmp_path):
    endpoint, client = emulator(quotas="aws", fault_rate=0.1)
    rows = 600
    nan_rows = {7, 250, 599}
    long_account_rows = {3, 400}  # AccountNumber is at most 255 characters: the service refuses these
    source = write_rows(
        tmp_path / "in" / "rows.parquet",
        rows,
        row_group_size=256,
        score=[math.nan if i in nan_rows else i / 2 for i in range(rows)],
    )
    table = pq.read_table(source)
    accounts = [("x" * 300 if i in long_account_rows else a) for i, a in enumerate(table["acct"].to_pylist())]
    pq.write_table(table.set_column(1, "acct", pa.array(accounts)), source, row_group_size=256)

    result = load(client, str(source), options(tmp_path))

    assert result.rows_read == rows == result.objects_written + result.dead_lettered
    dead = read_dead_letters(tmp_path / "dead")
    assert sorted(d["row_index"] for d in dead) == sorted(nan_rows | long_account_rows)
    assert {d["row_index"]: d["error_code"] for d in dead} == {
        **dict.fromkeys(nan_rows, "REJECTED"),
        **dict.fromkeys(long_account_rows, "400"),
    }
    assert all(d["source_file"] == str(source) for d in dead)
    assert json.loads(next(d["row"] for d in dead if d["row_index"] == 3))["rid"] == "r000003"

    stored = by_rid(stored_objects(endpoint, all_accounts()))
    expected = {f"r{i:06d}" for i in range(rows)} - {f"r{i:06d}" for i in nan_rows | long_account_rows}
    assert set(stored) == expected
    assert all(stored[rid]["seq"] == int(rid[1:]) for rid in stored)
    metrics = endpoint.metrics()["operations"]["BatchPutProfileObject"]
    assert metrics.get("faults", 0) + metrics.get("dropped", 0) > 0, "the test must exercise injected faults"
    assert result.requests == metrics["requests"]


def test_last_row_wins_for_duplicate_keys_under_concurrency(emulator, tmp_path):
    endpoint, client = emulator(fault_rate=0.1, latency_ms=5)
    keys, versions = 37, 15  # 37 keys over 8 workers: routing by row would spread one key over workers
    rows = keys * versions
    source = write_versions(tmp_path / "dups.parquet", keys, versions)

    result = load(client, source, options(tmp_path, max_workers=8))

    assert result.objects_written == rows
    stored = by_rid(stored_objects(endpoint, all_accounts()))
    assert len(stored) == keys
    assert {obj["version"] for obj in stored.values()} == {versions - 1}


def test_single_put_api(emulator, tmp_path):
    endpoint, client = emulator(fault_rate=0.05)
    source = write_rows(tmp_path / "rows.parquet", 60)

    result = load(client, str(source), options(tmp_path, use_batch_api=False, max_workers=4))

    assert result.objects_written == 60
    assert len(by_rid(stored_objects(endpoint, all_accounts()))) == 60
    assert endpoint.metrics()["operations"].get("BatchPutProfileObject") is None


def test_corrupt_file_fails_naming_it_before_any_write(emulator, tmp_path):
    endpoint, client = emulator()
    good = write_rows(tmp_path / "data" / "a.parquet", 10)
    corrupt = tmp_path / "data" / "b.parquet"
    corrupt.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])

    with pytest.raises(SourceError, match=rf"{corrupt} is not a readable Parquet file"):
        load(client, str(tmp_path / "data"), options(tmp_path))

    assert put_requests(endpoint) == 0


def test_source_that_matches_nothing(emulator, tmp_path):
    _, client = emulator()
    with pytest.raises(SourceError, match=r"matches no Parquet file"):
        load(client, str(tmp_path / "*.parquet"), options(tmp_path))


def test_no_row_contents_in_logs(emulator, tmp_path, caplog):
    _, client = emulator(fault_rate=0.1)
    secret = "SECRET-PII-7f3a"
    rows = 50
    source = write_rows(
        tmp_path / "rows.parquet",
        rows,
        email=[f"{secret}-{i}@example.com" for i in range(rows)],
        score=[math.nan if i == 3 else 1.0 for i in range(rows)],
    )
    # Everything at INFO (the task log's level), and the loader's own modules at DEBUG too.
    # (botocore itself logs request bodies at DEBUG: never run it at DEBUG on customer data.)
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="airflow_provider_customerprofiles.ingest")

    with pytest.raises(FailedRatioExceeded) as failure:
        load(client, str(source), options(tmp_path, max_failed_ratio=0.0, progress_interval=0.05))

    assert "Ingest finished" in caplog.text
    assert secret not in caplog.text
    assert "r000003" not in caplog.text
    assert secret not in str(failure.value)
    assert any(secret in d["row"] for d in read_dead_letters(tmp_path / "dead"))


def test_throttling_slows_the_load_down_and_loses_nothing(emulator, tmp_path):
    endpoint, client = emulator(quotas="aws")
    # 1,000 calls asked at 400/s: far more than the service's 100 TPS bucket holds, even when a busy
    # machine slows the client down (300 calls sometimes spread out enough to pass unthrottled).
    rows = 10_000
    source = write_rows(tmp_path / "rows.parquet", rows)

    result = load(client, str(source), options(tmp_path, max_requests_per_second=400, batch_rows=1000))

    metrics = endpoint.metrics()["operations"]["BatchPutProfileObject"]
    assert metrics.get("throttled", 0) > 0
    assert result.throttles == metrics["throttled"]
    assert (result.objects_written, result.dead_lettered) == (rows, 0)
    assert len(by_rid(stored_objects(endpoint, all_accounts()))) == rows
