"""
Chaos: the loader process is killed hard (SIGKILL) at random moments, several times, then a last run
finishes the load. The service must end exactly as one clean load would leave it.

Kill points are drawn as numbers of finished rows (plus a random extra delay), so they follow the
load's progress whatever the machine's speed. All randomness (the file, the kill points, the service's
fault draws) comes from one seed, printed with the result; set CHAOS_SEED to replay a run.
"""

from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from airflow_provider_customerprofiles.ingest.loader import LoadOptions, load
from tests.integration.ingest.support import DOMAIN, OBJECT_TYPE, by_rid, read_dead_letters, stored_objects

ROWS = 3000
KEYS = 1200  # so most keys repeat, often on adjacent rows
KILLS = 4
ACCOUNTS = [f"acct-{i:02d}" for i in range(10)]
LOADER_PROCESS = Path(__file__).with_name("loader_process.py")


def chaos_file(rng: random.Random, path: Path) -> tuple[dict[str, int], set[int]]:
    """
    A file of ROWS rows with repeated keys and bad rows; returns, per key, the ``seq`` its last good row
    holds (what the service must end with), and the indexes of the bad rows.
    """
    rids, accounts, scores = [], [], []
    bad: set[int] = set()
    for i in range(ROWS):
        key = rids[-1] if rids and rids[-1] and rng.random() < 0.2 else f"k{rng.randrange(KEYS):05d}"
        kind = rng.choices(["good", "nan", "long account", "no key"], weights=[94, 2, 2, 2])[0]
        rids.append(None if kind == "no key" else key)
        accounts.append("x" * 300 if kind == "long account" else ACCOUNTS[int(key[1:]) % len(ACCOUNTS)])
        scores.append(math.nan if kind == "nan" else 1.0)
        if kind != "good":
            bad.add(i)
    pq.write_table(
        pa.table({"rid": rids, "acct": accounts, "seq": list(range(ROWS)), "score": scores}), path, row_group_size=250
    )
    last = {rid: i for i, rid in enumerate(rids) if i not in bad}
    return last, bad


def finished_rows(checkpoint: Path) -> int:
    try:
        files = json.loads(checkpoint.read_text())["files"]
    except (FileNotFoundError, ValueError):
        return 0
    return sum(hi - lo for entry in files.values() for lo, hi in entry["done"])


def wait_until_done(checkpoint: Path, rows: int, process: subprocess.Popen, seed: int) -> None:
    """Wait until the checkpoint records ``rows`` finished rows (kill points follow progress, not the clock)."""
    deadline = time.monotonic() + 60
    while finished_rows(checkpoint) < rows:
        assert process.poll() is None, f"seed {seed}: the loader ended before it was killed"
        assert time.monotonic() < deadline, f"seed {seed}: the loader made no progress"
        time.sleep(0.02)


def test_a_load_killed_at_random_moments_ends_exactly_as_a_clean_load(emulator, tmp_path):
    seed = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(2**32))
    print(f"chaos seed: {seed} (CHAOS_SEED={seed} replays it)")
    rng = random.Random(seed)
    endpoint, client = emulator(latency_ms=5, fault_rate=0.1)
    endpoint.server.random.seed(seed)
    source = tmp_path / "rows.parquet"
    last_good, bad = chaos_file(rng, source)
    settings = {
        "domain_name": DOMAIN,
        "object_type_name": OBJECT_TYPE,
        "dead_letter_uri": str(tmp_path / "dead"),
        "checkpoint_uri": str(tmp_path / "checkpoint.json"),
        "batch_rows": 100,
        "commit_interval": 0.1,
        "max_failed_ratio": 1.0,
        "max_attempts": 20,  # at a 10% fault rate, running out of attempts is too rare to matter here
    }
    slow = {**settings, "max_requests_per_second": 30}  # about 300 rows/s: no run gets far before its kill
    command = [
        sys.executable,
        str(LOADER_PROCESS),
        json.dumps({"endpoint_url": endpoint.url, "source": str(source), "options": slow}),
    ]
    progress = []
    for target in sorted(rng.sample(range(100, ROWS * 6 // 10), KILLS)):
        process = subprocess.Popen(command, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[3])})
        wait_until_done(tmp_path / "checkpoint.json", target, process, seed)
        time.sleep(rng.uniform(0.0, 0.3))  # anywhere in the send / dead-letter / checkpoint cycle
        assert process.poll() is None, f"seed {seed}: the loader ended before it was killed"
        process.send_signal(signal.SIGKILL)
        process.wait()
        progress.append(finished_rows(tmp_path / "checkpoint.json"))
    print(f"rows recorded as done after each kill: {progress}")

    result = load(client, str(source), LoadOptions(**settings, max_requests_per_second=500))

    assert result.rows_skipped + result.rows_read == ROWS, f"seed {seed}"
    assert result.rows_read == result.objects_written + result.dead_lettered, f"seed {seed}"
    assert result.rows_done_total == ROWS, f"seed {seed}: the runs' counts do not add up to the file"
    assert result.dead_lettered_total == len(bad), f"seed {seed}"
    dead = read_dead_letters(tmp_path / "dead")
    assert sorted(d["row_index"] for d in dead) == sorted(bad), f"seed {seed}: dead letters are not the bad rows"
    assert all(d["error_code"] and d["error_message"] for d in dead), f"seed {seed}: a dead letter has no reason"
    stored = by_rid(stored_objects(endpoint, ACCOUNTS))
    assert {rid: obj["seq"] for rid, obj in stored.items()} == last_good, f"seed {seed}: wrong or missing values"
