"""Checkpoints and dead letters under a distributed executor: on shared storage, or the task fails before any put.

The executor and the provider's ``[customer_profiles]`` settings come from the environment, as in a deployment.
"""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest

from airflow_provider_customerprofiles.transfers.parquet_to_customer_profiles import (
    ParquetToCustomerProfilesOperator,
)
from tests.conftest import s3_client
from tests.integration.ingest.support import DOMAIN, OBJECT_TYPE, create_target, write_rows

CONN_ID = "cp_state"
KEY = "backfill/load/manual__1/map_index=0"


@pytest.fixture
def service(customer_profiles_emulator_factory, moto_s3_server, monkeypatch):
    """The local service and moto's S3 behind one ``aws`` connection, with the target created."""
    endpoint = customer_profiles_emulator_factory(conn_id=CONN_ID)
    service_config = {"customer-profiles": {"endpoint_url": endpoint.url}, "s3": {"endpoint_url": moto_s3_server}}
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{CONN_ID.upper()}", endpoint.connection_uri(extra={"service_config": service_config})
    )
    create_target(endpoint.client())
    return endpoint


def load(source: str, **arguments) -> dict:
    operator = ParquetToCustomerProfilesOperator(
        task_id="load",
        source=source,
        domain_name=DOMAIN,
        object_type_name=OBJECT_TYPE,
        max_failed_ratio=1,
        aws_conn_id=CONN_ID,
        **arguments,
    )
    context = {"ti": SimpleNamespace(dag_id="backfill", task_id="load", map_index=0), "run_id": "manual__1"}
    return operator.execute(context)


def test_celery_with_local_default_state_fails_before_any_put_and_says_what_to_set(service, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    monkeypatch.delenv("AIRFLOW__CUSTOMER_PROFILES__INGEST_STATE_URI", raising=False)
    source = write_rows(tmp_path / "rows.parquet", 20)

    with pytest.raises(ValueError, match="local disk") as refused:
        load(str(source))

    message = str(refused.value)
    assert "CeleryExecutor" in message
    assert "[customer_profiles] ingest_state_uri" in message
    assert "AIRFLOW__CUSTOMER_PROFILES__INGEST_STATE_URI" in message
    assert "checkpoint_uri" in message and "dead_letter_uri" in message
    assert service.metrics()["operations"].get("BatchPutProfileObject", {}).get("succeeded", 0) == 0


def test_a_task_sent_to_celery_refuses_a_local_checkpoint_even_with_s3_dead_letters(
    service, s3_bucket, tmp_path, monkeypatch
):
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor,CeleryExecutor")
    source = write_rows(tmp_path / "rows.parquet", 20)

    with pytest.raises(ValueError, match="checkpoint_uri") as refused:
        load(
            str(source),
            dead_letter_uri=f"s3://{s3_bucket}/dead",
            checkpoint_uri=str(tmp_path / "checkpoints"),
            executor="CeleryExecutor",
        )

    assert str(refused.value).startswith(f"checkpoint_uri ({tmp_path}/checkpoints/{KEY}.json) would be on")


def test_celery_with_ingest_state_uri_on_s3_keeps_checkpoints_and_dead_letters_there(
    service, moto_s3_server, s3_bucket, tmp_path, monkeypatch
):
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    monkeypatch.setenv("AIRFLOW__CUSTOMER_PROFILES__INGEST_STATE_URI", f"s3://{s3_bucket}/state")
    source = write_rows(tmp_path / "rows.parquet", 20, score=[float("nan") if i == 3 else 1.0 for i in range(20)])

    result = load(str(source))

    assert (result["objects_written"], result["dead_lettered"]) == (19, 1)
    assert result["dead_letter_uri"] == f"s3://{s3_bucket}/state/dead_letters/{KEY}"
    keys = {o["Key"] for o in s3_client(moto_s3_server).list_objects_v2(Bucket=s3_bucket)["Contents"]}
    assert f"state/checkpoints/{KEY}.json" in keys
    assert any(key.startswith(f"state/dead_letters/{KEY}/") for key in keys)


def test_local_state_declared_shared_is_accepted_under_celery(service, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "CeleryExecutor")
    monkeypatch.setenv("AIRFLOW__CUSTOMER_PROFILES__INGEST_STATE_URI", str(tmp_path / "nfs"))
    monkeypatch.setenv("AIRFLOW__CUSTOMER_PROFILES__LOCAL_STATE_IS_SHARED", "True")

    result = load(str(write_rows(tmp_path / "rows.parquet", 20)))

    assert result["objects_written"] == 20
    assert (tmp_path / "nfs" / "checkpoints" / f"{KEY}.json").is_file()


def test_the_local_executor_keeps_state_under_the_configured_local_base(service, tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    monkeypatch.setenv("AIRFLOW__CUSTOMER_PROFILES__INGEST_STATE_URI", str(tmp_path / "state"))

    result = load(str(write_rows(tmp_path / "rows.parquet", 20)))

    assert result["objects_written"] == 20
    assert result["dead_letter_uri"] == str(tmp_path / "state" / "dead_letters" / KEY)
    assert (tmp_path / "state" / "checkpoints" / f"{KEY}.json").is_file()


def test_airflow_knows_the_providers_settings_and_their_defaults():
    def value(option: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "airflow", "config", "get-value", "customer_profiles", option],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip().splitlines()[-1]  # after any log lines

    assert value("local_state_is_shared") == "False"
    listed = subprocess.run(
        [sys.executable, "-m", "airflow", "config", "list", "--section", "customer_profiles", "--include-descriptions"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "ingest_state_uri" in listed
