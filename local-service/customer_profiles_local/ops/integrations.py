"""PutIntegration, GetIntegration, ListIntegrations, DeleteIntegration, ListAccountIntegrations.

An integration is keyed by its ``Uri`` within a domain. With a ``FlowDefinition`` the Uri
defaults to the ARN of the AppFlow flow it describes, as CreateIntegrationWorkflow does.
"""

from __future__ import annotations

from typing import Any

from customer_profiles_local.errors import BadRequest, NotFound
from customer_profiles_local.flow_definition import validate_flow_definition
from customer_profiles_local.ops.paging import paginate
from customer_profiles_local.ops.registry import operation
from customer_profiles_local.ops.tags import resource_arn
from customer_profiles_local.state import Domain, EmulatorState

RECORD_FIELDS = ("ObjectTypeName", "ObjectTypeNames", "RoleArn", "EventTriggerNames", "Scope", "WorkflowId")


def flow_uri(state: EmulatorState, flow_name: str) -> str:
    """The ARN of the AppFlow flow named ``flow_name``: the Uri of the integration it feeds."""
    return f"arn:aws:appflow:{state.config.region}:{state.config.account_id}:flow/{flow_name}"


def check_object_types(domain: Domain, names: dict[str, str]) -> None:
    """``names`` maps a request field to an object type name; each must exist in ``domain``."""
    for field_name, type_name in names.items():
        if type_name not in domain.object_types:
            raise BadRequest(f"{field_name}: object type {type_name} does not exist in domain {domain.name}")


def store_integration(
    state: EmulatorState, domain: Domain, uri: str, fields: dict[str, Any], tags: dict[str, str] | None
) -> dict[str, Any]:
    """Create or replace the integration ``uri``; keeps its creation time and workflow on replace."""
    now = state.clock.now()
    previous = domain.integrations.get(uri, {})
    record = {
        "WorkflowId": previous.get("WorkflowId"),
        **{key: fields[key] for key in RECORD_FIELDS if fields.get(key) is not None},
        "Uri": uri,
        "Scope": fields.get("Scope") or previous.get("Scope") or "PROFILE",
        "CreatedAt": previous.get("CreatedAt", now),
        "LastUpdatedAt": now,
    }
    domain.integrations[uri] = record
    if tags:
        state.tags.setdefault(resource_arn(state, domain.name, "integrations", uri), {}).update(tags)
    return record


def integration_response(state: EmulatorState, domain: Domain, record: dict[str, Any]) -> dict[str, Any]:
    arn = resource_arn(state, domain.name, "integrations", record["Uri"])
    return {"DomainName": domain.name, **record, "Tags": state.tags.get(arn) or None}


@operation("PutIntegration")
def put_integration(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    flow = params.get("FlowDefinition")
    if flow:
        validate_flow_definition(flow, "FlowDefinition")
    uri = params.get("Uri") or (flow_uri(state, flow["FlowName"]) if flow else None)
    if not uri:
        raise BadRequest("Uri is required unless a FlowDefinition is given")
    if not params.get("ObjectTypeName") and not params.get("ObjectTypeNames"):
        raise BadRequest("One of ObjectTypeName or ObjectTypeNames is required")
    named = {f"ObjectTypeNames.{event}": name for event, name in (params.get("ObjectTypeNames") or {}).items()}
    if params.get("ObjectTypeName"):
        named["ObjectTypeName"] = params["ObjectTypeName"]
    check_object_types(domain, named)
    record = store_integration(state, domain, uri, params, params.get("Tags"))
    return integration_response(state, domain, record)


@operation("GetIntegration")
def get_integration(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    record = domain.integrations.get(params["Uri"])
    if record is None:
        raise NotFound(f"Integration {params['Uri']} does not exist in domain {domain.name}")
    return integration_response(state, domain, record)


@operation("ListIntegrations")
def list_integrations(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    records = sorted(domain.integrations.values(), key=lambda r: (r["CreatedAt"], r["Uri"]))
    page, token = paginate(records, params)
    return {"Items": [integration_response(state, domain, r) for r in page], "NextToken": token}


@operation("DeleteIntegration")
def delete_integration(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    domain = state.domain(params["DomainName"])
    if domain.integrations.pop(params["Uri"], None) is None:
        raise NotFound(f"Integration {params['Uri']} does not exist in domain {domain.name}")
    state.tags.pop(resource_arn(state, domain.name, "integrations", params["Uri"]), None)
    return {"Message": f"Integration {params['Uri']} was deleted"}


@operation("ListAccountIntegrations")
def list_account_integrations(state: EmulatorState, params: dict[str, Any]) -> dict[str, Any]:
    found = [
        (domain, domain.integrations[params["Uri"]])
        for domain in sorted(state.domains.values(), key=lambda d: d.name)
        if params["Uri"] in domain.integrations
    ]
    page, token = paginate(found, params)
    return {"Items": [integration_response(state, d, r) for d, r in page], "NextToken": token}
