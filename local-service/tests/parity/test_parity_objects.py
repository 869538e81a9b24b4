"""PutProfileObject, ListProfileObjects and DeleteProfileObject: objects find, make and fill profiles, on either target.

Matching is asynchronous on both targets ("An ingested object is validated and queued, and profile matching
happens shortly afterward"), so every read that depends on a match polls.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from helpers import (
    create_customer_object_type,
    customer,
    error_of,
    search_one,
)
from matching_support import matched, wait_for_stats

pytestmark = pytest.mark.parity


def one_profile_with_objects(objects: int) -> Callable[[dict[str, Any]], bool]:
    """A condition on GetDomain's Stats: one profile holding ``objects`` objects (Stats may lag a write)."""
    return lambda counts: (counts["ProfileCount"], counts["ObjectCount"]) == (1, objects)


def put(client, domain, obj, type_name="Customer"):
    return client.put_profile_object(DomainName=domain, ObjectTypeName=type_name, Object=obj)["ProfileObjectUniqueKey"]


def list_objects(pager, domain, profile_id, type_name="Customer", **kwargs):
    return list(
        pager.iterate_items(
            "list_profile_objects", DomainName=domain, ObjectTypeName=type_name, ProfileId=profile_id, **kwargs
        )
    )


def test_put_maps_fields_onto_a_new_profile(client, domain):
    create_customer_object_type(client, domain)
    unique_key = put(
        client,
        domain,
        customer("C1", email="Ana@Example.com", first_name="Ana", last_name="Lima", phone="+1 555 0100", tier="gold"),
    )

    profile = search_one(client, domain, "_account", "C1")
    assert profile["EmailAddress"] == "Ana@Example.com"
    assert (profile["FirstName"], profile["LastName"], profile["PhoneNumber"]) == ("Ana", "Lima", "+1 555 0100")
    assert profile["Attributes"] == {"tier": "gold"}
    assert search_one(client, domain, "customer_id", "C1")["ProfileId"] == profile["ProfileId"]
    assert re.fullmatch("[a-f0-9]{32}", profile["ProfileId"])  # the model's ProfileId pattern
    assert 1 <= len(unique_key) <= 255
    wait_for_stats(client, domain, one_profile_with_objects(1))


def test_same_unique_key_overwrites_the_object_and_updates_the_profile(pager, client, domain):
    create_customer_object_type(client, domain)
    first = put(client, domain, customer("C1", email="old@example.com", tier="silver"))
    latest = customer("C1", email="new@example.com", tier="gold")
    second = put(client, domain, latest)

    assert first == second
    profile = search_one(client, domain, "customer_id", "C1", lambda found: found["EmailAddress"] == "new@example.com")
    wait_for_stats(client, domain, one_profile_with_objects(1))
    assert profile["Attributes"] == {"tier": "gold"}
    objects = list_objects(pager, domain, profile["ProfileId"])
    assert objects == [{"ObjectTypeName": "Customer", "ProfileObjectUniqueKey": first, "Object": latest}]


def test_objects_sharing_a_profile_key_join_one_profile(pager, client, domain):
    client.put_profile_object_type(
        DomainName=domain,
        ObjectTypeName="Order",
        Description="orders",
        AllowProfileCreation=True,
        Fields={
            "order_id": {"Source": "_source.order_id"},
            "customer_id": {"Source": "_source.customer_id"},
        },
        Keys={
            "order_id": [{"StandardIdentifiers": ["UNIQUE", "ORDER"], "FieldNames": ["order_id"]}],
            "customer_id": [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["customer_id"]}],
        },
    )
    create_customer_object_type(client, domain)
    put(client, domain, customer("C1", first_name="Ana"))
    for order_id in ("O1", "O2"):
        put(client, domain, json.dumps({"order_id": order_id, "customer_id": "C1"}), "Order")

    matched(client, domain, 3)
    profile_id = search_one(client, domain, "customer_id", "C1")["ProfileId"]
    orders = list_objects(pager, domain, profile_id, "Order")
    assert sorted(json.loads(o["Object"])["order_id"] for o in orders) == ["O1", "O2"]
    wait_for_stats(client, domain, one_profile_with_objects(3))
    # an ORDER key is an index of the profile too: SearchProfiles by it finds the customer
    assert search_one(client, domain, "order_id", "O2")["ProfileId"] == profile_id
    # ObjectFilter keeps the objects whose key has one of the values
    only_o2 = list_objects(pager, domain, profile_id, "Order", ObjectFilter={"KeyName": "order_id", "Values": ["O2"]})
    assert [json.loads(o["Object"])["order_id"] for o in only_o2] == ["O2"]
    none = list_objects(pager, domain, profile_id, "Order", ObjectFilter={"KeyName": "order_id", "Values": ["O9"]})
    assert none == []


def test_a_profile_key_matches_a_profile_created_through_the_api(client, domain):
    client.put_profile_object_type(
        DomainName=domain,
        ObjectTypeName="Ticket",
        Description="support tickets",
        Fields={
            "ticket_id": {"Source": "_source.ticket_id"},
            "email": {"Source": "_source.requester.email", "ContentType": "EMAIL_ADDRESS"},
        },
        Keys={
            "ticket_id": [{"StandardIdentifiers": ["UNIQUE"], "FieldNames": ["ticket_id"]}],
            "_email": [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["email"]}],
        },
    )
    profile_id = client.create_profile(DomainName=domain, EmailAddress="ana@example.com")["ProfileId"]
    # a nested source path, and an email key compared case-insensitively
    put(client, domain, json.dumps({"ticket_id": "T1", "requester": {"email": "ANA@example.com"}}), "Ticket")

    assert matched(client, domain, 1)["ProfileCount"] == 1
    items = client.list_profile_objects(DomainName=domain, ObjectTypeName="Ticket", ProfileId=profile_id)["Items"]
    assert len(items) == 1


def test_key_kinds_lookup_only_new_only_secondary(client, domain):
    client.put_profile_object_type(
        DomainName=domain,
        ObjectTypeName="Visit",
        Description="web visits",
        AllowProfileCreation=True,
        Fields={
            "visit_id": {"Source": "_source.visit_id"},
            "cookie": {"Source": "_source.cookie"},
            "device": {"Source": "_source.device"},
            "email": {"Source": "_source.email", "ContentType": "EMAIL_ADDRESS"},
        },
        Keys={
            "visit_id": [{"StandardIdentifiers": ["UNIQUE"], "FieldNames": ["visit_id"]}],
            "cookie": [{"StandardIdentifiers": ["LOOKUP_ONLY"], "FieldNames": ["cookie"]}],
            "device": [{"StandardIdentifiers": ["NEW_ONLY"], "FieldNames": ["device"]}],
            "visitor_email": [{"StandardIdentifiers": ["SECONDARY"], "FieldNames": ["email"]}],
        },
    )
    put(client, domain, json.dumps({"visit_id": "V1", "cookie": "k1", "device": "d1", "email": "a@x.io"}), "Visit")
    first = search_one(client, domain, "device", "d1")  # NEW_ONLY: stored, the profile was new
    none = client.search_profiles(DomainName=domain, KeyName="cookie", Values=["k1"])["Items"]
    assert none == []  # LOOKUP_ONLY: never stored
    assert search_one(client, domain, "visitor_email", "A@X.IO")["ProfileId"] == first["ProfileId"]

    # a later visit found through the SECONDARY key joins the profile; its NEW_ONLY device is not stored
    put(client, domain, json.dumps({"visit_id": "V2", "device": "d2", "email": "a@x.io"}), "Visit")
    assert matched(client, domain, 2)["ProfileCount"] == 1
    assert client.search_profiles(DomainName=domain, KeyName="device", Values=["d2"])["Items"] == []


def test_source_priority_keeps_the_higher_priority_value(client, domain):
    for name, priority in (("Crm", 1), ("Web", 5)):
        client.put_profile_object_type(
            DomainName=domain,
            ObjectTypeName=name,
            Description=name,
            AllowProfileCreation=True,
            SourcePriority=priority,
            Fields={
                "id": {"Source": "_source.id"},
                "first": {"Source": "_source.first", "Target": "_profile.FirstName"},
            },
            Keys={"person": [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["id"]}]},
        )
    put(client, domain, json.dumps({"id": "P1", "first": "Ana"}), "Crm")
    put(client, domain, json.dumps({"id": "P1", "first": "Annie"}), "Web")
    matched(client, domain, 2)
    assert search_one(client, domain, "person", "P1")["FirstName"] == "Ana"
    put(client, domain, json.dumps({"id": "P1", "first": "Ana Maria"}), "Crm")
    search_one(client, domain, "person", "P1", lambda found: found["FirstName"] == "Ana Maria")


def test_missing_domain_or_object_type_is_not_found(target, client, domain):
    missing = target.domain_name("missing")
    code, _, status = error_of(client.put_profile_object, DomainName=missing, ObjectTypeName="Customer", Object="{}")
    assert (code, status) == ("ResourceNotFoundException", 404)
    code, _, status = error_of(client.put_profile_object, DomainName=domain, ObjectTypeName="Missing", Object="{}")
    assert (code, status) == ("ResourceNotFoundException", 404)
    code, _, _ = error_of(
        client.batch_put_profile_object,
        DomainName=domain,
        ObjectTypeName="Missing",
        Items=[{"Id": "a", "Object": "{}"}],
    )
    assert code == "ResourceNotFoundException"


def test_list_profile_objects_pages_through_every_object(pager, client, domain):
    client.put_profile_object_type(
        DomainName=domain,
        ObjectTypeName="Purchase",
        Description="purchases",
        AllowProfileCreation=True,
        Fields={"id": {"Source": "_source.id"}, "customer": {"Source": "_source.customer"}},
        Keys={
            "purchase_id": [{"StandardIdentifiers": ["UNIQUE"], "FieldNames": ["id"]}],
            "customer_id": [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["customer"]}],
        },
    )
    for n in range(7):
        put(client, domain, json.dumps({"id": f"P{n}", "customer": "C1"}), "Purchase")
    put(client, domain, json.dumps({"id": "other", "customer": "C2"}), "Purchase")
    matched(client, domain, 8)
    profile_id = search_one(client, domain, "customer_id", "C1")["ProfileId"]

    pages = list(
        pager.iterate_pages(
            "list_profile_objects", DomainName=domain, ObjectTypeName="Purchase", ProfileId=profile_id, MaxResults=3
        )
    )
    assert all(len(page["Items"]) <= 3 for page in pages) and len(pages) >= 3
    ids = [json.loads(item["Object"])["id"] for page in pages for item in page["Items"]]
    assert sorted(ids) == [f"P{n}" for n in range(7)]
    code, _, _ = error_of(client.list_profile_objects, DomainName=domain, ObjectTypeName="Purchase", ProfileId="0" * 32)
    assert code == "ResourceNotFoundException"


def test_delete_profile_object(pager, client, domain):
    create_customer_object_type(client, domain)
    unique_key = put(client, domain, customer("C1"))
    profile_id = search_one(client, domain, "customer_id", "C1")["ProfileId"]
    other_id = client.create_profile(DomainName=domain)["ProfileId"]
    args = {"DomainName": domain, "ObjectTypeName": "Customer", "ProfileObjectUniqueKey": unique_key}

    code, _, _ = error_of(client.delete_profile_object, ProfileId=other_id, **args)
    assert code == "ResourceNotFoundException"  # the object is not on that profile
    assert client.delete_profile_object(ProfileId=profile_id, **args)["Message"]
    assert list_objects(pager, domain, profile_id) == []
    wait_for_stats(client, domain, lambda counts: counts["ObjectCount"] == 0)
    code, _, _ = error_of(client.delete_profile_object, ProfileId=profile_id, **args)
    assert code == "ResourceNotFoundException"
