"""
Benchmark: 1, 2, 4 and 8 concurrent loads sharing one account quota, with and without the shared store.

Run: ``python tests/benchmarks/bench_concurrent_ingest.py [--seconds 60] [--loads 1 2 4 8] [--redis-db 6]``

Each load is its own process (as mapped tasks on Celery workers are), running the engine
(``ingest.loader.load``) at its defaults against one local Customer Profiles service started
with ``--quotas aws --latency-ms 50``: the ceiling is 100 BatchPutProfileObject calls/s x 10
objects = 1,000 objects/s for all loads together. Every load gets ``seconds x 1,000 / loads``
rows, so each configuration runs about ``seconds``. "shared" gives every load a
``SharedRateLimiter`` on Redis at 127.0.0.1:6379 (``--redis-db``, emptied first); "alone" is
today's per-process adaptive limit.

Every load starts its Python process, imports and builds its client first, then waits at a
start line; all are released together, as mapped tasks already running on their workers would be
(eight interpreters importing pyarrow and boto3 on two cores took seconds, which a benchmark of
seconds would otherwise count as quota left unused).

Printed per configuration: aggregate objects/s (all loads, from the common start to the last end)
as a share of the ceiling, and the same while all loads ran (sampled from the service: no
tail); the throttled share of requests, from the service's ``/_emulator/metrics``;
the slowest and fastest load (its objects / its own duration) and how far the slowest is
below the mean; rows dead-lettered because every attempt was throttled. Goal at 4 and 8
loads: >= 95% of the ceiling, <= 1% throttled, slowest no more than 15% below the mean.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.request import urlopen

from airflow_provider_customerprofiles.ingest.loader import LoadOptions, client_config, load
from tests.benchmarks.bench_ingest import (
    CEILING,
    DOMAIN,
    OBJECT_TYPE,
    client,
    create_target,
    start_service,
    write_orders,
)

REDIS = ("127.0.0.1", 6379)
READY = "ready"


def service_counts(url: str) -> tuple[int, int, int]:
    """(requests, throttled, objects accepted) of BatchPutProfileObject so far."""
    with urlopen(f"{url}/_emulator/metrics", timeout=10) as response:  # noqa: S310
        batch = json.load(response)["operations"].get("BatchPutProfileObject", {})
    return batch.get("requests", 0), batch.get("throttled", 0), batch.get("objects_accepted", 0)


class Sampler:
    """The service's accepted-object count every half second, from this (parent) process."""

    def __init__(self, url: str) -> None:
        self.samples: list[tuple[float, int]] = []
        self._url = url
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.samples.append((time.time(), service_counts(self._url)[2]))

    def rate_between(self, start: float, end: float) -> float | None:
        """Objects/s accepted between the first and last sample inside [start, end]; None if too short."""
        self._stop.set()
        self._thread.join()
        window = [s for s in self.samples if start <= s[0] <= end]
        if len(window) < 2:
            return None
        (t0, n0), (t1, n1) = window[0], window[-1]
        return (n1 - n0) / (t1 - t0)


def load_child(url: str, source: str, work: str, redis_db: int | None) -> None:
    """Runs in its own process: one load, once the parent says go; prints its counts, start and end."""
    limiter = None
    if redis_db is not None:
        import redis

        from airflow_provider_customerprofiles.ingest.shared_quota import SharedRateLimiter

        store = redis.Redis(*REDIS, db=redis_db, socket_timeout=2, socket_connect_timeout=2)
        limiter = SharedRateLimiter(store, "bench:us-east-1", LoadOptions("d", "t", "x").max_requests_per_second)
    # A load alone among many can exhaust its attempts on 429s and dead-letter rows: count them, don't stop.
    options = LoadOptions(
        DOMAIN, OBJECT_TYPE, dead_letter_uri=f"{work}/dead", rate_limiter=limiter, max_failed_ratio=1.0
    )
    loader_client = client(url, **client_config())
    print(READY, flush=True)
    sys.stdin.readline()  # the start line
    started = time.time()
    result = load(loader_client, source, options)
    ended = time.time()
    if limiter is not None:
        limiter.close()
    print(
        json.dumps(
            {
                "objects": result.objects_written,
                "dead_lettered": result.dead_lettered,
                "throttles": result.throttles,
                "start": started,
                "end": ended,
            }
        )
    )


def run_loads(url: str, sources: list[Path], work: Path, redis_db: int | None) -> dict:
    if redis_db is not None:
        import redis

        redis.Redis(*REDIS, db=redis_db).flushdb()
    before = service_counts(url)
    sampler = Sampler(url)
    args = [str(redis_db)] if redis_db is not None else []
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--load-child", url, str(source), str(work / f"{i}"), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i, source in enumerate(sources)
    ]
    for child in children:
        if child.stdout.readline().strip() != READY:
            raise RuntimeError(f"a load did not start (exit {child.wait()})")
    go = time.time()
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    loads = []
    for child in children:
        out, _ = child.communicate()
        if child.returncode:
            raise RuntimeError(f"a load failed (exit {child.returncode})")
        loads.append(json.loads(out.strip().splitlines()[-1]))
    after = service_counts(url)
    requests, throttled, accepted = (a - b for a, b in zip(after, before, strict=True))
    span = max(x["end"] for x in loads) - go
    all_running = sampler.rate_between(max(x["start"] for x in loads), min(x["end"] for x in loads))
    rates = [x["objects"] / (x["end"] - x["start"]) for x in loads]
    mean = sum(rates) / len(rates)
    return {
        "aggregate": sum(x["objects"] for x in loads) / span,
        "all_running": all_running,
        "throttled": throttled / requests if requests else 0.0,
        "per_request": accepted / (requests - throttled) if requests > throttled else 0.0,
        "dead_lettered": sum(x["dead_lettered"] for x in loads),
        "slowest": min(rates),
        "fastest": max(rates),
        "below_mean": 1 - min(rates) / mean,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60, help="about how long each configuration runs")
    parser.add_argument("--loads", type=int, nargs="*", default=[1, 2, 4, 8])
    parser.add_argument("--redis-db", type=int, default=6)
    parser.add_argument("--modes", nargs="*", choices=["alone", "shared"], default=["alone", "shared"])
    parser.add_argument("--load-child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load_child:
        url, source, work, *db = args.load_child
        load_child(url, source, work, int(db[0]) if db else None)
        return

    work = Path(tempfile.mkdtemp(prefix="bench-concurrent-"))
    service, url = start_service("--quotas", "aws", "--latency-ms", "50")
    try:
        create_target(url)
        for loads in args.loads:
            rows = int(args.seconds * CEILING / loads)
            sources = [write_orders(work / f"{loads}-{i}.parquet", rows) for i in range(loads)]
            for mode in args.modes:
                db = args.redis_db if mode == "shared" else None
                try:
                    figures = run_loads(url, sources, work / f"{loads}-{mode}", db)
                except RuntimeError:
                    if service.poll() is not None:
                        print(f"the local service exited with {service.returncode} during the run", file=sys.stderr)
                    raise
                running = figures["all_running"]
                print(
                    f"{loads} load(s), {mode:6}: aggregate {figures['aggregate']:,.0f} objects/s = "
                    f"{figures['aggregate'] / CEILING:.1%} of the ceiling ("
                    + (f"{running / CEILING:.1%} while all ran" if running else "too short to sample")
                    + f"); throttled {figures['throttled']:.1%} "
                    f"of requests; {figures['per_request']:.2f} objects per accepted request; "
                    f"{figures['dead_lettered']:,} rows dead-lettered after {LoadOptions.max_attempts} attempts; "
                    f"slowest {figures['slowest']:,.0f}, fastest {figures['fastest']:,.0f} objects/s "
                    f"(slowest {figures['below_mean']:.1%} below the mean)",
                    flush=True,
                )
    finally:
        service.kill()


if __name__ == "__main__":
    main()
