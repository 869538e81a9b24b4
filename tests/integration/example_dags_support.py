"""What the example-DAG tests share: a fresh deployment's empty S3, and the DAGs' declared settings."""

from __future__ import annotations

import time
from pathlib import Path

from tests.conftest import s3_client

DAGS = Path(__file__).parents[2] / "dags"
EXAMPLE_BUCKET = "customer-profiles-examples"  # the examples' default ``bucket`` param


def remove_bucket(s3_url: str, name: str) -> None:
    """Delete ``name`` and its objects if present, so the DAG under test must create it (moto is shared)."""
    s3 = s3_client(s3_url)
    if name not in {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}:
        return
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def object_keys(s3_url: str, bucket: str) -> list[str]:
    pages = s3_client(s3_url).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def start_job_once_exporting(endpoint, domain: str, timeout: float = 60.0) -> None:
    """Start an identity-resolution job as soon as the DAG has configured the domain's S3 export.

    Plays the service's weekly schedule: the job reads its ExportingConfig when it starts.
    """
    client = endpoint.client()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        domains = {item["DomainName"] for item in client.list_domains()["Items"]}
        if domain in domains and "ExportingConfig" in client.get_domain(DomainName=domain).get("Matching", {}):
            endpoint.admin("POST", f"domains/{domain}/identity-resolution-jobs")
            return
        time.sleep(0.1)
    raise AssertionError(f"the DAG did not configure the export of domain {domain} within {timeout} s")
