"""The operator's own job: hooks from one connection (Customer Profiles and S3), per-instance locations, result."""

from __future__ import annotations

import json
import logging
import math
from types import SimpleNamespace

import pytest

from airflow_provider_customerprofiles.ingest.loader import FailedRatioExceeded
from airflow_provider_customerprofiles.transfers.parquet_to_customer_profiles import (
    ParquetToCustomerProfilesOperator,
)
from tests.conftest import s3_client
from tests.integration.ingest.support import (
    DOMAIN,
    OBJECT_TYPE,
    all_accounts,
    by_rid,
    create_target,
    put_requests,
    stored_objects,
    write_rows,
)

SECRET = "SECRET-PII-c0ffee"


def context(map_index: int) -> dict:
    ti = SimpleNamespace(dag_id="backfill", task_id="load", map_index=map_index)
    return {"ti": ti, "run_id": "manual__2024-01-01T00:00:00+00:00"}


@pytest.fixture
def s3_connection(customer_profiles_emulator_factory, moto_s3_server, monkeypatch):
    """One ``aws`` connection reaching both the local service and moto's S3."""
    endpoint = customer_profiles_emulator_factory(conn_id="cp_ingest_s3")
    service_config = {"customer-profiles": {"endpoint_url": endpoint.url}, "s3": {"endpoint_url": moto_s3_server}}
    monkeypatch.setenv("AIRFLOW_CONN_CP_INGEST_S3", endpoint.connection_uri(extra={"service_config": service_config}))
    create_target(endpoint.client())
    return endpoint


def test_s3_in_and_out_through_the_connection(s3_connection, moto_s3_server, s3_bucket, tmp_path, caplog):
    s3 = s3_client(moto_s3_server)
    local = write_rows(
        tmp_path / "rows.parquet",
        30,
        email=[f"{SECRET}{i}@example.com" for i in range(30)],
        score=[math.nan if i == 9 else 1.0 for i in range(30)],
    )
    s3.upload_file(str(local), s3_bucket, "in/rows.parquet")
    operator = ParquetToCustomerProfilesOperator(
        task_id="load",
        source=f"s3://{s3_bucket}/in/",
        domain_name=DOMAIN,
        object_type_name=OBJECT_TYPE,
        dead_letter_uri=f"s3://{s3_bucket}/dead",
        checkpoint_uri=f"s3://{s3_bucket}/checkpoints",
        max_failed_ratio=0.1,
        aws_conn_id="cp_ingest_s3",
    )
    caplog.set_level(logging.INFO)

    result = operator.execute(context(map_index=4))

    key = "backfill/load/manual__2024-01-01T00_00_00_00_00/map_index=4"
    assert result["rows_read"] == 30
    assert result["objects_written"] == 29
    assert result["dead_lettered"] == 1
    assert result["dead_letter_uri"] == f"s3://{s3_bucket}/dead/{key}"
    assert result["requests"] >= 3
    assert {"retries", "throttles", "seconds", "rows_per_second"} <= set(result)
    assert SECRET not in json.dumps(result)
    assert SECRET not in caplog.text
    [part] = s3.list_objects_v2(Bucket=s3_bucket, Prefix=f"dead/{key}/")["Contents"]
    dead = json.loads(s3.get_object(Bucket=s3_bucket, Key=part["Key"])["Body"].read())
    assert (dead["row_index"], dead["error_code"]) == (9, "REJECTED")
    assert s3.head_object(Bucket=s3_bucket, Key=f"checkpoints/{key}.json")["ServerSideEncryption"] == "AES256"
    assert len(by_rid(stored_objects(s3_connection, all_accounts()))) == 29


def test_retried_task_resumes_and_fails_again_on_the_same_dead_letters(customer_profiles_emulator_factory, tmp_path):
    endpoint = customer_profiles_emulator_factory(conn_id="cp_ingest_retry")
    create_target(endpoint.client())
    source = write_rows(tmp_path / "rows.parquet", 20, score=[math.inf] + [1.0] * 19)
    operator = ParquetToCustomerProfilesOperator(
        task_id="load",
        source=str(source),
        domain_name=DOMAIN,
        object_type_name=OBJECT_TYPE,
        dead_letter_uri=str(tmp_path / "dead"),
        checkpoint_uri=str(tmp_path / "checkpoints"),
        aws_conn_id="cp_ingest_retry",
    )

    with pytest.raises(FailedRatioExceeded, match=r"^1 of 20 rows were dead-lettered"):
        operator.execute(context(map_index=-1))
    first_try = put_requests(endpoint)
    # The retry skips the finished rows, but still counts the first try's dead letter.
    with pytest.raises(FailedRatioExceeded, match=r"^1 of 20 rows were dead-lettered"):
        operator.execute(context(map_index=-1))

    assert first_try > 0
    assert put_requests(endpoint) == first_try
    assert len(by_rid(stored_objects(endpoint, all_accounts()))) == 19
