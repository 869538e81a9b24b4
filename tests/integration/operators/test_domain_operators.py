"""The idempotent set-up operators: a second run with the same arguments makes no write call."""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG

from airflow_provider_customerprofiles.links.customer_profiles import CustomerProfilesDomainLink
from airflow_provider_customerprofiles.operators.customer_profiles import (
    CustomerProfilesCreateDomainOperator,
    CustomerProfilesPutObjectTypeOperator,
)
from airflow_provider_customerprofiles.testing import run_dag, xcom
from tests.integration.provider_support import CUSTOMER_TYPE

MATCHING = {
    "Enabled": True,
    "AutoMerging": {
        "Enabled": False,
        "Consolidation": {"MatchingAttributesList": [["EmailAddress"], ["LastName", "PhoneNumber"]]},
        "ConflictResolution": {"ConflictResolvingModel": "RECENCY"},
        "MinAllowedConfidenceScoreForMerging": 0.9,
    },
    "ExportingConfig": {"S3Exporting": {"S3BucketName": "cp-results", "S3KeyName": "identity-resolution"}},
}
WRITES = ("CreateDomain", "UpdateDomain", "PutProfileObjectType")


def writes(emulator) -> dict[str, int]:
    operations = emulator.metrics()["operations"]
    return {name: operations.get(name, {}).get("succeeded", 0) for name in WRITES}


def setup_dag(dag_id: str, emulator, domain: str, matching: dict, object_type: dict) -> DAG:
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2026, 1, 1), catchup=False) as dag:
        create_domain = CustomerProfilesCreateDomainOperator(
            task_id="domain",
            domain_name=domain,
            default_expiration_days=365,
            matching=matching,
            tags={"team": "crm"},
            aws_conn_id=emulator.conn_id,
        )
        put_type = CustomerProfilesPutObjectTypeOperator(
            task_id="object_type",
            domain_name=domain,
            object_type_name="Customer",
            description=object_type["Description"],
            fields=object_type["Fields"],
            keys=object_type["Keys"],
            allow_profile_creation=object_type["AllowProfileCreation"],
            aws_conn_id=emulator.conn_id,
        )
        create_domain >> put_type
    return dag


def test_set_up_creates_then_leaves_unchanged_then_updates(airflow_db, emulator, task_log):
    client = emulator.client()

    first = run_dag(setup_dag("setup_1", emulator, "crm", MATCHING, CUSTOMER_TYPE))
    assert xcom(first["domain"]) == {"domain_name": "crm", "changed": True, "action": "created"}
    assert xcom(first["object_type"])["action"] == "created"
    domain = client.get_domain(DomainName="crm")
    assert domain["Matching"]["AutoMerging"]["MinAllowedConfidenceScoreForMerging"] == 0.9
    assert domain["Matching"]["JobSchedule"] == {"DayOfTheWeek": "SATURDAY", "Time": "00:00"}
    assert domain["Tags"] == {"team": "crm"}
    assert client.get_profile_object_type(DomainName="crm", ObjectTypeName="Customer")["Keys"] == CUSTOMER_TYPE["Keys"]
    link = CustomerProfilesDomainLink().format_link(**xcom(first["domain"], CustomerProfilesDomainLink.key))
    assert link == "https://console.aws.amazon.com/connect/customerprofiles/home?region=us-east-1#/domains/crm"
    before = writes(emulator)

    again = run_dag(setup_dag("setup_2", emulator, "crm", MATCHING, CUSTOMER_TYPE))

    assert xcom(again["domain"]) == {"domain_name": "crm", "changed": False, "action": "unchanged"}
    assert xcom(again["object_type"])["changed"] is False
    assert writes(emulator) == before, "an unchanged set-up must not write"
    assert "Domain crm: unchanged" in task_log()

    stricter = {**MATCHING, "AutoMerging": {**MATCHING["AutoMerging"], "MinAllowedConfidenceScoreForMerging": 0.95}}
    renamed = {**CUSTOMER_TYPE, "Description": "CRM customers (v2)"}
    changed = run_dag(setup_dag("setup_3", emulator, "crm", stricter, renamed))

    assert xcom(changed["domain"])["action"] == "updated"
    assert xcom(changed["object_type"])["action"] == "updated"
    assert writes(emulator) == {
        "CreateDomain": before["CreateDomain"],
        "UpdateDomain": before["UpdateDomain"] + 1,
        "PutProfileObjectType": before["PutProfileObjectType"] + 1,
    }
    domain = client.get_domain(DomainName="crm")
    assert domain["Matching"]["AutoMerging"]["MinAllowedConfidenceScoreForMerging"] == 0.95
    assert client.get_profile_object_type(DomainName="crm", ObjectTypeName="Customer")["Description"] == (
        "CRM customers (v2)"
    )
