"""An S3 server that checks signatures, and credentials that rotate, to prove the refresh is real."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.credentials import ReadOnlyCredentials, RefreshableCredentials

ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:*", "iam:*"], "Resource": "*"}]}
SETUP_CALLS = 4  # create_user, put_user_policy and two create_access_key calls go in unsigned; then moto checks


class RotatingSource:
    """What an STS assume-role call would answer: the current key, valid for another 14 minutes.

    botocore's ``RefreshableCredentials`` refreshes when less than 15 minutes are left, so
    with this source it asks again on every use, as it would near the end of a long run.
    """

    def __init__(self, current: ReadOnlyCredentials) -> None:
        self.current = current
        self.refreshes = 0

    def __call__(self) -> dict[str, str]:
        self.refreshes += 1
        expiry = datetime.now(timezone.utc) + timedelta(minutes=14)
        return {
            "access_key": self.current.access_key,
            "secret_key": self.current.secret_key,
            "token": "",
            "expiry_time": expiry.isoformat(),
        }

    def credentials(self) -> RefreshableCredentials:
        return RefreshableCredentials.create_from_metadata(self(), refresh_using=self, method="assume-role")


@dataclass
class AuthenticatedS3:
    """moto's S3 server with IAM checks on, one user, and that user's two access keys."""

    url: str
    first: ReadOnlyCredentials
    second: ReadOnlyCredentials

    def client(self, service: str, credentials: ReadOnlyCredentials):
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=credentials.access_key,
            aws_secret_access_key=credentials.secret_key,
        )

    def revoke_first(self) -> None:
        """Delete the first key: anything still signing with it is refused from now on."""
        self.client("iam", self.second).delete_access_key(UserName="loader", AccessKeyId=self.first.access_key)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen) -> None:
    for _ in range(200):
        if process.poll() is not None:
            pytest.fail(f"moto's server exited with {process.returncode} before it answered at {url}")
        try:
            with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"moto's server did not answer at {url}")


@pytest.fixture
def authenticated_s3() -> Iterator[AuthenticatedS3]:
    """A fresh moto S3 server process (IAM authentication on), with bucket ``rotation-test``."""
    url = f"http://127.0.0.1:{_free_port()}"
    env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(SETUP_CALLS)}
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", url.rsplit(":", 1)[1]]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_up(url, process)
        unsigned = ReadOnlyCredentials("setup", "setup", None)
        iam = AuthenticatedS3(url, unsigned, unsigned).client("iam", unsigned)
        iam.create_user(UserName="loader")
        iam.put_user_policy(UserName="loader", PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL))
        keys = [iam.create_access_key(UserName="loader")["AccessKey"] for _ in range(2)]
        first, second = (ReadOnlyCredentials(k["AccessKeyId"], k["SecretAccessKey"], None) for k in keys)
        server = AuthenticatedS3(url, first, second)
        server.client("s3", first).create_bucket(Bucket="rotation-test")
        yield server
    finally:
        process.terminate()
        process.wait(timeout=10)
