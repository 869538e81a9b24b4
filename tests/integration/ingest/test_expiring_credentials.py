"""
A load outlives its temporary credentials and keeps working, because its clients refresh them (issue 8 item 3).

The Airflow connection names an AWS config profile (``profile_name``) whose ``credential_process`` prints the
credentials a sidecar keeps fresh, as a credentials agent does in a real deployment. The local service issues them
with a lifetime of a few seconds and refuses them once expired, as AWS does. botocore renews credentials in their
last 15 minutes, so short-lived ones are renewed before each use. moto's S3 checks no expiry: the S3 reads and
checkpoint writes use the same refreshing credentials, but only the Customer Profiles side can refuse stale ones.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from airflow_provider_customerprofiles.ingest.sender import CallerRefused
from airflow_provider_customerprofiles.transfers.parquet_to_customer_profiles import (
    ParquetToCustomerProfilesOperator,
)
from tests.conftest import s3_client
from tests.integration.ingest.support import DOMAIN, OBJECT_TYPE, create_target, write_rows

# Long enough for the operator's setup on a loaded machine, well short of the load.
LIFETIME_SECONDS = 8.0
ROTATE_EVERY_SECONDS = 0.5  # the sidecar's file always holds credentials with at least 7.5 s left
ROWS, REQUESTS_PER_SECOND = 2000, 10  # 200 calls at 10/s: about 20 s, more than two lifetimes
CONN_ID = "cp_expiring"


class CredentialsSidecar:
    """Writes credentials freshly issued by the service to a file, in ``credential_process`` output format."""

    def __init__(self, service, path: Path) -> None:
        self.service, self.path = service, path
        self.stopped = threading.Event()
        self.issued: list[dict[str, str]] = []
        self.rotate()
        self.thread = threading.Thread(target=self._run, name="credentials-sidecar", daemon=True)
        self.thread.start()

    def rotate(self) -> None:
        issued = self.service.admin("POST", "temporary-credentials", {"DurationSeconds": LIFETIME_SECONDS})
        self.issued.append(issued["Credentials"])
        staged = self.path.with_suffix(".tmp")
        staged.write_text(json.dumps({"Version": 1, **issued["Credentials"]}))
        os.replace(staged, self.path)  # the process never reads a half-written file

    def _run(self) -> None:
        while not self.stopped.wait(ROTATE_EVERY_SECONDS):
            self.rotate()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()


@pytest.fixture
def service(customer_profiles_emulator_factory):
    """A local service that verifies signatures, with the load's target created by its long-term key."""
    service = customer_profiles_emulator_factory(conn_id=CONN_ID, verify_signatures=True)
    create_target(service.client())
    return service


@pytest.fixture
def sidecar(service, tmp_path) -> Iterator[CredentialsSidecar]:
    running = CredentialsSidecar(service, tmp_path / "credentials.json")
    yield running
    running.stop()


@pytest.fixture
def s3_source(moto_s3_server, s3_bucket, tmp_path) -> str:
    """The rows on moto's S3, in row groups of 100: the checkpoint records finished groups, so a retry skips them."""
    s3_client(moto_s3_server).upload_file(
        str(write_rows(tmp_path / "rows.parquet", ROWS, row_group_size=100)), s3_bucket, "in/rows.parquet"
    )
    return f"s3://{s3_bucket}/in/"


def connect(monkeypatch, service, moto_s3_server: str, **credentials) -> None:
    """The Airflow ``aws`` connection the load uses: the service and moto's S3, with the given credentials."""
    extra = credentials.pop("extra", {})
    service_config = {"customer-profiles": {"endpoint_url": service.url}, "s3": {"endpoint_url": moto_s3_server}}
    connection = {
        "conn_type": "aws",
        **credentials,
        "extra": {"region_name": "us-east-1", "service_config": service_config, **extra},
    }
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(connection))


def use_refreshing_profile(monkeypatch, service, moto_s3_server: str, sidecar, tmp_path: Path) -> None:
    config = tmp_path / "aws-config"
    config.write_text(f"[profile expiring]\ncredential_process = cat {sidecar.path}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    connect(monkeypatch, service, moto_s3_server, extra={"profile_name": "expiring"})


def run_load(source: str, s3_bucket: str) -> dict:
    operator = ParquetToCustomerProfilesOperator(
        task_id="load",
        source=source,
        domain_name=DOMAIN,
        object_type_name=OBJECT_TYPE,
        aws_conn_id=CONN_ID,
        max_requests_per_second=REQUESTS_PER_SECOND,
        dead_letter_uri=f"s3://{s3_bucket}/dead",
        checkpoint_uri=f"s3://{s3_bucket}/checkpoints",
    )
    ti = SimpleNamespace(dag_id="expiring", task_id="load", map_index=-1)
    return operator.execute({"ti": ti, "run_id": "manual__2026-01-01T00:00:00+00:00"})


def expiration(credentials: dict[str, str]) -> dt.datetime:
    return dt.datetime.fromisoformat(credentials["Expiration"].replace("Z", "+00:00"))


def issued_at(credentials: dict[str, str]) -> dt.datetime:
    return expiration(credentials) - dt.timedelta(seconds=LIFETIME_SECONDS)


def dead_letters(moto_s3_server: str, bucket: str) -> list[dict]:
    s3 = s3_client(moto_s3_server)
    parts = s3.list_objects_v2(Bucket=bucket, Prefix="dead/").get("Contents", [])
    bodies = (s3.get_object(Bucket=bucket, Key=part["Key"])["Body"].read().decode() for part in parts)
    return [json.loads(line) for body in bodies for line in body.splitlines()]


def temporary_keys_used(service) -> dict[str, int]:
    accepted = service.metrics()["signatures"]["accepted_by_key"]
    return {key: count for key, count in accepted.items() if key.startswith("ASIA")}


def test_a_load_outlives_its_credentials_through_a_refreshing_profile(
    service, sidecar, s3_source, s3_bucket, moto_s3_server, tmp_path, monkeypatch
):
    use_refreshing_profile(monkeypatch, service, moto_s3_server, sidecar, tmp_path)

    result = run_load(s3_source, s3_bucket)

    assert (result["rows_read"], result["objects_written"], result["dead_lettered"]) == (ROWS, ROWS, 0)
    metrics = service.metrics()
    assert metrics["operations"]["BatchPutProfileObject"]["objects_accepted"] == ROWS
    assert metrics["signatures"]["refused"] == {}
    used = [c for c in sidecar.issued if c["AccessKeyId"] in temporary_keys_used(service)]
    assert len(used) > 1
    # The load signed with credentials issued after the first ones it used had expired.
    assert issued_at(used[-1]) > expiration(used[0])


def test_the_same_load_with_credentials_frozen_at_the_start_stops_as_they_expire_and_a_retry_resumes(
    service, sidecar, s3_source, s3_bucket, moto_s3_server, tmp_path, monkeypatch
):
    frozen = service.admin("POST", "temporary-credentials", {"DurationSeconds": LIFETIME_SECONDS})["Credentials"]
    connect(
        monkeypatch,
        service,
        moto_s3_server,
        login=frozen["AccessKeyId"],
        password=frozen["SecretAccessKey"],
        extra={"aws_session_token": frozen["SessionToken"]},
    )

    with pytest.raises(CallerRefused, match="ExpiredTokenException"):
        run_load(s3_source, s3_bucket)

    assert set(service.metrics()["signatures"]["refused"]) == {"ExpiredTokenException"}
    assert set(temporary_keys_used(service)) == {frozen["AccessKeyId"]}  # accepted before they expired
    assert dead_letters(moto_s3_server, s3_bucket) == []  # the caller was refused, not the rows
    accepted_before = service.metrics()["operations"]["BatchPutProfileObject"]["objects_accepted"]
    assert 0 < accepted_before < ROWS

    use_refreshing_profile(monkeypatch, service, moto_s3_server, sidecar, tmp_path)
    retry = run_load(s3_source, s3_bucket)

    assert retry["dead_lettered"] == 0
    assert retry["rows_skipped"] > 0  # resumed from the checkpoint, not from the start
    assert retry["rows_skipped"] + retry["objects_written"] == ROWS
