"""Small helpers shared by the lifecycle tests (integrations, tags, workflows, identity resolution)."""

from __future__ import annotations

import datetime as dt
import urllib.error
from typing import Any

ROLE_ARN = "arn:aws:iam::123456789012:role/customer-profiles-appflow"
KMS_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def create_domain(client, name: str = "retail", **settings: Any) -> str:
    client.create_domain(DomainName=name, DefaultExpirationDays=30, **settings)
    return name


def create_object_type(client, domain: str, name: str = "CRMContact") -> str:
    client.put_profile_object_type(
        DomainName=domain,
        ObjectTypeName=name,
        Description="contacts from the CRM",
        AllowProfileCreation=True,
        Fields={
            "id": {"Source": "_source.id", "Target": "_profile.AccountNumber", "ContentType": "STRING"},
            "email": {
                "Source": "_source.email",
                "Target": "_profile.EmailAddress",
                "ContentType": "EMAIL_ADDRESS",
            },
            "first": {"Source": "_source.first", "Target": "_profile.FirstName", "ContentType": "NAME"},
            "last": {"Source": "_source.last", "Target": "_profile.LastName", "ContentType": "NAME"},
        },
        Keys={"crm_id": [{"StandardIdentifiers": ["PROFILE", "UNIQUE"], "FieldNames": ["id"]}]},
    )
    return name


def flow_definition(name: str = "crm-history", connector: str = "Salesforce", **trigger: Any) -> dict[str, Any]:
    """A valid FlowDefinition for ``connector``; ``trigger`` overrides the TriggerConfig."""
    properties = {"BucketName": "crm-exports"} if connector == "S3" else {"Object": "Contact"}
    member = {"Servicenow": "ServiceNow"}.get(connector, connector)
    source: dict[str, Any] = {"ConnectorType": connector, "SourceConnectorProperties": {member: properties}}
    if connector != "S3":
        source["ConnectorProfileName"] = "crm-connection"
    return {
        "FlowName": name,
        "KmsArn": KMS_ARN,
        "SourceFlowConfig": source,
        "Tasks": [{"SourceFields": ["Id"], "TaskType": "Map", "DestinationField": "Id"}],
        "TriggerConfig": trigger or {"TriggerType": "OnDemand"},
    }


def admin_error(endpoint, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, str]:
    """Call an admin endpoint that must fail; returns (HTTP status, message)."""
    import json

    try:
        endpoint.admin(method, path, body)
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())["Message"]
    raise AssertionError(f"{method} {path} succeeded but was expected to fail")


def advance(endpoint, seconds: float) -> dt.datetime:
    """Move the service clock; returns its new time."""
    return dt.datetime.fromisoformat(endpoint.admin("POST", "clock", {"AdvanceSeconds": seconds})["Now"])
