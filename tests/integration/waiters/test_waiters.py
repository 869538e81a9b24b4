"""The custom waiters (``waiters/customer-profiles.json``) against every status the local service reports.

The service's clock is moved (``POST /_emulator/clock``) to walk a workflow or job through its
states; each check is one waiter attempt (``MaxAttempts: 1``): a non-terminal status exhausts
it without a terminal failure, a terminal one succeeds or fails outright.
"""

from __future__ import annotations

import contextlib
import threading

import pytest
from botocore.exceptions import WaiterError

from airflow_provider_customerprofiles.hooks.customer_profiles import CustomerProfilesHook
from tests.integration.provider_support import CUSTOMER_TYPE, start_workflow

SLOW = 60  # seconds per workflow step / job phase: nothing moves unless the clock does


def check_once(hook: CustomerProfilesHook, waiter_name: str, **args) -> str:
    """One waiter attempt: 'success', 'retry' (status not final) or 'failure' (terminal)."""
    try:
        hook.get_waiter(waiter_name).wait(**args, WaiterConfig={"MaxAttempts": 1, "Delay": 1})
    except WaiterError as error:
        if "terminal failure" in str(error):
            return "failure"
        assert "Max attempts exceeded" in str(error), str(error)
        return "retry"
    return "success"


def status_of_workflow(hook, domain, workflow_id) -> str:
    return hook.conn.get_workflow(DomainName=domain, WorkflowId=workflow_id)["Status"]


@pytest.fixture
def slow(emulator):
    emulator.admin("POST", "settings", {"WorkflowStepSeconds": SLOW, "JobPhaseSeconds": SLOW})
    return emulator


def test_workflow_complete_waiter_walks_every_status(slow, domain, hook):
    workflow_id = start_workflow(slow, domain, batches=2)
    args = {"DomainName": domain, "WorkflowId": workflow_id}

    seen = []
    for _ in range(3):  # NOT_STARTED, step 1 running, step 2 running
        seen.append((status_of_workflow(hook, domain, workflow_id), check_once(hook, "workflow_complete", **args)))
        slow.admin("POST", "clock", {"AdvanceSeconds": SLOW})
    seen.append((status_of_workflow(hook, domain, workflow_id), check_once(hook, "workflow_complete", **args)))

    assert seen == [
        ("NOT_STARTED", "retry"),
        ("IN_PROGRESS", "retry"),
        ("IN_PROGRESS", "retry"),
        ("COMPLETE", "success"),
    ]


def test_workflow_complete_waiter_fails_on_failed(slow, domain, hook):
    workflow_id = start_workflow(slow, domain)
    slow.admin("POST", f"domains/{domain}/workflows/{workflow_id}/fail", {"ErrorDescription": "Flow deleted"})

    with pytest.raises(WaiterError, match="terminal failure") as raised:
        hook.get_waiter("workflow_complete").wait(DomainName=domain, WorkflowId=workflow_id)
    assert raised.value.last_response["Status"] == "FAILED"
    assert raised.value.last_response["ErrorDescription"] == "Flow deleted"


def test_workflow_failure_surfaces_the_error_description(slow, domain, hook):
    workflow_id = start_workflow(slow, domain)
    slow.admin("POST", f"domains/{domain}/workflows/{workflow_id}/fail", {"ErrorDescription": "Flow deleted"})

    with pytest.raises(Exception, match=f"Integration workflow {workflow_id} did not complete: FAILED - Flow deleted"):
        hook.wait_for_workflow(domain, workflow_id, waiter_delay=1, waiter_max_attempts=3)


JOB_STATUSES_WITH_MERGING = ["PENDING", "PREPROCESSING", "FIND_MATCHING", "MERGING"]


@pytest.mark.parametrize(
    ("waiter_name", "outcome", "final"),
    [
        ("identity_resolution_job_complete", "COMPLETED", "success"),
        ("identity_resolution_job_complete", "PARTIAL_SUCCESS", "failure"),
        ("identity_resolution_job_complete", "FAILED", "failure"),
        ("identity_resolution_job_complete_or_partial", "COMPLETED", "success"),
        ("identity_resolution_job_complete_or_partial", "PARTIAL_SUCCESS", "success"),
        ("identity_resolution_job_complete_or_partial", "FAILED", "failure"),
    ],
)
def test_identity_resolution_job_waiters_walk_every_status(slow, hook, waiter_name, outcome, final):
    domain = "ir_" + waiter_name[-7:] + outcome[:4]
    slow.client().create_domain(
        DomainName=domain,
        DefaultExpirationDays=30,
        Matching={"Enabled": True, "AutoMerging": {"Enabled": True, "MinAllowedConfidenceScoreForMerging": 0.9}},
    )
    job_id = slow.admin("POST", f"domains/{domain}/identity-resolution-jobs", {"Outcome": outcome})["JobId"]
    args = {"DomainName": domain, "JobId": job_id}

    seen = []
    for _ in range(5):
        status = hook.conn.get_identity_resolution_job(**args)["Status"]
        seen.append((status, check_once(hook, waiter_name, **args)))
        if seen[-1][1] != "retry":
            break
        slow.admin("POST", "clock", {"AdvanceSeconds": SLOW})

    running = JOB_STATUSES_WITH_MERGING if outcome != "FAILED" else JOB_STATUSES_WITH_MERGING[:3]
    assert seen == [(status, "retry") for status in running] + [(outcome, final)]


def test_waiters_retry_when_throttled(customer_profiles_emulator_factory):
    """
    At the documented 5 TPS a throttled GetWorkflow is a retry, never a failure.

    Another caller keeps GetWorkflow's quota spent while the waiter polls, and the waiter's
    client makes no retries of its own, so the waiter sees ThrottlingException itself on
    most attempts; without the retry acceptor it would fail at the first.
    """
    emulator = customer_profiles_emulator_factory(quotas="aws", conn_id="customer_profiles_throttled")
    # Long enough that the waiter polls for seconds however slowly the machine builds the hook and waiter.
    emulator.admin("POST", "settings", {"WorkflowStepSeconds": 4})
    client = emulator.client()
    client.create_domain(DomainName="throttled", DefaultExpirationDays=30)
    client.put_profile_object_type(DomainName="throttled", ObjectTypeName="Customer", **CUSTOMER_TYPE)
    workflow_id = start_workflow(emulator, "throttled", batches=1)
    no_retries = {"retries": {"total_max_attempts": 1}}
    hook = CustomerProfilesHook(aws_conn_id=emulator.conn_id, config=no_retries)
    waiter = hook.get_waiter("workflow_complete")
    done = threading.Event()

    def spend_quota() -> None:
        other = emulator.client(**no_retries)
        while not done.wait(0.02):
            with contextlib.suppress(other.exceptions.ThrottlingException):
                other.get_workflow(DomainName="throttled", WorkflowId=workflow_id)

    spender = threading.Thread(target=spend_quota, daemon=True)
    spender.start()
    try:
        waiter.wait(DomainName="throttled", WorkflowId=workflow_id, WaiterConfig={"MaxAttempts": 600, "Delay": 0.05})
    finally:
        done.set()
        spender.join(timeout=10)

    counts = emulator.metrics()["operations"]["GetWorkflow"]
    assert counts.get("throttled", 0) > 0


def test_workflow_complete_waiter_retries_on_retry_and_split_and_fails_on_cancelled(slow, domain, hook):
    workflow_id = start_workflow(slow, domain, batches=2)
    args = {"DomainName": domain, "WorkflowId": workflow_id}
    path = f"domains/{domain}/workflows/{workflow_id}"
    slow.admin("POST", f"{path}/retry", {"AtStep": 1, "Seconds": SLOW})
    slow.admin("POST", f"{path}/split", {"AtStep": 2, "Seconds": SLOW})

    seen = []
    for _ in range(3):  # step 1 starts in RETRY, runs, then step 2 starts SPLIT
        slow.admin("POST", "clock", {"AdvanceSeconds": SLOW})
        seen.append((status_of_workflow(hook, domain, workflow_id), check_once(hook, "workflow_complete", **args)))
    slow.admin("POST", f"{path}/cancel")
    seen.append((status_of_workflow(hook, domain, workflow_id), check_once(hook, "workflow_complete", **args)))

    assert seen == [
        ("RETRY", "retry"),
        ("IN_PROGRESS", "retry"),
        ("SPLIT", "retry"),
        ("CANCELLED", "failure"),
    ]
