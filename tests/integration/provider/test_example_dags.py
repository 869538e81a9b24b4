"""The example DAGs users copy, run by Airflow (``dag.test()``) against the local service, with their defaults."""

from __future__ import annotations

import json
import threading

import pytest

from airflow_provider_customerprofiles.testing import load_dag, run_dag, xcom
from tests.conftest import s3_client
from tests.integration.example_dags_support import (
    DAGS,
    EXAMPLE_BUCKET,
    object_keys,
    remove_bucket,
    start_job_once_exporting,
)
from tests.integration.matches.conftest import register_connection
from tests.integration.provider.conftest import PHASE_SECONDS


@pytest.fixture
def emulator_with_s3(customer_profiles_emulator_factory, moto_s3_server, monkeypatch):
    """The local service exporting job results to moto, and an ``aws`` connection reaching both."""
    endpoint = customer_profiles_emulator_factory(s3_endpoint_url=moto_s3_server)
    endpoint.admin("POST", "settings", {"JobPhaseSeconds": PHASE_SECONDS})
    register_connection(monkeypatch, endpoint, moto_s3_server, "cp_examples")
    return endpoint


def test_example_integration_workflow(airflow_db, emulator):
    dag = load_dag(DAGS / "example_integration_workflow.py")
    dag.get_task("run_workflow").waiter_delay = 1  # the local service runs a step in STEP_SECONDS

    tis = run_dag(dag, run_conf={"aws_conn_id": emulator.conn_id, "domain_name": "retail_wf"})

    assert {task: ti.state for task, ti in tis.items()} == {
        "create_domain": "success",
        "put_object_type": "success",
        "run_workflow": "success",
    }
    workflow = emulator.client().get_workflow(DomainName="retail_wf", WorkflowId=xcom(tis["run_workflow"]))
    assert workflow["Status"] == "COMPLETE"
    assert workflow["Metrics"]["AppflowIntegration"]["StepsCompleted"] == 6  # twelve months, two per step


def test_example_identity_resolution_with_defaults_in_a_fresh_deployment(airflow_db, emulator_with_s3, moto_s3_server):
    """Default domain, bucket and audit location: the DAG creates what it writes to (no NoSuchBucket)."""
    remove_bucket(moto_s3_server, EXAMPLE_BUCKET)
    dag = load_dag(DAGS / "example_identity_resolution.py")
    dag.get_task("wait_for_identity_resolution").poke_interval = 1  # jobs take seconds on the local service
    # The CRM enters three customers twice each (matched by email) once the DAG has created the domain.
    starter = threading.Thread(target=start_job_once_exporting, args=(emulator_with_s3, "retail"))
    client = emulator_with_s3.client()
    client.create_domain(DomainName="retail", DefaultExpirationDays=365)
    for n in range(3):
        for first_name in ("Ann", "Anne"):
            client.create_profile(
                DomainName="retail", FirstName=first_name, LastName=f"Doe{n}", EmailAddress=f"ann{n}@example.com"
            )
    starter.start()
    try:
        tis = run_dag(dag, run_conf={"aws_conn_id": "cp_examples", "min_confidence": 0.5})
    finally:
        starter.join()

    assert {task: ti.state for task, ti in tis.items()} == {
        "create_bucket": "success",
        "configure_matching": "success",
        "wait_for_identity_resolution": "success",
        "merge_matches": "success",
    }
    job = xcom(tis["wait_for_identity_resolution"])
    assert job["status"] == "COMPLETED"
    assert job["exporting_location"].startswith(f"s3://{EXAMPLE_BUCKET}/identity-resolution")
    result = xcom(tis["merge_matches"])
    assert result["dry_run"] is True
    assert result["groups_considered"] == result["groups_merged"] == 3
    assert emulator_with_s3.metrics()["operations"].get("MergeProfiles") is None
    audit_key = result["audit_uri"].removeprefix(f"s3://{EXAMPLE_BUCKET}/")
    assert audit_key.startswith("merge-audit/") and audit_key in object_keys(moto_s3_server, EXAMPLE_BUCKET)
    body = s3_client(moto_s3_server).get_object(Bucket=EXAMPLE_BUCKET, Key=audit_key)["Body"].read().decode()
    assert [json.loads(line)["outcome"] for line in body.splitlines()] == ["would_merge"] * 3
