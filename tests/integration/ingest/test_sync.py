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
import pyarrow.parquet as pq
import pytest

from airflow_provider_customerprofiles.ingest.loader import LoadOptions, load
from airflow_provider_customerprofiles.ingest.sync import LeaseHeldError, SyncState
from airflow_provider_customerprofiles.storage import S3Settings
from tests.integration.ingest.support import DOMAIN, OBJECT_TYPE, account_of, all_accounts, by_rid, stored_objects

ROWS = 300
TEXT = pa.string()


def objects_accepted(endpoint) -> int:
    operations = endpoint.metrics()["operations"]
    return sum(
        operations.get(op, {}).get("objects_accepted", 0) for op in ("BatchPutProfileObject", "PutProfileObject")
    )


def write_snapshot(
    path: Path, values: dict[str, int], row_group_size: int | None = None, text_type: pa.DataType = TEXT
) -> str:
    """One row per (rid, value) in the order given; ``values`` may list a rid twice via a list of pairs."""
    pairs = list(values.items()) if isinstance(values, dict) else values
    table = pa.table(
        {
            "rid": pa.array([rid for rid, _ in pairs], text_type),
            "acct": pa.array([account_of(int(rid[1:])) for rid, _ in pairs], text_type),
            "seq": [value for _, value in pairs],
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, row_group_size=row_group_size)
    return str(path)


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


def test_the_second_run_sends_exactly_the_changed_and_added_rows(emulator, tmp_path):
    endpoint, client = emulator()
    first, sent = sync_run(endpoint, client, tmp_path, "night-1", base_values())
    assert (sent, first.objects_written, first.rows_unchanged) == (ROWS, ROWS, 0)

    changed = {**base_values(), **{f"r{i:06d}": 1 for i in range(0, ROWS, 30)}}  # 10 changed
    changed |= {f"r{i:06d}": 2 for i in range(ROWS, ROWS + 5)}  # 5 added
    second, sent = sync_run(endpoint, client, tmp_path, "night-2", changed)
    assert (sent, second.objects_written, second.rows_unchanged) == (15, 15, ROWS - 10)

    third, sent = sync_run(endpoint, client, tmp_path, "night-3", changed)
    assert (sent, third.rows_unchanged) == (0, ROWS + 5)
    stored = by_rid(stored_objects(endpoint, all_accounts()))
    assert {rid: obj["seq"] for rid, obj in stored.items()} == changed


def test_changed_rows_are_picked_out_of_batches_with_string_view_columns(emulator, tmp_path):
    # Arrow cannot take rows of a string_view column (Parquet keeps the type): the loader slices instead.
    endpoint, client = emulator()
    sync_run(endpoint, client, tmp_path, "night-1", base_values(), text_type=pa.string_view())
    changed = {**base_values(), "r000001": 1, "r000002": 1, "r000120": 1}
    second, sent = sync_run(endpoint, client, tmp_path, "night-2", changed, text_type=pa.string_view())
    assert (sent, second.rows_unchanged) == (3, ROWS - 3)
    stored = by_rid(stored_objects(endpoint, all_accounts()))
    assert {rid: obj["seq"] for rid, obj in stored.items()} == changed


def test_rows_the_service_refused_are_sent_again_next_run(emulator, tmp_path):
    endpoint, client = emulator(fault_rate=0.3)
    first, _ = sync_run(endpoint, client, tmp_path, "night-1", base_values(), max_attempts=1, max_failed_ratio=1.0)
    assert first.dead_lettered > 0
    endpoint.server.knobs.fault_rate = 0.0
    second, sent = sync_run(endpoint, client, tmp_path, "night-2", base_values())
    assert (sent, second.objects_written) == (first.dead_lettered, first.dead_lettered)
    _, sent = sync_run(endpoint, client, tmp_path, "night-3", base_values())
    assert sent == 0


def test_the_last_row_of_a_repeated_key_wins_and_stays_unsent(emulator, tmp_path):
    endpoint, client = emulator()
    rows = [*base_values().items(), ("r000007", 5), ("r000003", 6)]
    _, sent = sync_run(endpoint, client, tmp_path, "night-1", rows)
    assert sent == ROWS + 2
    stored = by_rid(stored_objects(endpoint, all_accounts()))
    assert (stored["r000007"]["seq"], stored["r000003"]["seq"]) == (5, 6)
    result, sent = sync_run(endpoint, client, tmp_path, "night-2", rows)
    assert (sent, result.rows_unchanged) == (0, ROWS + 2)
    # The earlier row of a repeated key changes: the key's rows are sent again, in order; the last still wins.
    rows[7] = ("r000007", 9)
    _, sent = sync_run(endpoint, client, tmp_path, "night-3", rows)
    assert sent == 2
    assert by_rid(stored_objects(endpoint, all_accounts()))["r000007"]["seq"] == 5


def test_a_mapping_change_sends_every_row(emulator, tmp_path):
    endpoint, client = emulator()
    sync_run(endpoint, client, tmp_path, "night-1", base_values())
    columns = {"rid": "rid", "acct": "acct"}  # seq no longer sent
    result, sent = sync_run(endpoint, client, tmp_path, "night-2", base_values(), columns=columns)
    assert (sent, result.rows_unchanged) == (ROWS, 0)
    _, sent = sync_run(endpoint, client, tmp_path, "night-3", base_values(), columns=columns)
    assert sent == 0


def test_a_second_run_on_a_state_in_use_is_refused_before_it_sends(emulator, tmp_path):
    endpoint, client = emulator()
    holder = SyncState(str(tmp_path / "state"), "x" * 64).open()
    try:
        with pytest.raises(LeaseHeldError, match="in use by another run"):
            sync_run(endpoint, client, tmp_path, "night-1", base_values())
    finally:
        holder.close()
    assert objects_accepted(endpoint) == 0
    _, sent = sync_run(endpoint, client, tmp_path, "night-2", base_values())
    assert sent == ROWS


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
