"""CreateIntegrationWorkflow, GetWorkflow, GetWorkflowSteps, ListWorkflows, DeleteWorkflow.

A workflow's status is never stored: every read derives it from the clock (see ``workflow_lifecycle``).
"""

from __future__ import annotations

from typing import Any

from customer_profiles_local.batch_windows import workflow_windows
from customer_profiles_local.errors import BadRequest, NotFound
from customer_profiles_local.flow_definition import (
    connector_profile_name,
    validate_flow_definition,
)
from customer_profiles_local.ops.integrations import (
    check_object_types,
    flow_uri,
    store_integration,
)
from customer_profiles_local.ops.paging import paginate
from customer_profiles_local.ops.registry import operation
from customer_profiles_local.ops.tags import resource_arn
from customer_profiles_local.pacing import pace
from customer_profiles_local.state import Domain, EmulatorState, new_id
from customer_profiles_local.workflow_lifecycle import StepView, evaluate

APPFLOW_PATH = "IntegrationConfig.AppflowIntegration"


def find_workflow(domain: Domain, workflow_id: str) -> dict[str, Any]:
    try:
        return domain.workflows[workflow_id]
    except KeyError:
        raise NotFound(f"Workflow {workflow_id} does not exist in domain {domain.name}") from None


@operation("CreateIntegrationWorkflow")
def create_integration_workflow(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    appflow = params["IntegrationConfig"].get("AppflowIntegration")
    if not appflow:
        raise BadRequest(f"{APPFLOW_PATH} is required for WorkflowType {params['WorkflowType']}")
    flow = appflow["FlowDefinition"]
    validate_flow_definition(flow, f"{APPFLOW_PATH}.FlowDefinition")
    check_object_types(domain, {"ObjectTypeName": params["ObjectTypeName"]})
    uri = flow_uri(state, flow["FlowName"])
    if uri in domain.integrations:
        raise BadRequest(f"An integration for flow {flow['FlowName']} already exists in domain {domain.name}")
    now = state.clock.now()
    workflow_id = new_id()
    domain.workflows[workflow_id] = {
        "WorkflowId": workflow_id,
        "WorkflowType": params["WorkflowType"],
        "ObjectTypeName": params["ObjectTypeName"],
        "RoleArn": params["RoleArn"],
        "FlowName": flow["FlowName"],
        "ConnectorType": flow["SourceFlowConfig"]["ConnectorType"],
        "ConnectorProfileName": connector_profile_name(flow),
        "CreatedAt": now,
        "StepSeconds": pace(state, "WorkflowStepSeconds"),
        "Windows": workflow_windows(appflow, now, APPFLOW_PATH),
        "Failure": None,
    }
    fields = {
        "ObjectTypeName": params["ObjectTypeName"],
        "RoleArn": params["RoleArn"],
        "WorkflowId": workflow_id,
    }
    store_integration(state, domain, uri, fields, None)
    if params.get("Tags"):
        state.tags[resource_arn(state, domain.name, "workflows", workflow_id)] = dict(params["Tags"])
    return {"WorkflowId": workflow_id, "Message": f"Workflow {workflow_id} created"}


@operation("GetWorkflow")
def get_workflow(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    workflow = find_workflow(state.domain(params["DomainName"]), params["WorkflowId"])
    view = evaluate(workflow, state.clock.now())
    return {
        "WorkflowId": workflow["WorkflowId"],
        "WorkflowType": workflow["WorkflowType"],
        "Status": view.status,
        "ErrorDescription": view.error_description,
        "StartDate": workflow["CreatedAt"],
        "LastUpdatedAt": view.last_updated_at,
        "Attributes": {
            "AppflowIntegration": {
                "SourceConnectorType": workflow["ConnectorType"],
                "ConnectorProfileName": workflow["ConnectorProfileName"],
                "RoleArn": workflow["RoleArn"],
            }
        },
        "Metrics": {
            "AppflowIntegration": {
                "RecordsProcessed": view.records_processed,
                "StepsCompleted": view.steps_completed,
                "TotalSteps": view.total_steps,
            }
        },
    }


def _step_item(workflow: dict[str, Any], step: StepView) -> dict[str, Any]:
    start, end = step.window
    return {
        "AppflowIntegration": {
            "FlowName": f"{workflow['FlowName']}-step-{step.index + 1}",
            "Status": step.status,
            "ExecutionMessage": step.message,
            "RecordsProcessed": step.records_processed,
            "BatchRecordsStartTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "BatchRecordsEndTime": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "CreatedAt": step.created_at,
            "LastUpdatedAt": step.last_updated_at,
        }
    }


@operation("GetWorkflowSteps")
def get_workflow_steps(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    workflow = find_workflow(state.domain(params["DomainName"]), params["WorkflowId"])
    page, token = paginate(evaluate(workflow, state.clock.now()).steps, params)
    return {
        "WorkflowId": workflow["WorkflowId"],
        "WorkflowType": workflow["WorkflowType"],
        "Items": [_step_item(workflow, step) for step in page],
        "NextToken": token,
    }


@operation("ListWorkflows")
def list_workflows(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    now = state.clock.now()
    items = []
    for workflow in sorted(domain.workflows.values(), key=lambda w: (w["CreatedAt"], w["WorkflowId"]), reverse=True):
        view = evaluate(workflow, now)
        if (
            params.get("WorkflowType", workflow["WorkflowType"]) != workflow["WorkflowType"]
            or params.get("Status", view.status) != view.status
            or ("QueryStartDate" in params and workflow["CreatedAt"] < params["QueryStartDate"])
            or ("QueryEndDate" in params and workflow["CreatedAt"] > params["QueryEndDate"])
        ):
            continue
        items.append(
            {
                "WorkflowType": workflow["WorkflowType"],
                "WorkflowId": workflow["WorkflowId"],
                "Status": view.status,
                "StatusDescription": view.description,
                "CreatedAt": workflow["CreatedAt"],
                "LastUpdatedAt": view.last_updated_at,
            }
        )
    page, token = paginate(items, params)
    return {"Items": page, "NextToken": token}


@operation("DeleteWorkflow")
def delete_workflow(state: EmulatorState, params: dict[str, Any]) -> None:
    domain = state.domain(params["DomainName"])
    find_workflow(domain, params["WorkflowId"])
    del domain.workflows[params["WorkflowId"]]
    state.tags.pop(resource_arn(state, domain.name, "workflows", params["WorkflowId"]), None)
