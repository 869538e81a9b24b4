"""A real identity-resolution job of the local service writes results to moto's S3; we read them back."""

from __future__ import annotations

import time

import pyarrow.dataset as ds
import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_provider_customerprofiles.transfers.identity_resolution_results_to_parquet import (
    CustomerProfilesIdentityResolutionResultsToParquetOperator,
)
from airflow_provider_customerprofiles.transfers.matches_to_parquet import CustomerProfilesMatchesToParquetOperator
from tests.conftest import s3_client

PAIRS = 12


def create_duplicates(client, domain: str) -> None:
    """PAIRS customers, each entered twice with the same email (one in upper case)."""
    for number in range(PAIRS):
        email = f"customer{number}@example.com"
        client.create_profile(DomainName=domain, FirstName=f"Alex{number}", LastName="Smith", EmailAddress=email)
        client.create_profile(
            DomainName=domain, FirstName=f"Alex{number}", LastName="Smith", EmailAddress=email.upper()
        )


def run_job(match_service) -> dict:
    match_service.endpoint.admin("POST", "settings", {"JobPhaseSeconds": 0})
    job_id = match_service.endpoint.admin("POST", f"domains/{match_service.domain}/identity-resolution-jobs")["JobId"]
    client = match_service.endpoint.client()
    for _ in range(100):
        job = client.get_identity_resolution_job(DomainName=match_service.domain, JobId=job_id)
        if job["Status"] in ("COMPLETED", "PARTIAL_SUCCESS", "FAILED"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not end")


@pytest.fixture
def exporting_domain(match_service, s3_bucket):
    client = match_service.endpoint.client()
    client.update_domain(
        DomainName=match_service.domain,
        Matching={"Enabled": True, "ExportingConfig": {"S3Exporting": {"S3BucketName": s3_bucket, "S3KeyName": "ir"}}},
    )
    create_duplicates(client, match_service.domain)
    return match_service


@pytest.mark.parametrize("give_location", [False, True])
def test_job_results_become_the_same_dataset_as_get_matches(exporting_domain, outlet_context, tmp_path, give_location):
    service = exporting_domain
    job = run_job(service)
    assert job["Status"] == "COMPLETED", job.get("Message")
    location = job["ExportingLocation"]["S3Exporting"]
    operator = CustomerProfilesIdentityResolutionResultsToParquetOperator(
        task_id="results",
        domain_name=service.domain,
        job_id=job["JobId"],
        destination=str(tmp_path / "from_s3"),
        exporting_location=f"s3://{location['S3BucketName']}/{location['S3KeyName']}" if give_location else None,
        aws_conn_id=service.conn_id,
    )

    result = operator.execute(outlet_context)
    CustomerProfilesMatchesToParquetOperator(
        task_id="matches",
        domain_name=service.domain,
        destination=str(tmp_path / "from_api"),
        aws_conn_id=service.conn_id,
    ).execute(outlet_context)

    from_s3 = ds.dataset(tmp_path / "from_s3", partitioning="hive").to_table()
    from_api = ds.dataset(tmp_path / "from_api", partitioning="hive").to_table()
    assert result["rows"] == from_s3.num_rows == from_api.num_rows == 2 * PAIRS
    key = ["match_id", "profile_id", "confidence_score", "match_group_size", "match_generation_date"]
    assert sorted(zip(*from_s3.select(key).to_pydict().values(), strict=True)) == sorted(
        zip(*from_api.select(key).to_pydict().values(), strict=True)
    )
    # The service's CSV gives the generation instant to the second; GetMatches to the microsecond.
    (s3_instant,) = set(from_s3.column("match_generated_at").to_pylist())
    (api_instant,) = set(from_api.column("match_generated_at").to_pylist())
    assert s3_instant == api_instant.replace(microsecond=0)
    assert set(from_s3.column("job_id").to_pylist()) == {job["JobId"]}
    assert set(from_s3.column("source").to_pylist()) == {"s3_results"}
    assert set(from_api.column("job_id").to_pylist()) == {None}


def test_a_job_without_exported_results_fails_clearly(match_service, outlet_context, tmp_path):
    create_duplicates(match_service.endpoint.client(), match_service.domain)
    job = run_job(match_service)
    operator = CustomerProfilesIdentityResolutionResultsToParquetOperator(
        task_id="results",
        domain_name=match_service.domain,
        job_id=job["JobId"],
        destination=str(tmp_path),
        aws_conn_id=match_service.conn_id,
    )
    with pytest.raises(AirflowException, match="has no ExportingLocation"):
        operator.execute(outlet_context)


def test_unreadable_result_files_name_what_was_found(match_service, outlet_context, tmp_path, s3_bucket):
    s3 = s3_client(match_service.s3_url)
    s3.put_object(Bucket=s3_bucket, Key="odd/job/people.csv", Body=b"email,phone\nsecret@example.com,555\n")
    operator = CustomerProfilesIdentityResolutionResultsToParquetOperator(
        task_id="results",
        domain_name=match_service.domain,
        job_id="0" * 32,
        destination=str(tmp_path),
        exporting_location={"S3Exporting": {"S3BucketName": s3_bucket, "S3KeyName": "odd/job/"}},
        aws_conn_id=match_service.conn_id,
    )
    with pytest.raises(ValueError, match=r"people.csv \(csv\).*email.*phone") as failure:
        operator.execute(outlet_context)
    assert "secret@example.com" not in str(failure.value)
