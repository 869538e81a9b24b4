"""The example DAGs users copy, run by Airflow (``dag.test()``) against the local service, with their defaults."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest

from airflow_provider_customerprofiles.testing import LocalServiceConnection, load_dag, run_dag, xcom
from customer_profiles_local import CustomerProfilesServer, EmulatorConfig
from customer_profiles_local.pytest_plugin import ServiceEndpoint
from tests.conftest import s3_client
from tests.integration.example_dags_support import (
    DAGS,
    EXAMPLE_BUCKET,
    object_keys,
    remove_bucket,
    start_job_once_exporting,
)
from tests.integration.matches.conftest import register_connection
from tests.integration.provider_support import PHASE_SECONDS

FIRST_JOB_DELAY = 2.0  # seconds from enabling matching to the service's first identity-resolution job


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


@pytest.fixture
def service_with_first_run(moto_s3_server, monkeypatch):
    """A local service as docker-compose.yaml runs it: the first job soon after matching is enabled."""
    config = EmulatorConfig(s3_endpoint_url=moto_s3_server, first_job_delay_seconds=FIRST_JOB_DELAY)
    server = CustomerProfilesServer("127.0.0.1", 0, config=config).start_background()
    endpoint = LocalServiceConnection(ServiceEndpoint(server, "testing", "testing"))
    endpoint.admin("POST", "settings", {"JobPhaseSeconds": PHASE_SECONDS})
    register_connection(monkeypatch, endpoint, moto_s3_server, "aws_default")  # the DAG's default connection
    yield endpoint
    server.stop()


def test_example_identity_resolution_waits_for_the_first_job_after_enabling_matching(
    airflow_db, service_with_first_run, moto_s3_server
):
    """A first manual run with every default: no admin call starts a job; the service's first run ends it."""
    remove_bucket(moto_s3_server, EXAMPLE_BUCKET)
    client = service_with_first_run.client()
    client.create_domain(DomainName="retail", DefaultExpirationDays=365)  # a domain with data, matching off
    for n in range(3):
        for first_name in ("Ann", "Anne"):
            client.create_profile(
                DomainName="retail", FirstName=first_name, LastName=f"Doe{n}", EmailAddress=f"ann{n}@example.com"
            )
    dag = load_dag(DAGS / "example_identity_resolution.py")
    sensor = dag.get_task("wait_for_identity_resolution")
    sensor.poke_interval, sensor.max_retries = 1, 60  # seconds here, not the example's minute; fails in a minute

    tis = run_dag(dag)

    assert {task: ti.state for task, ti in tis.items()} == {
        "create_bucket": "success",
        "configure_matching": "success",
        "wait_for_identity_resolution": "success",
        "merge_matches": "success",
    }
    jobs = client.list_identity_resolution_jobs(DomainName="retail")["IdentityResolutionJobsList"]
    first = min(jobs, key=lambda job: job["JobStartTime"])
    enabled_at = client.get_domain(DomainName="retail")["LastUpdatedAt"]
    assert first["JobStartTime"] - enabled_at == dt.timedelta(seconds=FIRST_JOB_DELAY)
    waited_for = xcom(tis["wait_for_identity_resolution"])
    assert (waited_for["job_id"], waited_for["status"]) == (first["JobId"], "COMPLETED")
    assert waited_for["exporting_location"].startswith(f"s3://{EXAMPLE_BUCKET}/identity-resolution")
    assert xcom(tis["merge_matches"])["groups_considered"] == 3
