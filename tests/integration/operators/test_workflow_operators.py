"""The integration-workflow operator and sensor, run by Airflow (``dag.test()``) against the local service."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator

import pytest
from airflow.sdk import DAG

from airflow_provider_customerprofiles.links.customer_profiles import CustomerProfilesWorkflowLink
from airflow_provider_customerprofiles.operators.customer_profiles import (
    CustomerProfilesCreateIntegrationWorkflowOperator,
)
from airflow_provider_customerprofiles.sensors.customer_profiles import CustomerProfilesWorkflowSensor
from airflow_provider_customerprofiles.testing import run_dag, xcom
from tests.integration.provider_support import (
    ROLE_ARN,
    STEP_SECONDS,
    cancel_workflow_when_created,
    fail_workflow_when_created,
    integration_config,
    start_workflow,
)

FAILURE = "Salesforce connector profile salesforce-prod has expired credentials"


def workflow_dag(dag_id: str, emulator, domain: str, batches: int = 2, **kwargs) -> DAG:
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2026, 1, 1), catchup=False) as dag:
        CustomerProfilesCreateIntegrationWorkflowOperator(
            task_id="create_workflow",
            domain_name=domain,
            integration_config=integration_config(batches=batches),
            object_type_name="Customer",
            role_arn=ROLE_ARN,
            aws_conn_id=emulator.conn_id,
            waiter_delay=1,
            waiter_max_attempts=30,
            **kwargs,
        )
    return dag


def sensor_dag(dag_id: str, emulator, domain: str, workflow_id: str, deferrable: bool) -> DAG:
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2026, 1, 1), catchup=False) as dag:
        CustomerProfilesWorkflowSensor(
            task_id="wait_for_workflow",
            domain_name=domain,
            workflow_id=workflow_id,
            aws_conn_id=emulator.conn_id,
            poke_interval=1,
            max_retries=30,
            timeout=120,
            deferrable=deferrable,
        )
    return dag


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
def test_create_workflow_waits_until_complete(airflow_db, emulator, domain, hook, task_log, deferrable):
    tis = run_dag(workflow_dag(f"wf_complete_{deferrable}", emulator, domain, deferrable=deferrable))

    ti = tis["create_workflow"]
    assert ti.state == "success"
    workflow_id = xcom(ti)
    assert hook.conn.get_workflow(DomainName=domain, WorkflowId=workflow_id)["Status"] == "COMPLETE"
    # progress was logged while waiting, and the step summary at the end
    log = task_log()
    assert f"Integration workflow {workflow_id}: IN_PROGRESS - steps " in log
    assert "records processed" in log
    assert f"Integration workflow {workflow_id} is COMPLETE: 2 steps {{'COMPLETE': 2}}" in log
    assert ("running trigger in line" in log) is deferrable
    link = xcom(ti, CustomerProfilesWorkflowLink.key)
    url = CustomerProfilesWorkflowLink().format_link(**link)
    assert url.startswith("https://console.aws.amazon.com/connect/customerprofiles/home?region=us-east-1#")
    assert url.endswith(f"/domains/{domain}/workflows/{workflow_id}")


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
def test_create_workflow_fails_with_the_error_description(airflow_db, emulator, domain, task_log, deferrable):
    with fail_workflow_when_created(emulator, domain, FAILURE, at_step=1) as failed:
        tis = run_dag(workflow_dag(f"wf_fail_{deferrable}", emulator, domain, batches=3, deferrable=deferrable))

    assert failed, "the workflow was never created"
    assert tis["create_workflow"].state == "failed"
    log = task_log()
    assert f"Integration workflow {failed[0]} did not complete: FAILED - {FAILURE}" in log


def test_create_workflow_without_waiting_returns_at_once(airflow_db, emulator, domain, hook):
    # Slow steps, so the workflow is still NOT_STARTED afterwards however loaded the machine is.
    emulator.admin("POST", "settings", {"WorkflowStepSeconds": 600})
    tis = run_dag(workflow_dag("wf_nowait", emulator, domain, wait_for_completion=False))

    workflow_id = xcom(tis["create_workflow"])
    assert "GetWorkflow" not in emulator.metrics()["operations"]  # the operator did not poll
    assert hook.conn.get_workflow(DomainName=domain, WorkflowId=workflow_id)["Status"] == "NOT_STARTED"


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
def test_workflow_sensor_succeeds_when_complete(airflow_db, emulator, domain, hook, deferrable):
    workflow_id = start_workflow(emulator, domain)

    tis = run_dag(sensor_dag(f"wf_sensor_{deferrable}", emulator, domain, workflow_id, deferrable))

    assert tis["wait_for_workflow"].state == "success"
    assert hook.conn.get_workflow(DomainName=domain, WorkflowId=workflow_id)["Status"] == "COMPLETE"


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
def test_workflow_sensor_fails_with_the_error_description(airflow_db, emulator, domain, task_log, deferrable):
    workflow_id = start_workflow(emulator, domain, batches=3)
    emulator.admin("POST", f"domains/{domain}/workflows/{workflow_id}/fail", {"ErrorDescription": FAILURE, "AtStep": 1})

    tis = run_dag(sensor_dag(f"wf_sensor_fail_{deferrable}", emulator, domain, workflow_id, deferrable))

    assert tis["wait_for_workflow"].state == "failed"
    assert f"FAILED - {FAILURE}" in task_log()


@contextlib.contextmanager
def resume_after_a_poll(emulator, seconds: float) -> Iterator[None]:
    """While the block runs, move the service clock ``seconds`` on once GetWorkflow has been called again."""
    done = threading.Event()

    def polls() -> int:
        return emulator.metrics()["operations"].get("GetWorkflow", {}).get("requests", 0)

    def watch() -> None:
        before = polls()
        while not done.wait(0.2):
            if polls() > before:
                emulator.admin("POST", "clock", {"AdvanceSeconds": seconds})
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join(timeout=10)


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
def test_workflow_sensor_keeps_waiting_through_retry_and_split(
    airflow_db, emulator, domain, hook, task_log, deferrable
):
    # RETRY (a step retried after a transient failure) and SPLIT (a batch split in two) are not terminal.
    # The workflow stays RETRY until the sensor has polled it, then goes on; it is SPLIT for 3 s of step 2.
    workflow_id = start_workflow(emulator, domain, batches=2)
    path = f"domains/{domain}/workflows/{workflow_id}"
    emulator.admin("POST", f"{path}/split", {"AtStep": 2, "Seconds": 3})
    emulator.admin("POST", "clock", {"AdvanceSeconds": STEP_SECONDS})
    emulator.admin("POST", f"{path}/retry", {"Seconds": 3600})

    with resume_after_a_poll(emulator, 3600):
        tis = run_dag(sensor_dag(f"wf_sensor_pauses_{deferrable}", emulator, domain, workflow_id, deferrable))

    assert tis["wait_for_workflow"].state == "success"
    workflow = hook.conn.get_workflow(DomainName=domain, WorkflowId=workflow_id)
    assert workflow["Status"] == "COMPLETE"
    assert workflow["Metrics"]["AppflowIntegration"]["StepsCompleted"] == 3
    if not deferrable:  # the sensor logs every poke; dag.test() does not capture the trigger's
        assert f"Integration workflow {workflow_id}: RETRY - steps 0/3" in task_log()


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
def test_workflow_sensor_fails_when_cancelled(airflow_db, emulator, domain, task_log, deferrable):
    workflow_id = start_workflow(emulator, domain, batches=3)
    emulator.admin("POST", f"domains/{domain}/workflows/{workflow_id}/cancel", {"AtStep": 1})

    tis = run_dag(sensor_dag(f"wf_sensor_cancel_{deferrable}", emulator, domain, workflow_id, deferrable))

    assert tis["wait_for_workflow"].state == "failed"
    outcome = "did not complete: " if deferrable else "ended "
    assert f"Integration workflow {workflow_id} {outcome}CANCELLED - steps 0/3" in task_log()


@pytest.mark.parametrize("deferrable", [False, True], ids=["sync", "deferred"])
def test_create_workflow_fails_when_cancelled(airflow_db, emulator, domain, task_log, deferrable):
    with cancel_workflow_when_created(emulator, domain, at_step=1) as cancelled:
        tis = run_dag(workflow_dag(f"wf_cancel_{deferrable}", emulator, domain, batches=3, deferrable=deferrable))

    assert cancelled, "the workflow was never created"
    assert tis["create_workflow"].state == "failed"
    assert f"Integration workflow {cancelled[0]} did not complete: CANCELLED - steps 0/3" in task_log()
