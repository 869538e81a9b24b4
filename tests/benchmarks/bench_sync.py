"""
Snapshot sync: the diff's own cost (rows/s of CPU) and peak RSS by number of keys (issue 13 item 6).

Each size runs in a child process, so its peak RSS is its own: a first comparison
against an empty state and a commit, then the same snapshot with 1% changed and
0.5% added compared against that state. Prints rows/s of CPU for the comparison and
the share of rows it leaves unsent. ``python tests/benchmarks/bench_sync.py 1000000 10000000``
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from airflow_provider_customerprofiles.ingest.encoding import EncodedRow
from airflow_provider_customerprofiles.ingest.sync import SyncState, kernels
from airflow_provider_customerprofiles.ingest.sync.state import Accepted

BATCH = 50_000


def snapshot(rows: int, changed_every: int | None):
    """Batches of (file number, first row, encoded rows), as the loader yields them."""
    added = rows // 200 if changed_every else 0
    for start in range(0, rows + added, BATCH):
        batch = []
        for i in range(start, min(start + BATCH, rows + added)):
            version = 1 if changed_every and i % changed_every == 0 else 0
            batch.append(EncodedRow(f'{{"rid":"r{i:09d}","email":"u{i}@example.com","v":{version}}}', f"r{i:09d}"))
        yield 0, start, batch


def measure(rows: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        state = SyncState(f"{tmp}/state", "m" * 64).open()
        plan = state.plan([rows], snapshot(rows, None))
        for _, start, batch in snapshot(rows, None):
            h1, h2, fp = state.hash_rows([r.key for r in batch], [r.obj for r in batch])
            ranks = kernels.rank(0, np.arange(start, start + len(batch)))
            fp, sizes = plan.staged(ranks, fp)
            state.stage(f"part-{start:012d}", Accepted(h1, h2, fp, ranks, sizes))
        state.commit()
        state.close()
        total = rows + rows // 200
        state = SyncState(f"{tmp}/state", "m" * 64).open()
        cpu = time.process_time()
        plan = state.plan([total], snapshot(rows, 100))
        cpu = time.process_time() - cpu
        state.close()
    return {
        "keys": rows,
        "rows_compared": total,
        "sent": total - plan.count(),
        "expected_sent": rows // 100 + rows // 200,
        "diff_rows_per_cpu_second": round(total / cpu),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(measure(int(sys.argv[2]))))
        return
    sizes = [int(arg) for arg in sys.argv[1:]] or [1_000_000, 10_000_000]
    results = []
    for rows in sizes:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(rows)], check=True, capture_output=True, text=True
        )
        results.append(json.loads(out.stdout))
        print(results[-1], flush=True)
    if len(results) > 1:
        print(
            f"peak RSS {results[-1]['keys']:,} keys / {results[0]['keys']:,} keys: "
            f"{results[-1]['peak_rss_mb'] / results[0]['peak_rss_mb']:.2f}x"
        )


if __name__ == "__main__":
    main()
