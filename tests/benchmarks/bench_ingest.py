"""
Benchmark: Parquet -> profile objects, ours against the naive loop, and memory against file size.

Run: ``python tests/benchmarks/bench_ingest.py [--seconds 60] [--naive-rows 200] [--rss-rows 200000 2000000]``

Every figure comes from this one run, against the local Customer Profiles service
started as a separate process (so its CPU is not ours):

- throughput: the loader at its defaults against ``--quotas aws --latency-ms 50``;
  the ceiling is 100 BatchPutProfileObject calls/s x 10 objects = 1,000 objects/s;
- naive: pandas ``iterrows`` + ``json.dumps`` + one ``put_profile_object`` per row,
  on a smaller sample against the same service;
- encoding: rows/s of the encoder alone on one core (it must not be the bottleneck);
- peak RSS of a loader process per file size, against a second service with quotas
  off and no latency (so a 2M-row file finishes in minutes; printed with the figures).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import resource
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path
from urllib.request import urlopen

import boto3
import pyarrow as pa
import pyarrow.parquet as pq
from botocore.config import Config

from airflow_provider_customerprofiles.ingest.encoding import BatchEncoder
from airflow_provider_customerprofiles.ingest.loader import LoadOptions, client_config, load

DOMAIN, OBJECT_TYPE = "bench", "Order"
CEILING = 1000.0  # objects/s: 100 TPS x 10 objects a call
ACCOUNTS = 9973  # profiles the rows spread over: 2M rows stay under 1,000 objects per profile


def start_service(*args: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(["customer-profiles-local", "--port", "0", *args], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    found = re.search(r"listening on (http://\S+)", line)
    if not found:
        process.kill()
        raise RuntimeError(f"the local service did not start: {line!r}")
    return process, found.group(1)


def client(url: str, **config) -> object:
    return boto3.client(
        "customer-profiles",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(**config),
    )


def create_target(url: str) -> None:
    admin = client(url, retries={"mode": "standard", "max_attempts": 10})
    admin.create_domain(DomainName=DOMAIN, DefaultExpirationDays=30)
    admin.put_profile_object_type(
        DomainName=DOMAIN,
        ObjectTypeName=OBJECT_TYPE,
        Description="benchmark",
        AllowProfileCreation=True,
        Fields={
            "order_id": {"Source": "_source.OrderId", "Target": "_profile.Attributes.LastOrderId"},
            "account": {"Source": "_source.AccountNumber", "Target": "_profile.AccountNumber"},
        },
        Keys={
            "_orderId": [{"StandardIdentifiers": ["ORDER", "UNIQUE"], "FieldNames": ["order_id"]}],
            "_account": [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["account"]}],
        },
    )


def write_orders(path: Path, rows: int, chunk: int = 100_000) -> Path:
    """Synthetic orders, ~300 JSON characters each, written in row groups of ``chunk`` rows."""
    schema = None
    writer = None
    epoch = dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc)
    for start in range(0, rows, chunk):
        ids = range(start, min(rows, start + chunk))
        table = pa.table(
            {
                "OrderId": [f"ord-{i:010d}" for i in ids],
                "AccountNumber": [f"acct-{i % ACCOUNTS:05d}" for i in ids],
                "Email": [f"customer{i % ACCOUNTS}@example.com" for i in ids],
                "OrderedAt": pa.array([epoch + dt.timedelta(seconds=i) for i in ids], pa.timestamp("us", "UTC")),
                "Total": pa.array([Decimal(i % 100_000) / 100 for i in ids], pa.decimal128(12, 2)),
                "Quantity": pa.array([1 + i % 7 for i in ids], pa.int32()),
                "Discount": [(i % 5) / 10 for i in ids],
                "Channel": pa.array([("web", "store", "phone")[i % 3] for i in ids]).dictionary_encode(),
                "Lines": [[{"sku": f"sku-{i % 101}", "qty": 1 + i % 3}] for i in ids],
            }
        )
        if writer is None:
            schema = table.schema
            writer = pq.ParquetWriter(path, schema)
        writer.write_table(table.cast(schema))
    assert writer is not None
    writer.close()
    return path


def accepted_batches(url: str) -> int:
    with urlopen(f"{url}/_emulator/metrics", timeout=10) as response:  # noqa: S310
        return json.load(response)["operations"].get("BatchPutProfileObject", {}).get("succeeded", 0)


def measure_ours(url: str, source: Path, work: Path) -> tuple[dict, float]:
    """The loader at its defaults; returns its result and the sustained objects/s.

    Sustained: the service's accepted-call count, sampled every half second, over the
    middle 80% of the run (no start-up, no tail), times the run's objects per call.
    """
    samples: list[tuple[float, int]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.5):
            samples.append((time.monotonic(), accepted_batches(url)))

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.monotonic()
    sampler.start()
    result = load(
        client(url, **client_config()),
        str(source),
        LoadOptions(DOMAIN, OBJECT_TYPE, dead_letter_uri=str(work / "dead"), checkpoint_uri=str(work / "cp.json")),
    )
    stop.set()
    sampler.join()
    duration = time.monotonic() - started
    window = [s for s in samples if started + 0.1 * duration <= s[0] <= started + 0.9 * duration]
    (t0, n0), (t1, n1) = window[0], window[-1]
    objects_per_call = result.objects_written / accepted_batches(url)
    return result.as_dict(), (n1 - n0) / (t1 - t0) * objects_per_call


def measure_naive(url: str, source: Path, rows: int) -> float:
    """What people write first: pandas iterrows, json.dumps per row, one PutProfileObject at a time."""
    frame = pq.read_table(source).slice(0, rows).to_pandas()
    naive = client(url, retries={"mode": "standard", "max_attempts": 10})
    started = time.monotonic()
    for _, row in frame.iterrows():
        naive.put_profile_object(
            DomainName=DOMAIN, ObjectTypeName=OBJECT_TYPE, Object=json.dumps(row.to_dict(), default=str)
        )
    return rows / (time.monotonic() - started)


def measure_encoding(source: Path, rows: int) -> float:
    encoder = BatchEncoder(None, ("OrderId",))
    parquet = pq.ParquetFile(source)
    started = time.process_time()
    done = 0
    for batch in parquet.iter_batches(batch_size=5000):
        done += len(encoder.encode(batch))
        if done >= rows:
            break
    return done / (time.process_time() - started)


def rss_child(url: str, source: str, work: str) -> None:
    """Runs in its own process: load one file, print the peak RSS in MiB."""
    result = load(
        client(url, **client_config()),
        source,
        LoadOptions(
            DOMAIN, OBJECT_TYPE, dead_letter_uri=f"{work}/dead", max_requests_per_second=100_000, max_failed_ratio=1.0
        ),
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"peak_rss_mib": peak, "rows": result.rows_read, "rows_per_second": result.rows_per_second}))


def measure_rss(url: str, source: Path, work: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--rss-child", url, str(source), str(work)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="length of the throughput run at the quota")
    parser.add_argument("--naive-rows", type=int, default=200)
    parser.add_argument("--rss-rows", type=int, nargs="*", default=[200_000, 2_000_000])
    parser.add_argument("--rss-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(*args.rss_child)
        return

    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    rows = int(args.seconds * CEILING)
    source = write_orders(work / "orders.parquet", rows)
    encoding_rate = measure_encoding(source, min(rows, 50_000))
    print(f"encoding alone: {encoding_rate:,.0f} rows/s of one core's CPU time")

    service, url = start_service("--quotas", "aws", "--latency-ms", "50")
    try:
        create_target(url)
        ours, sustained = measure_ours(url, source, work)
        naive = measure_naive(url, source, args.naive_rows)
    finally:
        service.kill()
    rate = ours["objects_written"] / ours["seconds"]
    print(
        f"ours: {ours['objects_written']:,} objects in {ours['seconds']:.1f} s = {rate:,.0f} objects/s "
        f"({rate / CEILING:.1%} of the {CEILING:,.0f} objects/s ceiling; quotas=aws, latency 50 ms); "
        f"{ours['requests']} requests, {ours['throttles']} throttled, {ours['dead_lettered']} dead-lettered"
    )
    print(
        f"ours sustained (middle 80% of the run): {sustained:,.0f} objects/s = {sustained / CEILING:.1%} of the ceiling"
    )
    print(f"naive: {naive:,.1f} objects/s on {args.naive_rows} rows (same service)")
    print(f"ratio ours / naive: {rate / naive:,.1f}x")

    rss = {}
    for size in args.rss_rows:
        service, url = start_service("--quotas", "off")
        try:
            create_target(url)
            size_file = write_orders(work / f"rss-{size}.parquet", size)
            rss[size] = measure_rss(url, size_file, work / f"rss-{size}")
        finally:
            service.kill()
        print(
            f"peak RSS loading {size:,} rows: {rss[size]['peak_rss_mib']:.0f} MiB "
            f"(quotas off, no latency: {rss[size]['rows_per_second']:,.0f} rows/s)"
        )
    if len(rss) >= 2:
        smallest, largest = min(rss), max(rss)
        growth = rss[largest]["peak_rss_mib"] / rss[smallest]["peak_rss_mib"] - 1
        print(f"peak RSS growth from {smallest:,} to {largest:,} rows: {growth:+.1%}")


if __name__ == "__main__":
    main()
