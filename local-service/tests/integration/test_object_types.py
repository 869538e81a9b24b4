"""PutProfileObjectType and GetProfileObjectType: what the parity suite cannot check on AWS (messages, clock, quotas).

The documented Keys and Fields rules, paging and not-found errors are in parity/test_parity_object_types.py.
"""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.exceptions import ClientError
from helpers import (
    CUSTOMER_FIELDS,
    CUSTOMER_KEYS,
    create_customer_object_type,
    customer,
    stats,
)
from matching_support import matched

UNIQUE_KEY = [{"StandardIdentifiers": ["UNIQUE", "PROFILE"], "FieldNames": ["id"]}]
ID_FIELD = {"id": {"Source": "_source.id", "Target": "_profile.AccountNumber"}}


def bad_request(client, domain, **kwargs) -> str:
    """Put an object type that must be refused; returns the message."""
    arguments = {"DomainName": domain, "ObjectTypeName": "T", "Description": "d", **kwargs}
    with pytest.raises(ClientError) as caught:
        client.put_profile_object_type(**arguments)
    assert caught.value.response["Error"]["Code"] == "BadRequestException"
    return caught.value.response["Error"]["Message"]


def test_put_echoes_the_definition_and_get_returns_it(customer_profiles_emulator, client, domain):
    created = client.put_profile_object_type(
        DomainName=domain,
        ObjectTypeName="Customer",
        Description="customers",
        ExpirationDays=90,
        AllowProfileCreation=True,
        MaxProfileObjectCount=200,
        SourcePriority=2,
        Fields=CUSTOMER_FIELDS,
        Keys=CUSTOMER_KEYS,
        Tags={"team": "crm"},
    )
    for key, value in {
        "ObjectTypeName": "Customer",
        "Description": "customers",
        "ExpirationDays": 90,
        "AllowProfileCreation": True,
        "MaxProfileObjectCount": 200,
        "MaxAvailableProfileObjectCount": 1000,
        "SourcePriority": 2,
        "Fields": CUSTOMER_FIELDS,
        "Keys": CUSTOMER_KEYS,
        "Tags": {"team": "crm"},
    }.items():
        assert created[key] == value, key
    assert created["CreatedAt"] == created["LastUpdatedAt"]
    got = client.get_profile_object_type(DomainName=domain, ObjectTypeName="Customer")
    assert {k: v for k, v in got.items() if k != "ResponseMetadata"} == {
        k: v for k, v in created.items() if k != "ResponseMetadata"
    }

    # a second type reserves objects per profile: the first sees what is left to it
    client.put_profile_object_type(
        DomainName=domain,
        ObjectTypeName="Order",
        Description="orders",
        MaxProfileObjectCount=300,
        Fields=ID_FIELD,
        Keys={"order": UNIQUE_KEY},
    )
    again = client.get_profile_object_type(DomainName=domain, ObjectTypeName="Customer")
    assert again["MaxAvailableProfileObjectCount"] == 700

    # a re-put replaces the definition and keeps CreatedAt
    customer_profiles_emulator.server.state.clock.advance(60)
    updated = client.put_profile_object_type(
        DomainName=domain, ObjectTypeName="Customer", Description="renamed", Fields=CUSTOMER_FIELDS, Keys=CUSTOMER_KEYS
    )
    assert updated["Description"] == "renamed" and updated["AllowProfileCreation"] is False
    assert updated["CreatedAt"] == created["CreatedAt"]
    assert updated["LastUpdatedAt"] - created["LastUpdatedAt"] >= dt.timedelta(seconds=59)
    assert "MaxProfileObjectCount" not in updated


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (
            {"Fields": {"id": {"Source": "_source.id", "Target": "_profile.ShoeSize"}}, "Keys": {"k": UNIQUE_KEY}},
            ["Fields.id.Target", "ShoeSize"],
        ),
        (
            {"Fields": {"id": {"Source": "id", "Target": "_profile.AccountNumber"}}, "Keys": {"k": UNIQUE_KEY}},
            ["Fields.id.Source", "_source"],
        ),
        (
            {"Fields": ID_FIELD, "Keys": {"k": [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["missing"]}]}},
            ["Keys.k.FieldNames", "missing"],
        ),
        ({"TemplateId": "Zendesk-users", "Fields": ID_FIELD}, ["Fields", "TemplateId"]),
        ({"TemplateId": "Zendesk-users", "Keys": {"k": UNIQUE_KEY}}, ["Keys", "TemplateId"]),
        ({"TemplateId": "No-such-template"}, ["TemplateId", "No-such-template"]),
        ({"Fields": ID_FIELD}, ["Keys"]),
        (
            {"Fields": ID_FIELD, "Keys": {f"k{n}": [{"FieldNames": ["id"]}] for n in range(11)}},
            ["Keys", "10"],
        ),
    ],
)
def test_invalid_definitions_are_refused_naming_the_field(client, domain, arguments, expected):
    message = bad_request(client, domain, **arguments)
    for part in expected:
        assert part in message
    assert client.list_profile_object_types(DomainName=domain)["Items"] == []


def test_object_type_names_starting_with_an_underscore_are_reserved(client, domain):
    message = bad_request(client, domain, ObjectTypeName="_reserved", Fields=ID_FIELD, Keys={"k": UNIQUE_KEY})
    assert "ObjectTypeName" in message and "reserved" in message


def test_key_names_are_global_to_a_domain(client, domain):
    client.put_profile_object_type(
        DomainName=domain,
        ObjectTypeName="A",
        Description="a",
        Fields={"mail": {"Source": "_source.mail", "ContentType": "EMAIL_ADDRESS"}},
        Keys={"contact": [{"StandardIdentifiers": ["UNIQUE", "PROFILE"], "FieldNames": ["mail"]}]},
    )
    message = bad_request(
        client,
        domain,
        ObjectTypeName="B",
        Fields={"phone": {"Source": "_source.phone", "ContentType": "PHONE_NUMBER"}},
        Keys={"contact": [{"StandardIdentifiers": ["UNIQUE", "PROFILE"], "FieldNames": ["phone"]}]},
    )
    assert "Keys.contact" in message and "A" in message


def test_delete_removes_the_type_its_objects_and_the_fields_it_wrote(pager, client, domain):
    create_customer_object_type(client, domain)
    for n in range(3):
        client.put_profile_object(
            DomainName=domain, ObjectTypeName="Customer", Object=customer(f"C{n}", email=f"c{n}@example.com")
        )
    matched(client, domain, 3)
    profile = client.search_profiles(DomainName=domain, KeyName="_account", Values=["C0"])["Items"][0]
    client.update_profile(DomainName=domain, ProfileId=profile["ProfileId"], FirstName="Kept")

    message = client.delete_profile_object_type(DomainName=domain, ObjectTypeName="Customer")["Message"]
    assert "Customer" in message
    assert stats(client, domain)["ObjectCount"] == 0
    assert stats(client, domain)["ProfileCount"] == 3  # profiles stay
    after = client.batch_get_profile(DomainName=domain, ProfileIds=[profile["ProfileId"]])["Profiles"][0]
    assert after == {"ProfileId": profile["ProfileId"], "FirstName": "Kept"}  # fields the type wrote are scrubbed
    with pytest.raises(ClientError) as caught:
        client.get_profile_object_type(DomainName=domain, ObjectTypeName="Customer")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as caught:
        client.delete_profile_object_type(DomainName=domain, ObjectTypeName="Customer")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"

    # defined again, the type starts empty; the profile keys stay, so objects find their profiles again
    create_customer_object_type(client, domain)
    client.put_profile_object(DomainName=domain, ObjectTypeName="Customer", Object=customer("C0"))
    assert matched(client, domain, 1)["ProfileCount"] == 3
    items = list(
        pager.iterate_items(
            "list_profile_objects", DomainName=domain, ObjectTypeName="Customer", ProfileId=profile["ProfileId"]
        )
    )
    assert len(items) == 1
