"""ListProfileObjectTypeTemplates, GetProfileObjectTypeTemplate, and object types built from templates."""

from __future__ import annotations

import json

import pytest
from helpers import create_domain, search_one, stats

TEMPLATE_IDS = ["Marketo-leads", "Salesforce-Account", "Salesforce-Contact", "ServiceNow-sys_user", "Zendesk-users"]


def test_list_pages_through_every_template(pager):
    pages = list(pager.iterate_pages("list_profile_object_type_templates", MaxResults=2))
    assert [len(page["Items"]) for page in pages] == [2, 2, 1]
    items = [item for page in pages for item in page["Items"]]
    assert [item["TemplateId"] for item in items] == TEMPLATE_IDS
    assert {item["TemplateId"]: (item["SourceName"], item["SourceObject"]) for item in items}[
        "ServiceNow-sys_user"
    ] == ("ServiceNow", "sys_user")


@pytest.mark.parametrize("template_id", TEMPLATE_IDS)
def test_each_template_has_fields_and_one_unique_key(client, template_id):
    template = client.get_profile_object_type_template(TemplateId=template_id)
    assert template["TemplateId"] == template_id
    assert template["SourceName"] and template["SourceObject"]
    assert template["AllowProfileCreation"] is True
    unique = [
        name
        for name, definitions in template["Keys"].items()
        for definition in definitions
        if "UNIQUE" in definition["StandardIdentifiers"]
    ]
    assert len(unique) == 1
    for definitions in template["Keys"].values():
        for definition in definitions:
            assert set(definition["FieldNames"]) <= set(template["Fields"])
    for field in template["Fields"].values():
        assert field["Source"].startswith("_source.")
        assert field.get("Target", "_profile.").startswith("_profile.")


def test_an_object_type_from_a_template_maps_like_the_template(client):
    domain = create_domain(client)
    created = client.put_profile_object_type(
        DomainName=domain, ObjectTypeName="ZendeskUser", Description="zendesk users", TemplateId="Zendesk-users"
    )
    template = client.get_profile_object_type_template(TemplateId="Zendesk-users")
    assert created["TemplateId"] == "Zendesk-users"
    assert created["Fields"] == template["Fields"] and created["Keys"] == template["Keys"]
    assert created["AllowProfileCreation"] is True

    user = {"id": 4711, "external_id": "ext-9", "email": "ana@example.com", "phone": "+1 555 0100", "name": "Ana"}
    client.put_profile_object(DomainName=domain, ObjectTypeName="ZendeskUser", Object=json.dumps(user))
    profile = search_one(client, domain, "_zendeskUserId", "4711")
    assert profile["EmailAddress"] == "ana@example.com" and profile["PhoneNumber"] == "+1 555 0100"
    assert profile["Attributes"] == {"ZendeskUserId": "4711", "ZendeskExternalId": "ext-9"}
    assert search_one(client, domain, "_zendeskExternalId", "ext-9")["ProfileId"] == profile["ProfileId"]


def test_objects_named_after_a_template_use_it_without_an_object_type(pager, client):
    domain = create_domain(client)
    account = {
        "Id": "001A",
        "Name": "Acme Corp",
        "AccountNumber": "AC-1",
        "BillingStreet": "1 Main St",
        "BillingCity": "Springfield",
        "BillingPostalCode": "01101",
    }
    client.put_profile_object(DomainName=domain, ObjectTypeName="Salesforce-Account", Object=json.dumps(account))
    profile = search_one(client, domain, "_salesforceAccountId", "001A")
    assert profile["BusinessName"] == "Acme Corp" and profile["AccountNumber"] == "AC-1"
    assert profile["BillingAddress"] == {"Address1": "1 Main St", "City": "Springfield", "PostalCode": "01101"}
    objects = list(
        pager.iterate_items(
            "list_profile_objects",
            DomainName=domain,
            ObjectTypeName="Salesforce-Account",
            ProfileId=profile["ProfileId"],
        )
    )
    assert [json.loads(o["Object"])["Id"] for o in objects] == ["001A"]
    assert stats(client, domain)["ObjectCount"] == 1
