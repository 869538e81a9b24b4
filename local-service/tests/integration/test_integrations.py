"""Integrations: create, read, list, delete, and the account-wide listing by Uri."""

from __future__ import annotations

import pytest
from lifecycle_support import (
    ROLE_ARN,
    create_domain,
    create_object_type,
    flow_definition,
)

CONNECT_URI = "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555"


def test_integration_crud(pager):
    client = pager.client
    create_domain(client, "retail")
    create_object_type(client, "retail", "CTR")
    put = client.put_integration(DomainName="retail", Uri=CONNECT_URI, ObjectTypeName="CTR", Tags={"src": "connect"})
    assert put["Uri"] == CONNECT_URI
    assert put["ObjectTypeName"] == "CTR"
    assert put["Scope"] == "PROFILE"
    assert put["Tags"] == {"src": "connect"}

    got = client.get_integration(DomainName="retail", Uri=CONNECT_URI)
    assert got["CreatedAt"] == put["CreatedAt"]

    client.put_integration(DomainName="retail", Uri=CONNECT_URI, ObjectTypeNames={"CTR": "CTR"}, Scope="DOMAIN")
    replaced = client.get_integration(DomainName="retail", Uri=CONNECT_URI)
    assert replaced["ObjectTypeNames"] == {"CTR": "CTR"}
    assert "ObjectTypeName" not in replaced
    assert replaced["Scope"] == "DOMAIN"
    assert replaced["CreatedAt"] == put["CreatedAt"]
    assert replaced["LastUpdatedAt"] >= put["LastUpdatedAt"]

    assert CONNECT_URI in client.delete_integration(DomainName="retail", Uri=CONNECT_URI)["Message"]
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_integration(DomainName="retail", Uri=CONNECT_URI)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.delete_integration(DomainName="retail", Uri=CONNECT_URI)


def test_list_integrations_pages_and_account_listing_finds_every_domain(pager):
    client = pager.client
    for domain in ("retail", "wholesale"):
        create_domain(client, domain)
        create_object_type(client, domain, "CTR")
        client.put_integration(DomainName=domain, Uri=CONNECT_URI, ObjectTypeName="CTR")
    for number in range(4):
        client.put_integration(DomainName="retail", Uri=f"{CONNECT_URI}-{number}", ObjectTypeName="CTR")

    uris = [item["Uri"] for item in pager.iterate_items("list_integrations", DomainName="retail", MaxResults=2)]
    assert uris == [CONNECT_URI] + [f"{CONNECT_URI}-{n}" for n in range(4)]

    account = list(pager.iterate_items("list_account_integrations", Uri=CONNECT_URI, MaxResults=1))
    assert [(item["DomainName"], item["Uri"]) for item in account] == [
        ("retail", CONNECT_URI),
        ("wholesale", CONNECT_URI),
    ]
    assert client.list_account_integrations(Uri="arn:aws:connect:us-east-1:123456789012:instance/none")["Items"] == []


def test_put_integration_with_a_flow_definition_uses_the_flow_arn(pager):
    client = pager.client
    create_domain(client, "retail")
    create_object_type(client, "retail", "CRMContact")
    put = client.put_integration(
        DomainName="retail",
        ObjectTypeName="CRMContact",
        FlowDefinition=flow_definition("crm-live"),
        RoleArn=ROLE_ARN,
    )
    assert put["Uri"] == "arn:aws:appflow:us-east-1:123456789012:flow/crm-live"
    assert put["RoleArn"] == ROLE_ARN


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"Uri": CONNECT_URI, "ObjectTypeName": "Missing"}, "ObjectTypeName"),
        ({"Uri": CONNECT_URI, "ObjectTypeNames": {"evt": "Missing"}}, "ObjectTypeNames.evt"),
        ({"Uri": CONNECT_URI}, "ObjectTypeName"),
        ({"ObjectTypeName": "CTR"}, "Uri"),
        (
            {
                "ObjectTypeName": "CTR",
                "FlowDefinition": {
                    **flow_definition(),
                    "SourceFlowConfig": {**flow_definition()["SourceFlowConfig"], "ConnectorType": "Marketo"},
                },
            },
            "FlowDefinition.SourceFlowConfig.SourceConnectorProperties.Marketo",
        ),
    ],
)
def test_put_integration_rejects_bad_requests_naming_the_field(pager, kwargs, field):
    client = pager.client
    create_domain(client, "retail")
    create_object_type(client, "retail", "CTR")
    with pytest.raises(client.exceptions.BadRequestException, match=field):
        client.put_integration(DomainName="retail", **kwargs)
    assert client.list_integrations(DomainName="retail")["Items"] == []


def test_integrations_need_an_existing_domain(pager):
    with pytest.raises(pager.client.exceptions.ResourceNotFoundException):
        pager.client.list_integrations(DomainName="nowhere")
