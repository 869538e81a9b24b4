"""Snapshot sync against the local service: each run sends exactly the new and changed rows (issue 13)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest

from airflow_provider_customerprofiles.ingest.loader import LoadOptions, load
from airflow_provider_customerprofiles.ingest.sync import LeaseHeldError, SyncState
from airflow_provider_customerprofiles.storage import S3Settings
from tests.integration.ingest.support import (
    DOMAIN,
    OBJECT_TYPE,
    all_accounts,
    by_rid,
    stored_objects,
    write_snapshot,
)

ROWS = 300
TEXT = pa.string()


def objects_accepted(endpoint) -> int:
    operations = endpoint.metrics()["operations"]
    return sum(
        operations.get(op, {}).get("objects_accepted", 0) for op in ("BatchPutProfileObject", "PutProfileObject")
    )


def options(tmp_path: Path, run: str, **extra) -> LoadOptions:
    return LoadOptions(
        DOMAIN,
        OBJECT_TYPE,
        dead_letter_uri=str(tmp_path / "dead" / run),
        checkpoint_uri=str(tmp_path / "checkpoints" / f"{run}.json"),
        sync_state_uri=str(tmp_path / "state"),
        batch_rows=50,
        **extra,
    )


def base_values() -> dict[str, int]:
    return {f"r{i:06d}": 0 for i in range(ROWS)}


def sync_run(endpoint, client, tmp_path, run: str, values, text_type: pa.DataType = TEXT, **extra):
    """Load one snapshot; returns (result, objects the service accepted during it)."""
    before = objects_accepted(endpoint)
    source = write_snapshot(tmp_path / f"{run}.parquet", values, text_type=text_type)
    result = load(client, source, options(tmp_path, run, **extra))
    assert result.rows_read == result.objects_written + result.dead_lettered + result.rows_unchanged
    return result, objects_accepted(endpoint) - before


def recorded_rows(settings: dict) -> int:
    """Rows the checkpoint file records as finished (0 while it does not exist yet)."""
    path = Path(settings["checkpoint_uri"])
    if not path.exists():
        return 0
    files = json.loads(path.read_text())["files"].values()
    return sum(end - start for entry in files for start, end in entry.get("done", []))


def test_a_killed_run_resumes_and_state_and_checkpoint_agree(emulator, tmp_path):
    endpoint, client = emulator(latency_ms=10)
    rows = 3000
    base = {f"r{i:06d}": 0 for i in range(rows)}
    sync_run(endpoint, client, tmp_path, "night-1", base, max_requests_per_second=500)
    changed = {rid: (1 if i % 2 else 0) for i, (rid, _) in enumerate(base.items())}  # 1500 changed
    source = write_snapshot(tmp_path / "night-2.parquet", changed, row_group_size=500)
    settings = {
        "domain_name": DOMAIN,
        "object_type_name": OBJECT_TYPE,
        "dead_letter_uri": str(tmp_path / "dead" / "night-2"),
        "checkpoint_uri": str(tmp_path / "checkpoints" / "night-2.json"),
        "sync_state_uri": str(tmp_path / "state"),
        "batch_rows": 100,
        "commit_interval": 0.1,
        "max_requests_per_second": 20,  # 200 objects/s: several seconds for the 1500 changed rows
    }
    before = objects_accepted(endpoint)
    process = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("loader_process.py")),
            json.dumps({"endpoint_url": endpoint.url, "source": source, "options": settings}),
        ],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])},
    )
    deadline = time.monotonic() + 60
    staged = tmp_path / "state" / "pending"
    # Kill once ranges are both staged and recorded: staging comes first, and only the finished prefix
    # of the input is checkpointed, so staged parts alone do not mean the retry will skip anything.
    while not (staged.exists() and sum(1 for _ in staged.rglob("*.parquet")) >= 3 and recorded_rows(settings)):
        assert process.poll() is None, "the loader process ended before it could be killed"
        assert time.monotonic() < deadline, "the loader staged and recorded nothing"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    sent_before_kill = objects_accepted(endpoint) - before
    assert 0 < sent_before_kill < 1500

    retry = load(client, source, LoadOptions(**{**settings, "max_requests_per_second": 500}))
    sent_in_all = objects_accepted(endpoint) - before
    assert retry.rows_skipped > 0
    # Every changed row reached the service; rows re-sent are only those of ranges not yet recorded.
    assert 1500 <= sent_in_all <= 1500 + retry.rows_resent
    assert {rid: obj["seq"] for rid, obj in by_rid(stored_objects(endpoint, all_accounts())).items()} == changed
    _, sent = sync_run(endpoint, client, tmp_path, "night-3", changed)
    assert sent == 0
    assert not any((tmp_path / "state" / "pending").iterdir())


def test_a_state_on_s3_with_a_create_only_lease(emulator, moto_s3_server, s3_bucket, tmp_path):
    endpoint, client = emulator()
    settings = S3Settings("testing", "testing", region="us-east-1", endpoint_url=moto_s3_server)
    uri = f"s3://{s3_bucket}/sync/backfill"
    holder = SyncState(uri, "x" * 64, s3=settings).open()
    source = write_snapshot(tmp_path / "night.parquet", base_values())

    def run(name: str):
        before = objects_accepted(endpoint)
        result = load(
            client, source, LoadOptions(**{**options(tmp_path, name).__dict__, "sync_state_uri": uri}), settings
        )
        return result, objects_accepted(endpoint) - before

    with pytest.raises(LeaseHeldError):
        run("night-0")
    holder.close()
    assert run("night-1")[1] == ROWS
    result, sent = run("night-2")
    assert (sent, result.rows_unchanged) == (0, ROWS)
