"""Helpers shared by the provider tests: request payloads and running DAGs with ``dag.test()``."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
import uuid
from collections.abc import Iterator
from typing import Any

from tests.eventually import found_profile_id

CUSTOMER_TYPE: dict[str, Any] = {
    "Description": "CRM customers",
    "AllowProfileCreation": True,
    "Fields": {
        "id": {"Source": "_source.id", "Target": "_profile.AccountNumber"},
        "email": {"Source": "_source.email", "Target": "_profile.EmailAddress", "ContentType": "EMAIL_ADDRESS"},
    },
    "Keys": {"crm_id": [{"StandardIdentifiers": ["PROFILE", "UNIQUE"], "FieldNames": ["id"]}]},
}


def integration_config(batches: int = 2) -> dict[str, Any]:
    """An AppFlow (Salesforce) IntegrationConfig with ``batches`` historical steps."""
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    return {
        "AppflowIntegration": {
            "FlowDefinition": {
                "FlowName": "flow-" + uuid.uuid4().hex[:8],
                "KmsArn": "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555",
                "SourceFlowConfig": {
                    "ConnectorType": "Salesforce",
                    "ConnectorProfileName": "salesforce-prod",
                    "SourceConnectorProperties": {"Salesforce": {"Object": "Account"}},
                },
                "Tasks": [{"SourceFields": ["Id"], "TaskType": "Map", "DestinationField": "Id"}],
                "TriggerConfig": {"TriggerType": "OnDemand"},
            },
            "Batches": [
                {"StartTime": start + dt.timedelta(days=30 * n), "EndTime": start + dt.timedelta(days=30 * (n + 1))}
                for n in range(batches)
            ],
        }
    }


ROLE_ARN = "arn:aws:iam::123456789012:role/customer-profiles-appflow"


def start_workflow(emulator, domain: str, batches: int = 2) -> str:
    """Start an APPFLOW_INTEGRATION workflow of ``batches`` batches on the service; returns its WorkflowId."""
    return emulator.client().create_integration_workflow(
        DomainName=domain,
        WorkflowType="APPFLOW_INTEGRATION",
        IntegrationConfig=integration_config(batches=batches),
        ObjectTypeName="Customer",
        RoleArn=ROLE_ARN,
    )["WorkflowId"]


@contextlib.contextmanager
def end_workflow_when_created(emulator, domain: str, action: str, body: dict[str, Any]) -> Iterator[list[str]]:
    """
    While the block runs, end the first workflow created in ``domain`` through ``/_emulator/.../{action}``.

    For operators that create the workflow themselves; yields the list that receives its id.
    Polls ListWorkflows 3 times a second, under its 5 TPS quota.
    """
    ended: list[str] = []
    done = threading.Event()

    def watch() -> None:
        client = emulator.client()
        while not done.is_set() and not ended:
            items = client.list_workflows(DomainName=domain)["Items"]
            if items:
                workflow_id = items[0]["WorkflowId"]
                emulator.admin("POST", f"domains/{domain}/workflows/{workflow_id}/{action}", body)
                ended.append(workflow_id)
            done.wait(0.3)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield ended
    finally:
        done.set()
        watcher.join(timeout=10)


def fail_workflow_when_created(emulator, domain: str, description: str, at_step: int):
    """Make the first workflow created in ``domain`` fail at the end of ``at_step``, with ``description``."""
    return end_workflow_when_created(emulator, domain, "fail", {"ErrorDescription": description, "AtStep": at_step})


def cancel_workflow_when_created(emulator, domain: str, at_step: int):
    """Cancel the first workflow created in ``domain`` at the end of ``at_step``."""
    return end_workflow_when_created(emulator, domain, "cancel", {"AtStep": at_step})


# Fast lifecycles: a workflow step lasts this long, and so does each identity-resolution job phase.
STEP_SECONDS = 0.5
PHASE_SECONDS = 0.3


# Three duplicate groups (crm ids, confidence) for the merge tests.
MATCH_GROUPS = {"a": (["a1", "a2"], 0.99), "b": (["b1", "b2", "b3"], 0.95), "c": (["c1", "c2"], 0.80)}


def seed_match_groups(endpoint: Any, domain: str) -> dict[str, str]:
    """One profile per crm id (created by its object), and a match run over ``MATCH_GROUPS``; crm id -> ProfileId."""
    client = endpoint.client()
    for group, (crm_ids, _) in MATCH_GROUPS.items():
        for crm_id in crm_ids:
            record = {"id": crm_id, "email": f"{group}@example.com"}
            client.put_profile_object(DomainName=domain, ObjectTypeName="Customer", Object=json.dumps(record))
    every_crm_id = [crm_id for group_ids, _ in MATCH_GROUPS.values() for crm_id in group_ids]
    ids = {crm_id: found_profile_id(client, domain, "crm_id", crm_id) for crm_id in every_crm_id}
    matches = [
        {"MatchId": f"match-{group}", "ProfileIds": [ids[c] for c in crm_ids], "ConfidenceScore": score}
        for group, (crm_ids, score) in MATCH_GROUPS.items()
    ]
    endpoint.admin("POST", f"domains/{domain}/matches", {"Matches": matches})
    return ids
