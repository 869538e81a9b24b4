"""Fixtures for the local service's own tests: moto's S3 in server mode, for the identity-resolution export.

The service fixtures (``customer_profiles_emulator``, ``customer_profiles_emulator_factory``) come from this
distribution's pytest plugin. Nothing here imports Airflow: clients are plain boto3.
"""

from __future__ import annotations

import os
import uuid

import boto3
import pytest

PARITY_AWS = os.environ.get("CP_PARITY_AWS") == "1"

# botocore must never find real credentials or config on a developer's machine, unless a maintainer opted in
# to running the parity suite against AWS (parity/conftest.py), which needs the standard credential chain.
if not PARITY_AWS:
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "parity: runs against the local service, or against AWS with CP_PARITY_AWS=1 (parity/)"
    )


@pytest.fixture(scope="session")
def moto_s3_server():
    """moto's S3 in server mode: a real HTTP endpoint on loopback. Yields its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(moto_s3_server) -> str:
    """A new, empty bucket on the moto S3 server; returns its name."""
    name = f"cp-local-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client(
        "s3",
        endpoint_url=moto_s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    s3.create_bucket(Bucket=name)
    return name
