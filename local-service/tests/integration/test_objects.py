"""PutProfileObject, BatchPutProfileObject, ListProfileObjects and DeleteProfileObject over HTTP."""

from __future__ import annotations

import json
import threading

import pytest
from botocore.exceptions import ClientError
from helpers import (
    CUSTOMER_FIELDS,
    CUSTOMER_KEYS,
    create_customer_object_type,
    customer,
    search_one,
    stats,
)
from matching_support import eventually, matched

SECRET_EMAIL = "ana.secret@example.com"


def error_of(call, **kwargs) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


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
    assert len(profile["ProfileId"]) == 32
    # the unique key is an opaque digest, not the key value
    assert "C1" not in unique_key and 1 <= len(unique_key) <= 255
    assert stats(client, domain)["ProfileCount"] == 1
    assert stats(client, domain)["ObjectCount"] == 1


def test_same_unique_key_overwrites_the_object_and_updates_the_profile(pager, client, domain):
    create_customer_object_type(client, domain)
    first = put(client, domain, customer("C1", email="old@example.com", tier="silver"))
    latest = customer("C1", email="new@example.com", tier="gold")
    second = put(client, domain, latest)

    assert first == second
    profile = search_one(client, domain, "customer_id", "C1", lambda found: found["EmailAddress"] == "new@example.com")
    assert stats(client, domain)["ObjectCount"] == 1
    assert stats(client, domain)["ProfileCount"] == 1
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
    assert [json.loads(o["Object"])["order_id"] for o in orders] == ["O1", "O2"]
    assert stats(client, domain)["ProfileCount"] == 1
    # an ORDER key is an index of the profile too: SearchProfiles by it finds the customer
    assert search_one(client, domain, "order_id", "O2")["ProfileId"] == profile_id
    # ObjectFilter keeps the objects whose key has one of the values
    only_o2 = list_objects(pager, domain, profile_id, "Order", ObjectFilter={"KeyName": "order_id", "Values": ["O2"]})
    assert [json.loads(o["Object"])["order_id"] for o in only_o2] == ["O2"]
    none = list_objects(pager, domain, profile_id, "Order", ObjectFilter={"KeyName": "order_id", "Values": ["O9"]})
    assert none == []
    code, message, _ = error_of(
        client.list_profile_objects,
        DomainName=domain,
        ObjectTypeName="Order",
        ProfileId=profile_id,
        ObjectFilter={"KeyName": "no_such_key", "Values": ["x"]},
    )
    assert code == "BadRequestException" and "ObjectFilter.KeyName" in message


def test_without_profile_creation_an_unmatched_object_goes_to_the_dead_letter_queue(
    customer_profiles_emulator, client, domain
):
    create_customer_object_type(client, domain, allow_profile_creation=False)
    unique_key = put(client, domain, customer("C1", email="a@example.com"))

    def dead_letters() -> int:
        stats(client, domain)  # any read of the domain lets due objects be matched
        return customer_profiles_emulator.server.state.domains[domain].dead_letter_objects

    assert unique_key
    eventually(dead_letters, lambda count: count == 1, "the unmatched object dead-lettered")
    assert stats(client, domain)["ObjectCount"] == 0
    assert stats(client, domain)["ProfileCount"] == 0

    # once a profile carries the key, the same object joins it
    profile_id = client.create_profile(DomainName=domain, FirstName="Ana")["ProfileId"]
    client.add_profile_key(DomainName=domain, ProfileId=profile_id, KeyName="customer_id", Values=["C1"])
    assert put(client, domain, customer("C1", email="a@example.com")) == unique_key
    matched(client, domain, 1)
    profile = client.batch_get_profile(DomainName=domain, ProfileIds=[profile_id])["Profiles"][0]
    assert (profile["FirstName"], profile["EmailAddress"]) == ("Ana", "a@example.com")
    assert customer_profiles_emulator.server.state.domains[domain].dead_letter_objects == 1


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


def test_bad_objects_are_refused_without_echoing_values(client, domain):
    create_customer_object_type(client, domain)
    cases = {
        json.dumps({"email": SECRET_EMAIL}): ("customer_id", "_source.customer_id"),
        "not json " + SECRET_EMAIL: ("not valid JSON",),
        json.dumps([SECRET_EMAIL]): ("must be a JSON object",),
        '{"customer_id": "C1", "score": NaN}': ("NaN",),
        customer("C1", tier="x" * 300): ("tier", "255"),
    }
    for obj, expected in cases.items():
        code, message, status = error_of(
            client.put_profile_object, DomainName=domain, ObjectTypeName="Customer", Object=obj
        )
        assert (code, status) == ("BadRequestException", 400)
        for part in expected:
            assert part in message
        assert SECRET_EMAIL not in message and "xxxx" not in message
    assert stats(client, domain)["ObjectCount"] == 0
    assert stats(client, domain)["ProfileCount"] == 0


def test_missing_domain_or_object_type_is_not_found(client, domain):
    code, _, status = error_of(client.put_profile_object, DomainName="nope", ObjectTypeName="Customer", Object="{}")
    assert (code, status) == ("ResourceNotFoundException", 404)
    code, message, _ = error_of(client.put_profile_object, DomainName=domain, ObjectTypeName="Missing", Object="{}")
    assert code == "ResourceNotFoundException" and "Missing" in message
    code, _, _ = error_of(
        client.batch_put_profile_object,
        DomainName=domain,
        ObjectTypeName="Missing",
        Items=[{"Id": "a", "Object": "{}"}],
    )
    assert code == "ResourceNotFoundException"


def test_batch_put_reports_each_item_under_http_200(client, domain):
    create_customer_object_type(client, domain)
    response = client.batch_put_profile_object(
        DomainName=domain,
        ObjectTypeName="Customer",
        Items=[
            {"Id": "row-1", "Object": customer("C1", email="a@example.com")},
            {"Id": "row-2", "Object": "{not json"},
            {"Id": "row-3", "Object": json.dumps({"email": SECRET_EMAIL})},
            {"Id": "row-4", "Object": customer("C2")},
            {"Id": "row-5", "Object": customer("C1", email="b@example.com")},
        ],
    )

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    successful = {item["Id"]: item["ProfileObjectUniqueKey"] for item in response["Successful"]}
    assert set(successful) == {"row-1", "row-4", "row-5"}
    assert successful["row-1"] == successful["row-5"]  # same unique key: row-5 overwrote row-1
    failed = {item["Id"]: item for item in response["Failed"]}
    assert set(failed) == {"row-2", "row-3"}
    assert {item["Code"] for item in failed.values()} == {400}
    assert "not valid JSON" in failed["row-2"]["Message"]
    assert "customer_id" in failed["row-3"]["Message"] and SECRET_EMAIL not in failed["row-3"]["Message"]
    matched(client, domain, 2)
    assert search_one(client, domain, "_account", "C1")["EmailAddress"] == "b@example.com"


def test_batch_put_refuses_duplicate_ids_and_oversized_objects_for_the_whole_call(client, domain):
    create_customer_object_type(client, domain)
    code, message, _ = error_of(
        client.batch_put_profile_object,
        DomainName=domain,
        ObjectTypeName="Customer",
        Items=[{"Id": "same", "Object": customer("C1")}, {"Id": "same", "Object": customer("C2")}],
    )
    assert code == "BadRequestException" and "same" in message
    # the model caps every item's Object at 256,000 characters: validation refuses the whole call
    oversized = customer("C3", notes="y" * 256_000)
    code, message, _ = error_of(
        client.batch_put_profile_object,
        DomainName=domain,
        ObjectTypeName="Customer",
        Items=[{"Id": "ok", "Object": customer("C4")}, {"Id": "big", "Object": oversized}],
    )
    assert code == "BadRequestException" and "items.2.member.object" in message and "256000" in message
    code, message, _ = error_of(
        client.put_profile_object, DomainName=domain, ObjectTypeName="Customer", Object=oversized
    )
    assert code == "BadRequestException" and "object" in message
    assert stats(client, domain)["ObjectCount"] == 0


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
    assert [len(page["Items"]) for page in pages] == [3, 3, 1]
    ids = [json.loads(item["Object"])["id"] for page in pages for item in page["Items"]]
    assert ids == [f"P{n}" for n in range(7)]
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
    assert stats(client, domain)["ObjectCount"] == 0
    code, _, _ = error_of(client.delete_profile_object, ProfileId=profile_id, **args)
    assert code == "ResourceNotFoundException"


def test_an_object_type_without_unique_key_identifies_objects_by_content(client, domain):
    client.put_profile_object_type(
        DomainName=domain,
        ObjectTypeName="Event",
        Description="events",
        AllowProfileCreation=True,
        Fields=CUSTOMER_FIELDS,
        Keys={"customer_id": [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["customer_id"]}]},
    )
    first = put(client, domain, '{"customer_id": "C1", "kind": "click"}', "Event")
    again = put(client, domain, '{"kind":"click","customer_id":"C1"}', "Event")  # same content, other layout
    other = put(client, domain, '{"customer_id": "C1", "kind": "view"}', "Event")
    assert first == again != other
    assert matched(client, domain, 2)["ProfileCount"] == 1


def test_concurrent_puts_give_exact_counts(customer_profiles_emulator, client, domain):
    create_customer_object_type(client, domain)
    threads, per_thread, stride = 8, 200, 100  # thread t puts customers t*100 .. t*100+199: they overlap
    errors: list[BaseException] = []

    def work(t: int) -> None:
        own_client = customer_profiles_emulator.client()
        try:
            for n in range(t * stride, t * stride + per_thread):
                own_client.put_profile_object(
                    DomainName=domain, ObjectTypeName="Customer", Object=customer(f"C{n}", tier=f"t{t}")
                )
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    distinct = (threads - 1) * stride + per_thread
    assert matched(client, domain, distinct)["ProfileCount"] == distinct
    metrics = customer_profiles_emulator.metrics()["operations"]["PutProfileObject"]
    assert metrics["succeeded"] == threads * per_thread


def test_the_customer_helper_type_round_trips(client, domain):
    create_customer_object_type(client, domain)
    got = client.get_profile_object_type(DomainName=domain, ObjectTypeName="Customer")
    assert got["Fields"] == CUSTOMER_FIELDS and got["Keys"] == CUSTOMER_KEYS
