"""
Snapshot sync (issue 13 item 6): a changed-only run against a full re-send, and the diff's own cost.

Run from the repository root: ``python -m tests.benchmarks.bench_sync [--e2e-rows 100000] [--keys 1000000 10000000]``

End to end, against the local Customer Profiles service started with ``--quotas aws
--latency-ms 50`` (1,000 objects/s at most): a full load of an N-row snapshot with a sync
state, then the same snapshot with 1% of rows changed and 0.5% added as a changed-only
run, and a full re-send of it without a state for comparison. The objects each run sent
are the service's ``objects_accepted`` (``/_emulator/metrics``). N defaults to 100,000: a
1M-row full re-send takes about 17 minutes at the quota.

Diff only, per number of keys, each in a child process so its peak RSS is its own: a
first comparison against an empty state and a commit, then the changed snapshot compared
against that state. Prints rows/s of CPU for the comparison and the peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.request import urlopen

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from airflow_provider_customerprofiles.ingest.encoding import EncodedRow
from airflow_provider_customerprofiles.ingest.loader import LoadOptions, LoadResult, client_config, load
from airflow_provider_customerprofiles.ingest.sync import SyncState, kernels
from airflow_provider_customerprofiles.ingest.sync.state import Accepted
from tests.benchmarks.bench_ingest import DOMAIN, OBJECT_TYPE, client, create_target, start_service, write_orders

BATCH = 50_000
REPO = Path(__file__).resolve().parents[2]
CHANGED_EVERY = 100  # 1% of rows changed
ADDED_PER = 200  # 0.5% of rows added


def expected_sent(rows: int) -> int:
    """Changed + added rows of the second snapshot."""
    return len(range(0, rows, CHANGED_EVERY)) + rows // ADDED_PER


# -- end to end, against the local service
def write_changed_orders(path: Path, rows: int) -> Path:
    """``write_orders(rows)``'s orders with every 100th order's quantity changed, and 0.5% more orders."""
    table = pq.read_table(write_orders(path, rows + rows // ADDED_PER))
    index = np.arange(table.num_rows)
    changed = pa.array((index % CHANGED_EVERY == 0) & (index < rows))
    quantity = table["Quantity"]
    column = table.schema.get_field_index("Quantity")
    table = table.set_column(column, "Quantity", pc.if_else(changed, pc.add(quantity, 100), quantity))
    pq.write_table(table, path)
    return path


def objects_accepted(url: str) -> int:
    with urlopen(f"{url}/_emulator/metrics", timeout=10) as response:  # noqa: S310
        return json.load(response)["operations"].get("BatchPutProfileObject", {}).get("objects_accepted", 0)


def timed_load(
    url: str, source: Path, work: Path, name: str, sync_state_uri: str | None
) -> tuple[LoadResult, int, float]:
    """One load at the loader's defaults: its result, the objects the service accepted, and its CPU seconds."""
    before, cpu = objects_accepted(url), time.process_time()
    result = load(
        client(url, **client_config()),
        str(source),
        LoadOptions(DOMAIN, OBJECT_TYPE, dead_letter_uri=str(work / "dead" / name), sync_state_uri=sync_state_uri),
    )
    return result, objects_accepted(url) - before, time.process_time() - cpu


def end_to_end(rows: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    first = write_orders(work / "night-1.parquet", rows)
    second = write_changed_orders(work / "night-2.parquet", rows)
    state = str(work / "state")
    service, url = start_service("--quotas", "aws", "--latency-ms", "50")
    try:
        create_target(url)
        full, _, _ = timed_load(url, first, work, "night-1", state)
        changed, changed_sent, changed_cpu = timed_load(url, second, work, "night-2", state)
        resend, resend_sent, resend_cpu = timed_load(url, second, work, "resend", None)
    finally:
        service.kill()
    expected = expected_sent(rows)
    load_average = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"end to end, {rows:,}-row snapshot, --quotas aws --latency-ms 50 (load average {load_average}):")
    print(f"  first full load with a state: {full.objects_written:,} objects in {full.seconds:.1f} s")
    print(
        f"  changed-only run: {changed_sent:,} objects accepted by the service (changed + added = {expected:,}; "
        f"{'equal' if changed_sent == expected else 'NOT EQUAL'}), rows_unchanged {changed.rows_unchanged:,}, "
        f"{changed.seconds:.1f} s ({changed_cpu:.1f} s CPU)"
    )
    print(f"  full re-send without a state: {resend_sent:,} objects in {resend.seconds:.1f} s ({resend_cpu:.1f} s CPU)")
    print(f"  changed-only / full re-send: {changed.seconds / resend.seconds:.1%} of the time (goal <= 5%)")


# -- the diff alone, by number of keys
def snapshot(rows: int, changed: bool):
    """Batches of (file number, first row, encoded rows), as the loader yields them."""
    total = rows + (rows // ADDED_PER if changed else 0)
    for start in range(0, total, BATCH):
        batch = []
        for i in range(start, min(start + BATCH, total)):
            version = 1 if changed and i % CHANGED_EVERY == 0 else 0
            batch.append(EncodedRow(f'{{"rid":"r{i:09d}","email":"u{i}@example.com","v":{version}}}', f"r{i:09d}"))
        yield 0, start, batch


def measure_diff(rows: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        state = SyncState(f"{tmp}/state", "m" * 64).open()
        plan = state.plan([rows], snapshot(rows, False))
        for _, start, batch in snapshot(rows, False):
            h1, h2, fp = state.hash_rows([r.key for r in batch], [r.obj for r in batch])
            ranks = kernels.rank(0, np.arange(start, start + len(batch)))
            fp, sizes = plan.staged(ranks, fp)
            state.stage(f"part-{start:012d}", Accepted(h1, h2, fp, ranks, sizes))
        state.commit()
        state.close()
        total = rows + rows // ADDED_PER
        state = SyncState(f"{tmp}/state", "m" * 64).open()
        cpu = time.process_time()
        plan = state.plan([total], snapshot(rows, True))
        cpu = time.process_time() - cpu
        state.close()
    return {
        "keys": rows,
        "rows_compared": total,
        "sent": total - plan.count(),
        "expected_sent": expected_sent(rows),
        "diff_rows_per_cpu_second": round(total / cpu),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def diff_only(sizes: list[int]) -> None:
    results = []
    for rows in sizes:
        out = subprocess.run(
            [sys.executable, "-m", "tests.benchmarks.bench_sync", "--diff-child", str(rows)],
            check=True,
            capture_output=True,
            text=True,
            cwd=REPO,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"diff only: {results[-1]}", flush=True)
    if len(results) > 1:
        ratio = results[-1]["peak_rss_mb"] / results[0]["peak_rss_mb"]
        print(f"peak RSS {results[-1]['keys']:,} keys / {results[0]['keys']:,} keys: {ratio:.2f}x (goal <= 1.5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--e2e-rows", type=int, default=100_000, help="snapshot rows of the end-to-end runs; 0: none")
    parser.add_argument("--keys", type=int, nargs="*", default=[1_000_000, 10_000_000], help="diff-only sizes")
    parser.add_argument("--diff-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.diff_child:
        print(json.dumps(measure_diff(args.diff_child)))
        return
    if args.e2e_rows:
        end_to_end(args.e2e_rows)
    diff_only(args.keys)


if __name__ == "__main__":
    main()
