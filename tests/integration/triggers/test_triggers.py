"""The triggers: they serialize for the triggerer, and ``run()`` (aiobotocore) waits on the local service."""

from __future__ import annotations

import asyncio
import datetime as dt
import importlib
import threading

import pytest

from airflow_provider_customerprofiles.triggers.customer_profiles import (
    CustomerProfilesIdentityResolutionJobCompleteTrigger,
    CustomerProfilesIdentityResolutionJobStartedTrigger,
    CustomerProfilesWorkflowCompleteTrigger,
)
from tests.integration.provider_support import start_workflow

COMMON = {"waiter_delay": 1, "waiter_max_attempts": 30, "aws_conn_id": "customer_profiles_local"}


def first_event(trigger) -> dict:
    async def run() -> dict:
        async for event in trigger.run():
            return event.payload
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(run())


@pytest.mark.parametrize(
    "trigger",
    [
        CustomerProfilesWorkflowCompleteTrigger(domain_name="d", workflow_id="a" * 32, **COMMON),
        CustomerProfilesIdentityResolutionJobCompleteTrigger(
            domain_name="d", job_id="b" * 32, partial_success_is_success=True, region_name="eu-west-2", **COMMON
        ),
        CustomerProfilesIdentityResolutionJobStartedTrigger(
            domain_name="d", started_after="2026-01-03T00:00:00+00:00", verify=False, **COMMON
        ),
    ],
    ids=["workflow", "job-complete", "job-started"],
)
def test_triggers_serialize_round_trip(trigger):
    classpath, kwargs = trigger.serialize()
    module, name = classpath.rsplit(".", 1)
    rebuilt = getattr(importlib.import_module(module), name)(**kwargs)

    assert type(rebuilt) is type(trigger)
    assert rebuilt.serialize() == (classpath, kwargs)
    assert kwargs["aws_conn_id"] == "customer_profiles_local"
    assert kwargs["waiter_delay"] == 1


def test_workflow_trigger_fires_when_complete(emulator, domain):
    workflow_id = start_workflow(emulator, domain)

    event = first_event(CustomerProfilesWorkflowCompleteTrigger(domain_name=domain, workflow_id=workflow_id, **COMMON))

    assert event == {"status": "success", "workflow_id": workflow_id}
    assert emulator.client().get_workflow(DomainName=domain, WorkflowId=workflow_id)["Status"] == "COMPLETE"


def test_workflow_trigger_reports_the_error_description(emulator, domain):
    workflow_id = start_workflow(emulator, domain)
    emulator.admin("POST", f"domains/{domain}/workflows/{workflow_id}/fail", {"ErrorDescription": "Flow was deleted"})

    event = first_event(CustomerProfilesWorkflowCompleteTrigger(domain_name=domain, workflow_id=workflow_id, **COMMON))

    assert event["status"] == "error"
    assert event["workflow_id"] == workflow_id
    assert f"Integration workflow {workflow_id} did not complete: FAILED - Flow was deleted" in event["message"]


@pytest.mark.parametrize(
    ("outcome", "partial_success_is_success", "expected"),
    [
        ("COMPLETED", False, "success"),
        ("FAILED", False, "error"),
        ("PARTIAL_SUCCESS", False, "error"),
        ("PARTIAL_SUCCESS", True, "success"),
    ],
)
def test_job_complete_trigger(emulator, domain, outcome, partial_success_is_success, expected):
    message = f"Job ended {outcome} (injected)"
    job_id = emulator.admin(
        "POST", f"domains/{domain}/identity-resolution-jobs", {"Outcome": outcome, "Message": message}
    )["JobId"]

    event = first_event(
        CustomerProfilesIdentityResolutionJobCompleteTrigger(
            domain_name=domain, job_id=job_id, partial_success_is_success=partial_success_is_success, **COMMON
        )
    )

    assert event["status"] == expected
    assert event["job_id"] == job_id
    if expected == "error":
        assert f"{outcome} - {message}" in event["message"]


def start_job_later(emulator, domain: str, seconds: float) -> threading.Timer:
    """Start an identity-resolution job (admin endpoint) after ``seconds``, while a trigger polls."""
    timer = threading.Timer(seconds, emulator.admin, ("POST", f"domains/{domain}/identity-resolution-jobs"))
    timer.start()
    return timer


def test_job_started_trigger_polls_until_the_first_job_has_started(emulator, domain):
    # Only the next weekly run is listed (PENDING, days away); a job started meanwhile comes first.
    started_after = dt.datetime.now(dt.timezone.utc)
    timer = start_job_later(emulator, domain, 2.0)
    try:
        event = first_event(
            CustomerProfilesIdentityResolutionJobStartedTrigger(
                domain_name=domain, started_after=started_after.isoformat(), **COMMON
            )
        )
    finally:
        timer.join()

    assert event["status"] == "success"
    jobs = emulator.client().list_identity_resolution_jobs(DomainName=domain)["IdentityResolutionJobsList"]
    first = min((job for job in jobs if job["JobStartTime"] >= started_after), key=lambda job: job["JobStartTime"])
    assert event["job_id"] == first["JobId"]
    assert len(jobs) == 2  # the started one, and the weekly run still PENDING


def test_job_started_trigger_gives_up_while_the_first_job_is_pending(emulator, domain):
    event = first_event(
        CustomerProfilesIdentityResolutionJobStartedTrigger(
            domain_name=domain,
            started_after=dt.datetime.now(dt.timezone.utc).isoformat(),
            **{**COMMON, "waiter_max_attempts": 2},
        )
    )

    assert event["status"] == "error"
    assert "after 2 checks" in event["message"]
