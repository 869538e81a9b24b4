"""The nightly match-export example DAG, run by Airflow (``dag.test()``) against the local service, moto and SQLite."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pyarrow.dataset as ds

from airflow_provider_customerprofiles.testing import load_dag, run_dag, xcom
from tests.integration.matches.test_identity_resolution_results import PAIRS, create_duplicates, run_job

DAG_FILE = Path(__file__).parents[3] / "dags" / "example_nightly_match_export.py"


def test_sensor_then_exports_then_load(airflow_db, match_service, s3_bucket, tmp_path, monkeypatch):
    client = match_service.endpoint.client()
    client.update_domain(
        DomainName=match_service.domain,
        Matching={"Enabled": True, "ExportingConfig": {"S3Exporting": {"S3BucketName": s3_bucket, "S3KeyName": "ir"}}},
    )
    create_duplicates(client, match_service.domain)
    job = run_job(match_service)
    warehouse = tmp_path / "warehouse.db"
    monkeypatch.setenv("AIRFLOW_CONN_MATCHES_WAREHOUSE", json.dumps({"conn_type": "sqlite", "host": str(warehouse)}))
    conf = {
        "aws_conn_id": match_service.conn_id,
        "domain_name": match_service.domain,
        "job_id": job["JobId"],
        "matches_uri": str(tmp_path / "matches"),
        "results_uri": f"s3://{s3_bucket}/results",
        "table": "matches",
    }

    tis = run_dag(load_dag(DAG_FILE, "example_nightly_match_export"), run_conf=conf)

    assert {task: ti.state for task, ti in tis.items()} == {
        "wait_for_identity_resolution": "success",
        "export_matches": "success",
        "export_job_results": "success",
        "load_matches": "success",
    }
    exported = xcom(tis["export_matches"])
    from_results = xcom(tis["export_job_results"])
    loaded = xcom(tis["load_matches"])
    assert exported["rows"] == from_results["rows"] == loaded["rows"] == 2 * PAIRS
    assert from_results["uri"].startswith(f"s3://{s3_bucket}/results/match_generation_date=")
    assert ds.dataset(tmp_path / "matches", partitioning="hive").count_rows() == 2 * PAIRS
    with sqlite3.connect(warehouse) as conn:
        assert conn.execute("SELECT COUNT(*), COUNT(DISTINCT match_id) FROM matches").fetchone() == (2 * PAIRS, PAIRS)
