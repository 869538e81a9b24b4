"""The nightly match-export example DAG, run by Airflow (``dag.test()``) against the local service, moto and SQLite."""

from __future__ import annotations

import json
import sqlite3

from airflow_provider_customerprofiles.testing import load_dag, run_dag, xcom
from tests.integration.example_dags_support import DAGS, EXAMPLE_BUCKET, object_keys, remove_bucket
from tests.integration.matches.test_identity_resolution_results import PAIRS, create_duplicates, run_job


def test_sensor_then_exports_then_load_with_the_default_bucket_and_connection(
    airflow_db, match_service, s3_bucket, tmp_path, monkeypatch
):
    client = match_service.endpoint.client()
    client.update_domain(
        DomainName=match_service.domain,
        Matching={"Enabled": True, "ExportingConfig": {"S3Exporting": {"S3BucketName": s3_bucket, "S3KeyName": "ir"}}},
    )
    create_duplicates(client, match_service.domain)
    job = run_job(match_service)
    remove_bucket(match_service.s3_url, EXAMPLE_BUCKET)  # a fresh deployment: the DAG creates its bucket
    warehouse = tmp_path / "warehouse.db"
    # the connection docker-compose.yaml defines, which is the DAG's default
    monkeypatch.setenv(
        "AIRFLOW_CONN_CUSTOMER_PROFILES_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(warehouse)})
    )
    conf = {"aws_conn_id": match_service.conn_id, "domain_name": match_service.domain, "job_id": job["JobId"]}

    tis = run_dag(load_dag(DAGS / "example_nightly_match_export.py"), run_conf=conf)

    assert {task: ti.state for task, ti in tis.items()} == {
        "create_bucket": "success",
        "wait_for_identity_resolution": "success",
        "export_matches": "success",
        "export_job_results": "success",
        "load_matches": "success",
    }
    exported = xcom(tis["export_matches"])
    from_results = xcom(tis["export_job_results"])
    loaded = xcom(tis["load_matches"])
    assert exported["rows"] == from_results["rows"] == loaded["rows"] == 2 * PAIRS
    assert exported["uri"].startswith(f"s3://{EXAMPLE_BUCKET}/matches/match_generation_date=")
    assert from_results["uri"].startswith(f"s3://{EXAMPLE_BUCKET}/identity-resolution-results/match_generation_date=")
    keys = object_keys(match_service.s3_url, EXAMPLE_BUCKET)
    assert sum(key.startswith("matches/") and key.endswith("_SUCCESS") for key in keys) == 1
    with sqlite3.connect(warehouse) as conn:
        query = "SELECT COUNT(*), COUNT(DISTINCT match_id) FROM customer_profile_matches"
        assert conn.execute(query).fetchone() == (2 * PAIRS, PAIRS)


def test_the_job_id_param_may_be_left_empty(airflow_db):
    """The trigger form sends null for an empty optional field; the sensor must get no job id, not "None"."""
    dag = load_dag(DAGS / "example_nightly_match_export.py")
    sensor = dag.get_task("wait_for_identity_resolution")
    dag.params.validate()
    assert dag.params["job_id"] is None
    assert sensor.render_template(sensor.job_id, {"params": {"job_id": None}}) == ""


def test_a_run_without_job_id_waits_for_the_job_of_the_day_before(airflow_db, match_service, tmp_path, monkeypatch):
    """Like a run triggered from the UI (a zero-length interval at the click): the job that ran before it counts."""
    client = match_service.endpoint.client()
    create_duplicates(client, match_service.domain)
    job = run_job(match_service)
    monkeypatch.setenv(
        "AIRFLOW_CONN_CUSTOMER_PROFILES_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "w.db")})
    )
    conf = {"aws_conn_id": match_service.conn_id, "domain_name": match_service.domain}

    tis = run_dag(load_dag(DAGS / "example_nightly_match_export.py"), run_conf=conf)

    assert tis["wait_for_identity_resolution"].state == "success"
    assert xcom(tis["wait_for_identity_resolution"])["job_id"] == job["JobId"]
