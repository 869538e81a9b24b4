"""
Benchmark: a file whose unique keys come in runs of adjacent duplicates, against one whose keys are distinct.

Run from the repository root: ``python -m tests.benchmarks.bench_duplicate_keys [--rows 2000] [--run 5]
[--fault-rate 0.3] [--latency-ms 0]``

Both files have the same number of rows and are loaded, one after the other, by the
loader at its defaults into the local Customer Profiles service (a separate process)
with injected faults. Prints rows/s for each and their ratio (duplicates / distinct):
a ratio well under 1 means runs of one key are sent as many small calls.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from airflow_provider_customerprofiles.ingest.loader import LoadOptions, LoadResult, client_config, load
from tests.benchmarks.bench_ingest import DOMAIN, OBJECT_TYPE, client, create_target, start_service


def write_keys(path: Path, keys: list[str]) -> Path:
    pq.write_table(
        pa.table(
            {
                "OrderId": keys,
                "AccountNumber": [f"acct-{i % 97:03d}" for i in range(len(keys))],
                "Seq": list(range(len(keys))),
            }
        ),
        path,
    )
    return path


def measure(url: str, source: Path, work: Path) -> LoadResult:
    return load(
        client(url, **client_config()),
        str(source),
        LoadOptions(DOMAIN, OBJECT_TYPE, dead_letter_uri=str(work / "dead"), max_failed_ratio=1.0),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--run", type=int, default=5, help="rows a key repeats in a row")
    parser.add_argument("--fault-rate", type=float, default=0.3)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()

    process, url = start_service("--fault-rate", str(args.fault_rate), "--latency-ms", str(args.latency_ms))
    try:
        create_target(url)
        with tempfile.TemporaryDirectory(prefix="bench-dup-") as tmp:
            work = Path(tmp)
            runs = write_keys(work / "runs.parquet", [f"run-{i // args.run:08d}" for i in range(args.rows)])
            distinct = write_keys(work / "distinct.parquet", [f"one-{i:08d}" for i in range(args.rows)])
            with_runs = measure(url, runs, work / "runs")
            without = measure(url, distinct, work / "distinct")
    finally:
        process.terminate()
        process.wait()
    print(
        f"{args.rows} rows, keys in runs of {args.run}, --fault-rate {args.fault_rate}, --latency-ms {args.latency_ms}"
    )
    for name, result in (("runs of one key", with_runs), ("distinct keys", without)):
        print(
            f"  {name:16s} {result.rows_per_second:8.1f} rows/s  ({result.requests} calls, "
            f"{result.objects_written} written, {result.dead_lettered} dead-lettered)"
        )
    print(f"  ratio runs/distinct: {with_runs.rows_per_second / without.rows_per_second:.2f}")


if __name__ == "__main__":
    main()
