"""``customer-profiles-local``: run the local Customer Profiles service from a shell."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from customer_profiles_local.connections import ConnectionLimits
from customer_profiles_local.server import CustomerProfilesServer, Knobs
from customer_profiles_local.state import DEFAULT_MATCHING_DELAY_SECONDS, EmulatorConfig

FIRST_JOB_WITHIN = 24 * 3600.0  # AWS: the first job runs "within 24 hours" of enabling matching


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="customer-profiles-local",
        description="A local Amazon Connect Customer Profiles service that boto3 reaches through endpoint_url.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=4566, help="port to bind; 0 picks a free one (default: 4566)")
    parser.add_argument(
        "--quotas",
        choices=("aws", "off"),
        default="aws",
        help="the documented per-operation TPS quotas, always on in AWS (default: aws); off admits everything",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every response")
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        help="fraction of requests that fail with 500 or a dropped connection",
    )
    parser.add_argument(
        "--access-key-id",
        help="with --secret-access-key: require SigV4 signatures by this key, on API and /_emulator calls alike",
    )
    parser.add_argument("--secret-access-key", help="the secret of --access-key-id")
    parser.add_argument("--s3-endpoint-url", help="S3 endpoint where identity-resolution results are written")
    parser.add_argument(
        "--first-job-delay-seconds",
        type=float,
        default=FIRST_JOB_WITHIN,
        help="seconds from enabling matching to the first identity-resolution job; AWS runs it within 24 hours "
        f"(default: {FIRST_JOB_WITHIN:g}, that bound)",
    )
    parser.add_argument("--sqs-endpoint-url", help="SQS endpoint where domains' DeadLetterQueueUrl queues are reached")
    parser.add_argument(
        "--matching-delay-ms",
        type=float,
        default=DEFAULT_MATCHING_DELAY_SECONDS * 1000,
        help="ms from an accepted PutProfileObject to the object being matched and searchable "
        f"(default: {DEFAULT_MATCHING_DELAY_SECONDS * 1000:g}; AWS matches 'shortly afterward')",
    )
    parser.add_argument("--region", default="us-east-1", help="Region in ARNs (default: us-east-1)")
    parser.add_argument("--account-id", default="123456789012", help="account id in ARNs (default: 123456789012)")
    defaults = ConnectionLimits()
    parser.add_argument(
        "--workers",
        type=int,
        default=defaults.workers,
        help=f"threads serving requests; further connections wait (default: {defaults.workers})",
    )
    parser.add_argument(
        "--read-timeout",
        type=float,
        default=defaults.read_timeout,
        help=f"seconds a request may take to arrive, headers and body (default: {defaults.read_timeout:g})",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=defaults.idle_timeout,
        help=f"seconds a connection may wait between requests before it is closed (default: {defaults.idle_timeout:g})",
    )
    return parser


def _stop_on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if bool(args.access_key_id) != bool(args.secret_access_key):
        print("--access-key-id and --secret-access-key go together", file=sys.stderr)
        return 2
    if not 0 <= args.first_job_delay_seconds < float("inf"):
        print("--first-job-delay-seconds must be a finite number of seconds, 0 or more", file=sys.stderr)
        return 2
    try:
        limits = ConnectionLimits(args.workers, args.read_timeout, args.idle_timeout)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    server = CustomerProfilesServer(
        args.host,
        args.port,
        Knobs(args.quotas, args.latency_ms, args.fault_rate, args.access_key_id, args.secret_access_key),
        EmulatorConfig(
            region=args.region,
            account_id=args.account_id,
            s3_endpoint_url=args.s3_endpoint_url,
            sqs_endpoint_url=args.sqs_endpoint_url,
            matching_delay_seconds=args.matching_delay_ms / 1000,
            first_job_delay_seconds=args.first_job_delay_seconds,
        ),
        limits,
    )
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    print(f"customer-profiles-local listening on {server.url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
