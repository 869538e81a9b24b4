"""Checks on an AppFlow ``FlowDefinition`` that the service model cannot express (integrations, workflows)."""

from __future__ import annotations

from typing import Any

from customer_profiles_local.errors import BadRequest

# ConnectorType value -> the SourceConnectorProperties member that must describe the source
SOURCE_PROPERTIES = {
    "Salesforce": "Salesforce",
    "Marketo": "Marketo",
    "Zendesk": "Zendesk",
    "Servicenow": "ServiceNow",
    "S3": "S3",
}


def validate_flow_definition(flow: dict[str, Any], path: str) -> None:
    """Raise BadRequest naming the field (under ``path``) when ``flow`` is inconsistent."""
    source = flow["SourceFlowConfig"]
    connector = source["ConnectorType"]
    expected = SOURCE_PROPERTIES[connector]
    properties = source["SourceConnectorProperties"]
    props_path = f"{path}.SourceFlowConfig.SourceConnectorProperties"
    if expected not in properties:
        raise BadRequest(f"{props_path}.{expected} is required when ConnectorType is {connector}")
    others = sorted(set(properties) - {expected})
    if others:
        raise BadRequest(f"{props_path} must describe only the {connector} source, not {others}")
    if connector != "S3" and not source.get("ConnectorProfileName"):
        raise BadRequest(f"{path}.SourceFlowConfig.ConnectorProfileName is required for ConnectorType {connector}")
    if not flow["Tasks"]:
        raise BadRequest(f"{path}.Tasks must hold at least one task")
    _validate_trigger(flow["TriggerConfig"], f"{path}.TriggerConfig")


def _validate_trigger(trigger: dict[str, Any], path: str) -> None:
    scheduled = (trigger.get("TriggerProperties") or {}).get("Scheduled")
    if trigger["TriggerType"] == "Scheduled" and not scheduled:
        raise BadRequest(f"{path}.TriggerProperties.Scheduled is required when TriggerType is Scheduled")
    if trigger["TriggerType"] != "Scheduled" and scheduled:
        raise BadRequest(f"{path}.TriggerProperties.Scheduled is only allowed when TriggerType is Scheduled")
    window = (scheduled or {}).get("ScheduleStartTime"), (scheduled or {}).get("ScheduleEndTime")
    if all(window) and window[0] >= window[1]:
        raise BadRequest(f"{path}.TriggerProperties.Scheduled.ScheduleStartTime must be before ScheduleEndTime")


def connector_profile_name(flow: dict[str, Any]) -> str:
    """The connector profile a workflow reports; an S3 source has none, so its bucket stands in."""
    source = flow["SourceFlowConfig"]
    return source.get("ConnectorProfileName") or source["SourceConnectorProperties"]["S3"]["BucketName"]
