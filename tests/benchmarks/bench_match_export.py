"""
Benchmark: GetMatches -> Parquet export through the engine, against the local service with added latency.

    python tests/benchmarks/bench_match_export.py                      # 1,000,000 and 100,000 rows
    python tests/benchmarks/bench_match_export.py --rows 200000 20000 --ceiling-rows 20000  # quicker

For each size the local service (in this process, ``latency_ms`` per request) is seeded
with ``rows / group_size`` match groups; a child process then exports them with the same
code the operator runs (``CustomerProfilesHook.iterate_pages`` -> ``stream_get_matches`` ->
``write_partition``) and reports its rows/s and peak RSS.

The bound. GetMatches pages must be read one after another (each needs the previous
NextToken) and the service holds every request for ``latency_ms``, so no client can read
more than ``1 / latency`` pages per second: with 50 ms, 20 pages/s, and with pages of 100
groups of 2, 4,000 rows/s. "Share of bound" is measured rows/s over that. Two more figures
put it in context: the bare round trip (the same page from a service without added latency),
and the client ceiling: the same hook paging through GetMatches and doing nothing else, the
most any exporter built on boto3 can reach here.

Not part of the test suite (pytest does not collect it).
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

DOMAIN = "bench-matches"
PAGE_GROUPS = 100


def start_service(latency_ms: float):
    """The local service, in this process, holding every request ``latency_ms``."""
    from customer_profiles_local.server import CustomerProfilesServer, Knobs
    from customer_profiles_local.state import EmulatorConfig

    return CustomerProfilesServer("127.0.0.1", 0, Knobs(latency_ms=latency_ms), EmulatorConfig()).start_background()


def admin(url: str, path: str, body: dict) -> dict:
    from urllib.request import Request, urlopen

    request = Request(f"{url}/_emulator/{path}", data=json.dumps(body).encode(), method="POST")  # noqa: S310
    request.add_header("Content-Type", "application/json")
    with urlopen(request, timeout=600) as response:  # noqa: S310
        return json.loads(response.read())


def client(url: str):
    import boto3

    return boto3.client(
        "customer-profiles",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def seed(url: str, groups: int, group_size: int) -> int:
    try:
        client(url).create_domain(DomainName=DOMAIN, DefaultExpirationDays=30, Matching={"Enabled": True})
    except client(url).exceptions.BadRequestException:
        pass
    answer = admin(
        url,
        f"domains/{DOMAIN}/matches",
        {
            "Generate": {"Groups": groups, "GroupSize": group_size, "Seed": 7},
            "MatchGenerationDate": "2026-11-21T03:15:00Z",
        },
    )
    return answer["ProfileEntries"]


def bare_round_trip_ms(group_size: int, calls: int = 50) -> float:
    service = start_service(0)
    try:
        seed(service.url, PAGE_GROUPS * calls, group_size)
        cp = client(service.url)
        cp.get_matches(DomainName=DOMAIN, MaxResults=PAGE_GROUPS)
        started, token = time.perf_counter(), None
        for _ in range(calls):
            page = cp.get_matches(DomainName=DOMAIN, MaxResults=PAGE_GROUPS, **({"NextToken": token} if token else {}))
            token = page.get("NextToken")
        return (time.perf_counter() - started) / calls * 1000
    finally:
        service.stop()


def child(url: str, destination: str, mode: str) -> None:
    """Export once (or only read the pages) and print JSON figures; runs alone so its peak RSS is its own."""
    os.environ["AIRFLOW_CONN_BENCH_CP"] = json.dumps(
        {
            "conn_type": "aws",
            "login": "testing",
            "password": "testing",
            "extra": {"region_name": "us-east-1", "service_config": {"customer-profiles": {"endpoint_url": url}}},
        }
    )
    from airflow_provider_customerprofiles.hooks.customer_profiles import CustomerProfilesHook
    from airflow_provider_customerprofiles.matches.dataset import write_partition
    from airflow_provider_customerprofiles.matches.location import resolve
    from airflow_provider_customerprofiles.matches.normalize import stream_get_matches

    hook = CustomerProfilesHook(aws_conn_id="bench_cp")
    hook.conn  # noqa: B018 - connect before the clock starts
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    pages = 0

    def counted():
        nonlocal pages
        for page in hook.iterate_pages("get_matches", DomainName=DOMAIN, MaxResults=PAGE_GROUPS):
            pages += 1
            yield page

    started = time.perf_counter()
    if mode == "export":
        rows = write_partition(stream_get_matches(counted()), resolve(destination), overwrite=True).rows
    else:
        rows = sum(len(match["ProfileIds"]) for page in counted() for match in page["Matches"])
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps({"rows": rows, "pages": pages, "seconds": seconds, "baseline_kb": baseline_kb, "peak_kb": peak_kb})
    )


def run_child(url: str, mode: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-matches-") as destination:
        out = subprocess.run(
            [sys.executable, __file__, "--child", url, destination, mode], check=True, capture_output=True, text=True
        ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 100_000])
    parser.add_argument("--group-size", type=int, default=2)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--ceiling-rows", type=int, default=100_000, help="rows read without exporting")
    parser.add_argument("--child", nargs=3, metavar=("URL", "DESTINATION", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    bare = bare_round_trip_ms(args.group_size)
    bound_pages = 1000 / args.latency_ms
    bound_rows = bound_pages * PAGE_GROUPS * args.group_size
    print(f"latency {args.latency_ms:.0f} ms; bare round trip of one {PAGE_GROUPS}-group page: {bare:.1f} ms")
    print(f"bound: {bound_pages:.1f} pages/s = {bound_rows:,.0f} rows/s (groups of {args.group_size})")
    service = start_service(args.latency_ms)
    try:
        seed(service.url, args.ceiling_rows // args.group_size, args.group_size)
        ceiling = run_child(service.url, "pages")
        ceiling_rate = ceiling["rows"] / ceiling["seconds"]
        print(
            f"client ceiling (boto3 paging alone, {ceiling['pages']:,} pages, no export): "
            f"{ceiling_rate:,.0f} rows/s = {ceiling_rate / bound_rows:.1%} of bound"
        )
        for rows in args.rows:
            entries = seed(service.url, rows // args.group_size, args.group_size)
            figures = run_child(service.url, "export")
            assert figures["rows"] == entries, figures
            rate = figures["rows"] / figures["seconds"]
            print(
                f"{figures['rows']:>9,} rows, {figures['pages']:,} pages in {figures['seconds']:.1f} s: "
                f"{rate:,.0f} rows/s = {rate / bound_rows:.1%} of bound, {rate / ceiling_rate:.1%} of client ceiling; "
                f"peak RSS {figures['peak_kb'] / 1024:.0f} MiB "
                f"(+{(figures['peak_kb'] - figures['baseline_kb']) / 1024:.0f} MiB over the process after imports)"
            )
    finally:
        service.stop()


if __name__ == "__main__":
    main()
