"""Resume after the loader process is killed hard in the middle of a file."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from airflow_provider_customerprofiles.ingest.loader import LoadOptions, load
from tests.integration.ingest.support import (
    DOMAIN,
    OBJECT_TYPE,
    all_accounts,
    by_rid,
    put_requests,
    read_dead_letters,
    stored_objects,
    write_rows,
)

ROWS = 4000
NAN_ROWS = {5, 1999, 3998}


def finished_rows(checkpoint: Path) -> int:
    try:
        files = json.loads(checkpoint.read_text())["files"]
    except (FileNotFoundError, ValueError):
        return 0
    return sum(hi - lo for entry in files.values() for lo, hi in entry["done"])


def test_killed_load_resumes_without_gaps_duplicates_or_resending(emulator, tmp_path):
    endpoint, client = emulator(latency_ms=10)
    source = write_rows(
        tmp_path / "rows.parquet",
        ROWS,
        row_group_size=1000,
        score=[math.nan if i in NAN_ROWS else 1.0 for i in range(ROWS)],
    )
    settings = {
        "domain_name": DOMAIN,
        "object_type_name": OBJECT_TYPE,
        "dead_letter_uri": str(tmp_path / "dead"),
        "checkpoint_uri": str(tmp_path / "checkpoint.json"),
        "batch_rows": 100,
        "commit_interval": 0.1,
        "max_failed_ratio": 1.0,
    }
    slow = {**settings, "max_requests_per_second": 40}  # 400 rows/s: about 10 s for the file
    process = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("loader_process.py")),
            json.dumps({"endpoint_url": endpoint.url, "source": str(source), "options": slow}),
        ],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])},
    )
    deadline = time.monotonic() + 60
    while finished_rows(tmp_path / "checkpoint.json") < 1500:
        assert process.poll() is None, "the loader process ended before it could be killed"
        assert time.monotonic() < deadline, "the loader made no progress"
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = finished_rows(tmp_path / "checkpoint.json")
    # Throttled calls (AWS quotas are on) carried no data: count the calls the service admitted.
    requests_before = put_requests(endpoint, admitted_only=True)
    assert done_before < ROWS, "the process finished before it was killed"

    result = load(client, str(source), LoadOptions(**settings, max_requests_per_second=500))

    requests_after = put_requests(endpoint, admitted_only=True) - requests_before
    assert result.rows_skipped == done_before
    assert result.rows_read == ROWS - done_before
    assert result.rows_done_total == ROWS
    assert result.dead_lettered_total == len(NAN_ROWS)
    # Only unfinished rows were sent again: at most one batch of ten per row, plus a partial batch per worker.
    assert requests_after <= math.ceil((ROWS - done_before) / 10) + 16
    assert requests_after < ROWS / 10
    stored = by_rid(stored_objects(endpoint, all_accounts()))
    assert set(stored) == {f"r{i:06d}" for i in range(ROWS) if i not in NAN_ROWS}
    dead = sorted(d["row_index"] for d in read_dead_letters(tmp_path / "dead"))
    assert dead == sorted(NAN_ROWS)
