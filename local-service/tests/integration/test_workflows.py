"""Integration workflows: lifecycle over the service clock, steps, metrics, filters, failures."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from helpers import Pager
from lifecycle_support import (
    ROLE_ARN,
    admin_error,
    advance,
    create_domain,
    create_object_type,
    flow_definition,
)

STEP = 60  # seconds per step; every test moves the clock by whole steps


@pytest.fixture
def emulator(customer_profiles_emulator):
    customer_profiles_emulator.admin("POST", "settings", {"WorkflowStepSeconds": STEP})
    return customer_profiles_emulator


@pytest.fixture
def pager(emulator):
    pager = Pager(emulator.client())
    create_domain(pager.client, "retail")
    create_object_type(pager.client, "retail", "CRMContact")
    return pager


def batches(count: int) -> list[dict[str, dt.datetime]]:
    first = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    return [
        {"StartTime": first + dt.timedelta(days=30 * n), "EndTime": first + dt.timedelta(days=30 * (n + 1))}
        for n in range(count)
    ]


def start(client, name: str = "crm-history", batch_count: int | None = 3, **flow_overrides) -> str:
    appflow = {"FlowDefinition": {**flow_definition(name), **flow_overrides}}
    if batch_count:
        appflow["Batches"] = batches(batch_count)
    created = client.create_integration_workflow(
        DomainName="retail",
        WorkflowType="APPFLOW_INTEGRATION",
        IntegrationConfig={"AppflowIntegration": appflow},
        ObjectTypeName="CRMContact",
        RoleArn=ROLE_ARN,
    )
    assert len(created["WorkflowId"]) == 32
    assert created["Message"]
    return created["WorkflowId"]


def steps(pager, workflow_id: str, page_size: int = 100) -> list[dict]:
    items = pager.iterate_items("get_workflow_steps", DomainName="retail", WorkflowId=workflow_id, MaxResults=page_size)
    return [item["AppflowIntegration"] for item in items]


def test_statuses_progress_with_the_clock(emulator, pager):
    client = pager.client
    workflow_id = start(client, batch_count=3)
    seen = client.get_workflow(DomainName="retail", WorkflowId=workflow_id)
    assert seen["Status"] == "NOT_STARTED"
    assert seen["Metrics"]["AppflowIntegration"] == {
        "RecordsProcessed": 0,
        "StepsCompleted": 0,
        "TotalSteps": 3,
    }
    assert seen["Attributes"]["AppflowIntegration"] == {
        "SourceConnectorType": "Salesforce",
        "ConnectorProfileName": "crm-connection",
        "RoleArn": ROLE_ARN,
    }
    assert steps(pager, workflow_id) == []

    advance(emulator, STEP)
    running = client.get_workflow(DomainName="retail", WorkflowId=workflow_id)
    assert running["Status"] == "IN_PROGRESS"
    assert [s["Status"] for s in steps(pager, workflow_id)] == ["IN_PROGRESS"]

    advance(emulator, STEP)
    assert [s["Status"] for s in steps(pager, workflow_id)] == ["COMPLETE", "IN_PROGRESS"]
    assert (
        client.get_workflow(DomainName="retail", WorkflowId=workflow_id)["Metrics"]["AppflowIntegration"][
            "StepsCompleted"
        ]
        == 1
    )

    advance(emulator, 2 * STEP)
    done = client.get_workflow(DomainName="retail", WorkflowId=workflow_id)
    assert done["Status"] == "COMPLETE"
    final_steps = steps(pager, workflow_id)
    assert [s["Status"] for s in final_steps] == ["COMPLETE"] * 3
    metrics = done["Metrics"]["AppflowIntegration"]
    assert metrics["StepsCompleted"] == metrics["TotalSteps"] == 3
    assert metrics["RecordsProcessed"] == sum(s["RecordsProcessed"] for s in final_steps) > 0
    assert [s["BatchRecordsStartTime"] for s in final_steps] == [
        b["StartTime"].strftime("%Y-%m-%dT%H:%M:%SZ") for b in batches(3)
    ]
    assert len({s["FlowName"] for s in final_steps}) == 3
    assert done["LastUpdatedAt"] > done["StartDate"]
    # a finished workflow does not change any more, and its record counts are stable
    advance(emulator, 10 * STEP)
    assert steps(pager, workflow_id) == final_steps


def test_without_batches_steps_are_two_month_windows_over_the_last_year(emulator, pager):
    workflow_id = start(pager.client, batch_count=None)
    advance(emulator, 8 * STEP)
    windows = [
        (
            dt.datetime.fromisoformat(s["BatchRecordsStartTime"]),
            dt.datetime.fromisoformat(s["BatchRecordsEndTime"]),
        )
        for s in steps(pager, workflow_id, page_size=4)
    ]
    assert len(windows) == 6
    for (lower, upper), (next_lower, _) in itertools.pairwise(windows):
        assert upper == next_lower
        assert (upper.year * 12 + upper.month) - (lower.year * 12 + lower.month) == 2
    assert 360 <= (windows[-1][1] - windows[0][0]).days <= 366


def test_scheduled_trigger_first_execution_sets_the_history_range(emulator, pager):
    now = advance(emulator, 0)
    first = now - dt.timedelta(days=200)
    trigger = {
        "TriggerType": "Scheduled",
        "TriggerProperties": {"Scheduled": {"ScheduleExpression": "rate(1days)", "FirstExecutionFrom": first}},
    }
    workflow_id = start(pager.client, batch_count=None, TriggerConfig=trigger)
    total = pager.client.get_workflow(DomainName="retail", WorkflowId=workflow_id)["Metrics"]["AppflowIntegration"]
    assert total["TotalSteps"] == 4  # 200 days in two-month windows
    advance(emulator, STEP)
    first_step = steps(pager, workflow_id)[0]
    assert first_step["BatchRecordsStartTime"] == first.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_steps_page_with_a_size_that_does_not_divide_the_total(emulator, pager):
    workflow_id = start(pager.client, batch_count=7)
    advance(emulator, 9 * STEP)
    pages = list(pager.iterate_pages("get_workflow_steps", DomainName="retail", WorkflowId=workflow_id, MaxResults=3))
    assert [len(p["Items"]) for p in pages] == [3, 3, 1]
    assert steps(pager, workflow_id, page_size=3) == steps(pager, workflow_id)


def test_list_workflows_filters(emulator, pager):
    client = pager.client
    early = start(client, "first-flow")
    middle_time = advance(emulator, 10 * STEP)
    late = start(client, "second-flow")

    def listed(**filters) -> list[str]:
        return [item["WorkflowId"] for item in pager.iterate_items("list_workflows", DomainName="retail", **filters)]

    assert listed() == [late, early]
    assert listed(Status="COMPLETE") == [early]
    assert listed(Status="NOT_STARTED") == [late]
    assert listed(WorkflowType="APPFLOW_INTEGRATION", MaxResults=1) == [late, early]
    assert listed(QueryStartDate=middle_time - dt.timedelta(seconds=1)) == [late]
    assert listed(QueryEndDate=middle_time - dt.timedelta(seconds=1)) == [early]
    item = client.list_workflows(DomainName="retail", Status="COMPLETE")["Items"][0]
    assert item["StatusDescription"] and item["WorkflowType"] == "APPFLOW_INTEGRATION"


def test_the_workflow_sets_up_an_integration_and_can_be_deleted(pager):
    client = pager.client
    workflow_id = start(client)
    integration = client.get_integration(
        DomainName="retail", Uri="arn:aws:appflow:us-east-1:123456789012:flow/crm-history"
    )
    assert integration["WorkflowId"] == workflow_id
    client.delete_workflow(DomainName="retail", WorkflowId=workflow_id)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_workflow(DomainName="retail", WorkflowId=workflow_id)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.delete_workflow(DomainName="retail", WorkflowId=workflow_id)
    assert client.list_workflows(DomainName="retail")["Items"] == []


def test_fail_now_marks_the_running_step(emulator, pager):
    client = pager.client
    workflow_id = start(client, batch_count=3)
    advance(emulator, 2 * STEP + 1)
    answer = emulator.admin(
        "POST",
        f"domains/retail/workflows/{workflow_id}/fail",
        {"ErrorDescription": "Salesforce token expired"},
    )
    assert answer["Status"] == "FAILED"
    assert answer["FailingStep"] == 2
    failed = client.get_workflow(DomainName="retail", WorkflowId=workflow_id)
    assert failed["Status"] == "FAILED"
    assert failed["ErrorDescription"] == "Salesforce token expired"
    advance(emulator, 5 * STEP)
    after = steps(pager, workflow_id)
    assert [s["Status"] for s in after] == ["COMPLETE", "FAILED"]
    assert after[1]["ExecutionMessage"] == "Salesforce token expired"
    assert (
        client.get_workflow(DomainName="retail", WorkflowId=workflow_id)["Metrics"]["AppflowIntegration"][
            "StepsCompleted"
        ]
        == 1
    )
    status, message = admin_error(emulator, "POST", f"domains/retail/workflows/{workflow_id}/fail")
    assert status == 400
    assert "FAILED" in message


def test_fail_at_a_later_step(emulator, pager):
    client = pager.client
    workflow_id = start(client, batch_count=4)
    emulator.admin("POST", f"domains/retail/workflows/{workflow_id}/fail", {"AtStep": 3})
    advance(emulator, 3 * STEP)
    assert client.get_workflow(DomainName="retail", WorkflowId=workflow_id)["Status"] == "IN_PROGRESS"
    advance(emulator, STEP)
    failed = client.get_workflow(DomainName="retail", WorkflowId=workflow_id)
    assert failed["Status"] == "FAILED"
    assert "injected" in failed["ErrorDescription"]
    assert [s["Status"] for s in steps(pager, workflow_id)] == ["COMPLETE", "COMPLETE", "FAILED"]
    assert client.list_workflows(DomainName="retail", Status="FAILED")["Items"][0]["WorkflowId"] == workflow_id


def test_fail_endpoint_rejects_bad_input(emulator, pager):
    workflow_id = start(pager.client, batch_count=2)
    assert admin_error(emulator, "POST", f"domains/retail/workflows/{workflow_id}/fail", {"AtStep": 3})[0] == 400
    assert admin_error(emulator, "POST", f"domains/retail/workflows/{'0' * 32}/fail")[0] == 404
    advance(emulator, 2 * STEP)
    status, message = admin_error(emulator, "POST", f"domains/retail/workflows/{workflow_id}/fail", {"AtStep": 1})
    assert (status, message) == (400, "Step 1 has already finished")
    advance(emulator, STEP)
    assert admin_error(emulator, "POST", f"domains/retail/workflows/{workflow_id}/fail")[0] == 400


def _with_source(**source) -> dict:
    return {"SourceFlowConfig": {**flow_definition()["SourceFlowConfig"], **source}}


@pytest.mark.parametrize(
    ("overrides", "batch_count", "field"),
    [
        (_with_source(ConnectorType="Servicenow"), 3, r"SourceConnectorProperties\.ServiceNow"),
        (
            _with_source(SourceConnectorProperties={"Salesforce": {"Object": "A"}, "Marketo": {"Object": "B"}}),
            3,
            r"SourceConnectorProperties must describe only",
        ),
        (_with_source(ConnectorProfileName=None), 3, r"SourceFlowConfig\.ConnectorProfileName"),
        ({"TriggerConfig": {"TriggerType": "Scheduled"}}, 3, r"TriggerProperties\.Scheduled is required"),
        ({"Tasks": []}, 3, r"FlowDefinition\.Tasks"),
    ],
)
def test_bad_flow_definition_is_rejected_naming_the_field(pager, overrides, batch_count, field):
    client = pager.client
    source = overrides.get("SourceFlowConfig")
    if source is not None:
        overrides = {**overrides, "SourceFlowConfig": {k: v for k, v in source.items() if v is not None}}
    with pytest.raises(client.exceptions.BadRequestException, match=field):
        start(client, batch_count=batch_count, **overrides)
    assert client.list_workflows(DomainName="retail")["Items"] == []


def test_batch_windows_and_object_type_are_checked(pager):
    client = pager.client
    backwards = [{"StartTime": dt.datetime(2024, 2, 1), "EndTime": dt.datetime(2024, 1, 1)}]
    with pytest.raises(client.exceptions.BadRequestException, match=r"Batches\.1\.StartTime"):
        client.create_integration_workflow(
            DomainName="retail",
            WorkflowType="APPFLOW_INTEGRATION",
            IntegrationConfig={"AppflowIntegration": {"FlowDefinition": flow_definition(), "Batches": backwards}},
            ObjectTypeName="CRMContact",
            RoleArn=ROLE_ARN,
        )
    with pytest.raises(client.exceptions.BadRequestException, match="ObjectTypeName"):
        client.create_integration_workflow(
            DomainName="retail",
            WorkflowType="APPFLOW_INTEGRATION",
            IntegrationConfig={"AppflowIntegration": {"FlowDefinition": flow_definition()}},
            ObjectTypeName="Missing",
            RoleArn=ROLE_ARN,
        )


def test_settings_and_clock_endpoints_validate_their_input(emulator):
    assert emulator.admin("POST", "settings", {"JobPhaseSeconds": 5}) == {
        "WorkflowStepSeconds": STEP,
        "JobPhaseSeconds": 5,
    }
    assert admin_error(emulator, "POST", "settings", {"StepSeconds": 1}) == (
        400,
        "Unknown setting(s) ['StepSeconds']; known settings are ['JobPhaseSeconds', 'WorkflowStepSeconds']",
    )
    assert admin_error(emulator, "POST", "settings", {"JobPhaseSeconds": -1})[0] == 400
    assert admin_error(emulator, "POST", "clock", {"AdvanceSeconds": "soon"})[0] == 400
    before = advance(emulator, 0)
    assert advance(emulator, 3600) - before >= dt.timedelta(hours=1)


def status_of(client, workflow_id: str) -> str:
    return client.get_workflow(DomainName="retail", WorkflowId=workflow_id)["Status"]


def test_retry_pauses_the_running_step_then_it_resumes_and_completes_later(emulator, pager):
    client = pager.client
    workflow_id = start(client, batch_count=2)
    advance(emulator, STEP + STEP / 2)  # half of step 1 done
    answer = emulator.admin("POST", f"domains/retail/workflows/{workflow_id}/retry", {"Seconds": 2 * STEP})
    assert answer["Status"] == "RETRY"
    assert [s["Status"] for s in steps(pager, workflow_id)] == ["RETRY"]
    assert client.list_workflows(DomainName="retail", Status="RETRY")["Items"][0]["WorkflowId"] == workflow_id
    paused_records = steps(pager, workflow_id)[0]["RecordsProcessed"]

    advance(emulator, STEP)  # still retrying: no progress while paused
    assert status_of(client, workflow_id) == "RETRY"
    assert steps(pager, workflow_id)[0]["RecordsProcessed"] == paused_records
    advance(emulator, STEP)  # the retry runs the rest of step 1
    assert status_of(client, workflow_id) == "IN_PROGRESS"
    advance(emulator, STEP / 2)
    assert [s["Status"] for s in steps(pager, workflow_id)] == ["COMPLETE", "IN_PROGRESS"]
    advance(emulator, STEP)
    assert status_of(client, workflow_id) == "COMPLETE"


def test_a_step_retried_three_times_fails_on_the_fourth_transient_failure(emulator, pager):
    client = pager.client
    workflow_id = start(client, batch_count=1)
    advance(emulator, STEP + 1)
    for _ in range(3):
        assert emulator.admin("POST", f"domains/retail/workflows/{workflow_id}/retry", {"Seconds": 1})["Status"] == (
            "RETRY"
        )
        advance(emulator, 1)
    assert emulator.admin("POST", f"domains/retail/workflows/{workflow_id}/retry")["Status"] == "FAILED"
    failed = client.get_workflow(DomainName="retail", WorkflowId=workflow_id)
    assert failed["ErrorDescription"] == "Step 1 failed after 3 retries of transient failures"


def test_split_halves_the_batch_into_two_steps_and_the_workflow_goes_on(emulator, pager):
    client = pager.client
    workflow_id = start(client, batch_count=2)
    answer = emulator.admin("POST", f"domains/retail/workflows/{workflow_id}/split", {"AtStep": 2, "Seconds": STEP})
    assert answer == {"WorkflowId": workflow_id, "Status": "NOT_STARTED", "TotalSteps": 3}
    advance(emulator, 2 * STEP)  # step 1 done, step 2 starts SPLIT
    assert status_of(client, workflow_id) == "SPLIT"
    assert [s["Status"] for s in steps(pager, workflow_id)] == ["COMPLETE", "SPLIT"]
    advance(emulator, 3 * STEP)  # the pause, then both halves
    done = client.get_workflow(DomainName="retail", WorkflowId=workflow_id)
    assert done["Status"] == "COMPLETE"
    assert done["Metrics"]["AppflowIntegration"]["StepsCompleted"] == 3
    windows = [(s["BatchRecordsStartTime"], s["BatchRecordsEndTime"]) for s in steps(pager, workflow_id)]
    second = batches(2)[1]
    middle = second["StartTime"] + (second["EndTime"] - second["StartTime"]) / 2
    assert [end for _, end in windows[1:]] == [
        middle.strftime("%Y-%m-%dT%H:%M:%SZ"),
        second["EndTime"].strftime("%Y-%m-%dT%H:%M:%SZ"),
    ]
    assert windows[2][0] == windows[1][1]


def test_cancel_ends_the_workflow_cancelled(emulator, pager):
    client = pager.client
    workflow_id = start(client, batch_count=3)
    answer = emulator.admin("POST", f"domains/retail/workflows/{workflow_id}/cancel", {"AtStep": 2})
    assert answer["FailingStep"] == 2
    advance(emulator, 3 * STEP)
    cancelled = client.get_workflow(DomainName="retail", WorkflowId=workflow_id)
    assert cancelled["Status"] == "CANCELLED"
    assert "ErrorDescription" not in cancelled
    assert [s["Status"] for s in steps(pager, workflow_id)] == ["COMPLETE", "CANCELLED"]
    assert client.list_workflows(DomainName="retail", Status="CANCELLED")["Items"][0]["WorkflowId"] == workflow_id
    advance(emulator, 5 * STEP)
    assert status_of(client, workflow_id) == "CANCELLED"


def test_pause_endpoints_reject_what_cannot_happen(emulator, pager):
    workflow_id = start(pager.client, batch_count=2)
    path = f"domains/retail/workflows/{workflow_id}"
    status, message = admin_error(emulator, "POST", f"{path}/retry")
    assert (status, message) == (400, f"Workflow {workflow_id} has no running step (NOT_STARTED)")
    assert admin_error(emulator, "POST", f"{path}/split", {"Seconds": 0})[0] == 400
    assert admin_error(emulator, "POST", f"{path}/split", {"AtStep": 3})[0] == 400
    assert admin_error(emulator, "POST", f"domains/retail/workflows/{'0' * 32}/retry")[0] == 404
    advance(emulator, STEP + 1)
    status, message = admin_error(emulator, "POST", f"{path}/retry", {"AtStep": 1})
    assert (status, message) == (400, "Step 1 has already started")
    emulator.admin("POST", f"{path}/cancel")
    status, message = admin_error(emulator, "POST", f"{path}/split")
    assert (status, message) == (400, f"Workflow {workflow_id} has already finished (CANCELLED)")
