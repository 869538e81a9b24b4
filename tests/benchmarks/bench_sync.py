"""
Snapshot sync (issue 13 item 6): a changed-only run against a full re-send, and the diff's own cost.

Run from the repository root: ``python -m tests.benchmarks.bench_sync [--e2e-rows 100000] [--keys 1000000 10000000]``

End to end, against the local Customer Profiles service started with ``--quotas aws
--latency-ms 50`` (1,000 objects/s at most): a full load of an N-row snapshot with a sync
state, then the same snapshot with 1% of rows changed and 0.5% added as a changed-only
run, and a full re-send of it without a state for comparison. The objects each run sent
are the service's ``objects_accepted`` (``/_emulator/metrics``). The changed-only run is
compared with the measured re-send and with the quota's lower bound for a full re-send
(N / 1,000 objects/s). A 1M-row full re-send takes about 17 minutes at the quota, and so
does the first full load: ``--e2e-rows 1000000 --no-resend --seed-unthrottled`` builds the
state through a second service without quotas or latency, and compares with the bound only.

Diff only, per number of keys, each in a child process so its peak RSS is its own: a
first comparison against an empty state and a commit, then the changed snapshot compared
against that state, both read from Parquet as the loader reads them. Prints rows/s of CPU
for reading, keying and fingerprinting the snapshot and comparing it, and the peak RSS.
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

from airflow_provider_customerprofiles.ingest.loader import LoadOptions, LoadResult, client_config, load
from airflow_provider_customerprofiles.ingest.sync import SyncState, kernels
from airflow_provider_customerprofiles.ingest.sync.rows import RowHasher
from airflow_provider_customerprofiles.ingest.sync.state import Accepted
from tests.benchmarks.bench_ingest import DOMAIN, OBJECT_TYPE, client, create_target, start_service, write_orders

BATCH = 50_000
REPO = Path(__file__).resolve().parents[2]
CHANGED_EVERY = 100  # 1% of rows changed
ADDED_PER = 200  # 0.5% of rows added
CEILING = 1000.0  # objects/s: 100 BatchPutProfileObject calls/s x 10 objects


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
    table = table.set_column(
        column, "Quantity", pc.if_else(changed, pc.add(quantity, 100).cast(quantity.type), quantity)
    )
    pq.write_table(table, path)
    return path


def objects_accepted(url: str) -> int:
    with urlopen(f"{url}/_emulator/metrics", timeout=10) as response:  # noqa: S310
        return json.load(response)["operations"].get("BatchPutProfileObject", {}).get("objects_accepted", 0)


def timed_load(
    url: str, source: Path, work: Path, name: str, sync_state_uri: str | None, **options
) -> tuple[LoadResult, int, float]:
    """One load at the loader's defaults: its result, the objects the service accepted, and its CPU seconds."""
    before, cpu = objects_accepted(url), time.process_time()
    result = load(
        client(url, **client_config()),
        str(source),
        LoadOptions(
            DOMAIN, OBJECT_TYPE, dead_letter_uri=str(work / "dead" / name), sync_state_uri=sync_state_uri, **options
        ),
    )
    return result, objects_accepted(url) - before, time.process_time() - cpu


def first_load(url: str, source: Path, work: Path, state: str, unthrottled: bool) -> LoadResult:
    """The full load that builds the state: at the quota, or through a service without quotas or latency."""
    if not unthrottled:
        return timed_load(url, source, work, "night-1", state)[0]
    service, fast_url = start_service("--quotas", "off")
    try:
        create_target(fast_url)
        return timed_load(fast_url, source, work, "night-1", state, max_requests_per_second=100_000)[0]
    finally:
        service.kill()


def end_to_end(rows: int, resend: bool, seed_unthrottled: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    first = write_orders(work / "night-1.parquet", rows)
    second = write_changed_orders(work / "night-2.parquet", rows)
    state = str(work / "state")
    service, url = start_service("--quotas", "aws", "--latency-ms", "50")
    try:
        create_target(url)
        full = first_load(url, first, work, state, seed_unthrottled)
        changed, changed_sent, changed_cpu = timed_load(url, second, work, "night-2", state)
        if resend:
            resend_result, resend_sent, resend_cpu = timed_load(url, second, work, "resend", None)
    finally:
        service.kill()
    expected = expected_sent(rows)
    bound = (rows + rows // ADDED_PER) / CEILING
    load_average = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"end to end, {rows:,}-row snapshot, --quotas aws --latency-ms 50 (load average {load_average}):")
    where = "without quotas (--seed-unthrottled)" if seed_unthrottled else "at the quota"
    print(f"  first full load with a state, {where}: {full.objects_written:,} objects in {full.seconds:.1f} s")
    print(
        f"  changed-only run: {changed_sent:,} objects accepted by the service (changed + added = {expected:,}; "
        f"{'equal' if changed_sent == expected else 'NOT EQUAL'}), rows_unchanged {changed.rows_unchanged:,}, "
        f"{changed.seconds:.1f} s wall, {changed_cpu:.1f} s CPU"
    )
    if resend:
        print(
            f"  full re-send without a state (measured): {resend_sent:,} objects in {resend_result.seconds:.1f} s "
            f"wall, {resend_cpu:.1f} s CPU"
        )
        print(
            f"  changed-only / measured full re-send: {changed.seconds / resend_result.seconds:.1%} of the wall time, "
            f"{changed_cpu / resend_cpu:.1%} of the CPU time (goal <= 5%)"
        )
    print(
        f"  changed-only / lower bound of a full re-send at the quota ({bound:,.0f} s = rows / 1,000 objects/s): "
        f"{changed.seconds / bound:.1%} of the wall time (goal <= 5%)"
    )


# -- the diff alone, by number of keys
def write_snapshot(path: Path, rows: int, changed: bool) -> Path:
    """rid, email, v: ``rows`` keys, or with ``changed`` every 100th v changed and 0.5% more keys; 100k-row groups."""
    total = rows + (rows // ADDED_PER if changed else 0)
    with pq.ParquetWriter(path, pa.schema([("rid", pa.string()), ("email", pa.string()), ("v", pa.int64())])) as out:
        for start in range(0, total, 100_000):
            numbers = range(start, min(start + 100_000, total))
            rid = pa.array([f"r{i:09d}" for i in numbers])
            email = pa.array([f"u{i}@example.com" for i in numbers])
            version = pa.array([int(changed and i % CHANGED_EVERY == 0) for i in numbers], pa.int64())
            out.write_batch(pa.record_batch({"rid": rid, "email": email, "v": version}))
    return path


def keyed_batches(path: Path, hasher: RowHasher):
    """(file number, first row, keys, fingerprints) per record batch, as the loader's plan pass reads them."""
    start = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=5_000):
        yield 0, start, hasher.keys(batch), hasher.fingerprints(batch)
        start += batch.num_rows


def measure_diff(rows: int, work: Path) -> dict:
    hasher = RowHasher(None, ("rid",))
    first, second = work / "first.parquet", work / "second.parquet"
    state = SyncState(str(work / "state"), "m" * 64).open()
    plan = state.plan([rows], keyed_batches(first, hasher))
    for _, start, keys, fps in keyed_batches(first, hasher):
        h1, h2 = state.hash_keys(keys)
        ranks = kernels.rank(0, np.arange(start, start + len(keys)))
        fps, sizes = plan.staged(ranks, fps)
        state.stage(f"part-{start:012d}", Accepted(h1, h2, fps, ranks, sizes))
    state.commit()
    state.close()
    total = rows + rows // ADDED_PER
    state = SyncState(str(work / "state"), "m" * 64).open()
    cpu = time.process_time()
    plan = state.plan([total], keyed_batches(second, hasher))
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
        with tempfile.TemporaryDirectory(prefix="bench-diff-") as tmp:
            write_snapshot(Path(tmp) / "first.parquet", rows, changed=False)
            write_snapshot(Path(tmp) / "second.parquet", rows, changed=True)
            out = subprocess.run(
                [sys.executable, "-m", "tests.benchmarks.bench_sync", "--diff-child", str(rows), tmp],
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
    parser.add_argument("--no-resend", action="store_true", help="skip the measured full re-send")
    parser.add_argument(
        "--seed-unthrottled", action="store_true", help="build the state through a service without quotas"
    )
    parser.add_argument("--keys", type=int, nargs="*", default=[1_000_000, 10_000_000], help="diff-only sizes")
    parser.add_argument("--diff-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.diff_child:
        rows, work = args.diff_child
        print(json.dumps(measure_diff(int(rows), Path(work))))
        return
    if args.e2e_rows:
        end_to_end(args.e2e_rows, resend=not args.no_resend, seed_unthrottled=args.seed_unthrottled)
    diff_only(args.keys)


if __name__ == "__main__":
    main()
