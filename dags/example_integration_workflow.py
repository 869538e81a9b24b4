"""
Historical ingestion through an integration workflow (AppFlow: Salesforce accounts -> profiles).

1. ``create_domain`` / ``put_object_type``: idempotent set-up (no write when nothing changed).
2. ``run_workflow``: CreateIntegrationWorkflow, then waits in the triggerer (``deferrable=True``)
   until the workflow is COMPLETE, checking every ``waiter_delay`` (10 s, so the task ends within
   10 s of the workflow); the task log shows steps done / total and records processed,
   and a FAILED or CANCELLED workflow fails the task with the service's ErrorDescription.
   Its return value (XCom) is the workflow id; the task has a console link to the workflow.

Copy and adapt: the run parameters (connection, domain, IAM role, AppFlow connector profile,
KMS key, Salesforce object) and ``ACCOUNT_FIELDS`` / ``ACCOUNT_KEYS``. To try it against the
local Customer Profiles service, point the ``aws`` connection at it with the extra
``{"region_name": "us-east-1", "service_config": {"customer-profiles": {"endpoint_url": "http://127.0.0.1:PORT"}}}``.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG, Param

from airflow_provider_customerprofiles.operators.customer_profiles import (
    CustomerProfilesCreateDomainOperator,
    CustomerProfilesCreateIntegrationWorkflowOperator,
    CustomerProfilesPutObjectTypeOperator,
)

AWS_CONN_ID = "{{ params.aws_conn_id }}"
DOMAIN_NAME = "{{ params.domain_name }}"
OBJECT_TYPE_NAME = "SalesforceAccount"

ACCOUNT_FIELDS = {
    "account_id": {"Source": "_source.Id", "Target": "_profile.AccountNumber"},
    "email": {"Source": "_source.PersonEmail", "Target": "_profile.EmailAddress", "ContentType": "EMAIL_ADDRESS"},
    "phone": {"Source": "_source.Phone", "Target": "_profile.PhoneNumber", "ContentType": "PHONE_NUMBER"},
}
ACCOUNT_KEYS = {"_salesforceAccountId": [{"StandardIdentifiers": ["PROFILE", "UNIQUE"], "FieldNames": ["account_id"]}]}

# The AppFlow flow the workflow creates; without "Batches" the service ingests the last
# twelve months in two-month steps.
INTEGRATION_CONFIG = {
    "AppflowIntegration": {
        "FlowDefinition": {
            "FlowName": "{{ params.domain_name }}-salesforce-accounts-{{ ts_nodash | lower }}",
            "Description": "Salesforce accounts history for Customer Profiles",
            "KmsArn": "{{ params.kms_arn }}",
            "SourceFlowConfig": {
                "ConnectorType": "Salesforce",
                "ConnectorProfileName": "{{ params.connector_profile_name }}",
                "SourceConnectorProperties": {"Salesforce": {"Object": "{{ params.salesforce_object }}"}},
            },
            "Tasks": [
                {
                    "TaskType": "Filter",
                    "SourceFields": ["Id", "PersonEmail", "Phone"],
                    "ConnectorOperator": {"Salesforce": "PROJECTION"},
                },
                *[
                    {"TaskType": "Map", "SourceFields": [name], "DestinationField": name}
                    for name in ("Id", "PersonEmail", "Phone")
                ],
            ],
            "TriggerConfig": {"TriggerType": "OnDemand"},
        }
    }
}

with DAG(
    dag_id="example_integration_workflow",
    description="Ingest Salesforce account history into Customer Profiles through an integration workflow",
    doc_md=__doc__,
    schedule=None,
    start_date=dt.datetime(2024, 1, 1),
    catchup=False,
    tags=["customer-profiles", "example"],
    params={
        "aws_conn_id": Param("aws_default", type="string", description="Airflow aws connection for Customer Profiles"),
        "domain_name": Param("retail", type="string", description="Customer Profiles domain, created when missing"),
        "role_arn": Param(
            "arn:aws:iam::123456789012:role/customer-profiles-appflow",
            type="string",
            description="IAM role Customer Profiles assumes to create and run the AppFlow flow",
        ),
        "kms_arn": Param(
            "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555",
            type="string",
            description="KMS key that encrypts the flow's data",
        ),
        "connector_profile_name": Param(
            "salesforce-prod", type="string", description="AppFlow connector profile of your Salesforce org"
        ),
        "salesforce_object": Param("Account", type="string", description="Salesforce object to ingest"),
    },
) as dag:
    create_domain = CustomerProfilesCreateDomainOperator(
        task_id="create_domain",
        domain_name=DOMAIN_NAME,
        default_expiration_days=365,
        aws_conn_id=AWS_CONN_ID,
    )
    put_object_type = CustomerProfilesPutObjectTypeOperator(
        task_id="put_object_type",
        domain_name=DOMAIN_NAME,
        object_type_name=OBJECT_TYPE_NAME,
        description="Salesforce accounts",
        fields=ACCOUNT_FIELDS,
        keys=ACCOUNT_KEYS,
        allow_profile_creation=True,
        aws_conn_id=AWS_CONN_ID,
    )
    run_workflow = CustomerProfilesCreateIntegrationWorkflowOperator(
        task_id="run_workflow",
        domain_name=DOMAIN_NAME,
        integration_config=INTEGRATION_CONFIG,
        object_type_name=OBJECT_TYPE_NAME,
        role_arn="{{ params.role_arn }}",
        tags={"pipeline": "example_integration_workflow"},
        deferrable=True,
        waiter_delay=10,  # one GetWorkflow call per check: cheap, and the task ends soon after the workflow
        waiter_max_attempts=24 * 60 * 6,  # a day
        aws_conn_id=AWS_CONN_ID,
    )
    create_domain >> put_object_type >> run_workflow
