"""The identity-resolution job sensor, run by Airflow (``dag.test()``) against the local service."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from airflow.sdk import DAG

from airflow_provider_customerprofiles.links.customer_profiles import CustomerProfilesIdentityResolutionLink
from airflow_provider_customerprofiles.sensors.customer_profiles import CustomerProfilesIdentityResolutionJobSensor
from airflow_provider_customerprofiles.testing import run_dag, xcom
from tests.conftest import s3_client
from tests.eventually import eventually


def sensor_dag(dag_id: str, emulator, domain: str, **kwargs) -> DAG:
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2026, 1, 1), catchup=False) as dag:
        CustomerProfilesIdentityResolutionJobSensor(
            task_id="wait_for_job",
            domain_name=domain,
            aws_conn_id=emulator.conn_id,
            poke_interval=1,
            max_retries=30,
            timeout=120,
            **kwargs,
        )
    return dag


def start_job(emulator, domain: str, **body) -> str:
    return emulator.admin("POST", f"domains/{domain}/identity-resolution-jobs", body)["JobId"]


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
def test_sensor_waits_for_a_given_job(airflow_db, emulator, domain, deferrable):
    job_id = start_job(emulator, domain)

    tis = run_dag(sensor_dag(f"ir_by_id_{deferrable}", emulator, domain, job_id=job_id, deferrable=deferrable))

    assert tis["wait_for_job"].state == "success"
    result = xcom(tis["wait_for_job"])
    assert set(result) == {"job_id", "status", "job_stats", "exporting_location"}
    assert (result["job_id"], result["status"], result["exporting_location"]) == (job_id, "COMPLETED", None)
    assert (
        result["job_stats"]
        == emulator.client().get_identity_resolution_job(DomainName=domain, JobId=job_id)["JobStats"]
    )


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
def test_sensor_waits_for_the_first_job_of_the_data_interval(airflow_db, emulator, domain, deferrable):
    """Without a job id: the first job starting at or after the run's data interval start."""
    started: list[str] = []
    # started while the sensor already waits: the weekly run (PENDING, days away) is listed before it
    timer = threading.Timer(2.0, lambda: started.append(start_job(emulator, domain)))
    timer.start()
    try:
        tis = run_dag(sensor_dag(f"ir_first_{deferrable}", emulator, domain, deferrable=deferrable))
    finally:
        timer.join()

    assert tis["wait_for_job"].state == "success"
    assert xcom(tis["wait_for_job"])["job_id"] == started[0]
    assert xcom(tis["wait_for_job"])["status"] == "COMPLETED"


def test_sensor_takes_started_after_as_a_template(airflow_db, emulator, domain):
    earlier = start_job(emulator, domain)
    emulator.admin("POST", "clock", {"AdvanceSeconds": 5})
    later = start_job(emulator, domain)
    between = emulator.client().get_identity_resolution_job(DomainName=domain, JobId=later)["JobStartTime"]
    dag = sensor_dag(
        "ir_templated", emulator, domain, started_after="{{ params.after }}", params={"after": between.isoformat()}
    )

    tis = run_dag(dag)

    assert xcom(tis["wait_for_job"])["job_id"] == later != earlier


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
@pytest.mark.parametrize("outcome", ["FAILED", "PARTIAL_SUCCESS"])
def test_sensor_fails_with_the_job_message(airflow_db, emulator, domain, task_log, deferrable, outcome):
    message = f"Matching ran out of capacity ({outcome.lower()}, injected)"
    job_id = start_job(emulator, domain, Outcome=outcome, Message=message)

    tis = run_dag(sensor_dag(f"ir_{outcome}_{deferrable}", emulator, domain, job_id=job_id, deferrable=deferrable))

    assert tis["wait_for_job"].state == "failed"
    assert f"{outcome} - {message}" in task_log()


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
def test_sensor_accepts_partial_success_when_asked(airflow_db, emulator, domain, deferrable):
    job_id = start_job(emulator, domain, Outcome="PARTIAL_SUCCESS")

    tis = run_dag(
        sensor_dag(
            f"ir_partial_{deferrable}",
            emulator,
            domain,
            job_id=job_id,
            partial_success_is_success=True,
            deferrable=deferrable,
        )
    )

    assert tis["wait_for_job"].state == "success"
    assert xcom(tis["wait_for_job"])["status"] == "PARTIAL_SUCCESS"


def test_sensor_returns_the_exporting_location(
    airflow_db, customer_profiles_emulator_factory, moto_s3_server, s3_bucket
):
    emulator = customer_profiles_emulator_factory(conn_id="cp_exporting", s3_endpoint_url=moto_s3_server)
    emulator.admin("POST", "settings", {"JobPhaseSeconds": 0.3})
    exporting = {"S3Exporting": {"S3BucketName": s3_bucket, "S3KeyName": "identity-resolution"}}
    emulator.client().create_domain(
        DomainName="exporting", DefaultExpirationDays=30, Matching={"Enabled": True, "ExportingConfig": exporting}
    )
    job_id = start_job(emulator, "exporting")

    tis = run_dag(sensor_dag("ir_exporting", emulator, "exporting", job_id=job_id))

    location = xcom(tis["wait_for_job"])["exporting_location"]
    assert location == f"s3://{s3_bucket}/identity-resolution/{job_id}/"
    keys = [o["Key"] for o in s3_client(moto_s3_server).list_objects_v2(Bucket=s3_bucket)["Contents"]]
    assert all(key.startswith(f"identity-resolution/{job_id}/") for key in keys) and keys


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
def test_sensor_links_the_domain_and_logs_how_the_job_ended(airflow_db, emulator, domain, task_log, deferrable):
    job_id = start_job(emulator, domain)

    tis = run_dag(sensor_dag(f"ir_link_{deferrable}", emulator, domain, job_id=job_id, deferrable=deferrable))

    link = xcom(tis["wait_for_job"], CustomerProfilesIdentityResolutionLink.key)
    assert link["domain_name"] == domain
    url = CustomerProfilesIdentityResolutionLink().format_link(**link)
    assert url.endswith(f"/domains/{domain}/identity-resolution")
    assert f"region={link['region_name']}" in url
    assert f"Identity resolution job {job_id}" in task_log()
    assert "COMPLETED" in task_log()


@pytest.mark.parametrize("by_id", [True, False], ids=["given", "first_listed"])
def test_deferrable_sensor_ends_at_once_on_a_job_that_has_ended(airflow_db, emulator, domain, task_log, by_id):
    """A run triggered after its job ended (a nightly export from the UI) completes without a trigger: a trigger
    firing within a second of the deferral can lose Airflow's race with the executor and fail the task."""
    job_id = start_job(emulator, domain)
    client = emulator.client()
    job = eventually(
        lambda: client.get_identity_resolution_job(DomainName=domain, JobId=job_id),
        lambda job: job["Status"] == "COMPLETED",
        "the job completed",
    )
    which = {"job_id": job_id} if by_id else {"started_after": job["JobStartTime"].isoformat()}

    tis = run_dag(sensor_dag(f"ir_ended_{by_id}", emulator, domain, deferrable=True, **which))

    assert tis["wait_for_job"].state == "success"
    assert xcom(tis["wait_for_job"])["job_id"] == job_id
    log = task_log()
    assert f"Identity resolution job {job_id} COMPLETED (started " in log
    assert "DEFERRED" not in log
