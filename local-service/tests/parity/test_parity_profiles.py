"""CreateProfile, UpdateProfile, DeleteProfile, BatchGetProfile, SearchProfiles, profile keys and MergeProfiles.

Assertions follow the API reference: UpdateProfile clears a field given as an empty string and keeps a field left
out; SearchProfiles pages 20 items by default and ORs its keys unless LogicalOperator is AND; MergeProfiles moves
keys and objects to the main profile, keeps the main profile's value on a conflict unless FieldSourceProfileIds
names another source ("even if it is a NULL value"), and deletes the merged profiles.
"""

from __future__ import annotations

import json
import re

import pytest
from helpers import (
    create_customer_object_type,
    customer,
    error_code,
    get_profile,
    profile_ids,
    search_items,
    search_one,
)
from matching_support import eventually, wait_for_stats

pytestmark = pytest.mark.parity


def searched(client, domain, key_name, value, expected: set[str]) -> None:
    """Wait until SearchProfiles by ``key_name`` finds exactly ``expected`` (the index follows a write)."""
    eventually(
        lambda: profile_ids(search_items(client, domain, key_name, value)),
        lambda found: found == expected,
        f"search by {key_name} to find {len(expected)} profile(s)",
    )


def found_by(item: dict) -> set[tuple[str, tuple[str, ...]]]:
    """An item's FoundByItems as a set of (key name, values): the reference gives them no order."""
    return {(found["KeyName"], tuple(found["Values"])) for found in item["FoundByItems"]}


def profile_count(count: int):
    return lambda stats: stats["ProfileCount"] == count


def test_create_and_batch_get(client, domain):
    fields = {
        "FirstName": "Ana",
        "Gender": "FEMALE",
        "Address": {"City": "Porto", "Country": "PT"},
        "Attributes": {"tier": "gold"},
    }
    profile_id = client.create_profile(DomainName=domain, **fields)["ProfileId"]
    assert re.fullmatch("[a-f0-9]{32}", profile_id)  # the model's ProfileId pattern
    missing = "f" * 32
    response = client.batch_get_profile(DomainName=domain, ProfileIds=[profile_id, missing])
    assert [profile["ProfileId"] for profile in response["Profiles"]] == [profile_id]
    assert {name: response["Profiles"][0].get(name) for name in fields} == fields
    assert [error["ProfileId"] for error in response["Errors"]] == [missing]
    wait_for_stats(client, domain, profile_count(1))


def test_update_clears_empty_strings_and_keeps_omitted_fields(client, domain):
    profile_id = client.create_profile(
        DomainName=domain,
        FirstName="Ana",
        LastName="Lima",
        EmailAddress="ana@example.com",
        Address={"Address1": "1 Rua", "City": "Porto", "Country": "PT"},
        Attributes={"tier": "gold", "segment": "b2c"},
    )["ProfileId"]
    client.update_profile(
        DomainName=domain,
        ProfileId=profile_id,
        LastName="",
        BusinessName="Lima Lda",
        Address={"City": "", "PostalCode": "4000"},
        Attributes={"tier": "", "region": "north"},
    )
    profile = get_profile(client, domain, profile_id)
    kept = ("FirstName", "EmailAddress", "BusinessName")
    assert [profile.get(name) for name in kept] == ["Ana", "ana@example.com", "Lima Lda"]
    assert "LastName" not in profile
    assert profile["Address"] == {"Address1": "1 Rua", "Country": "PT", "PostalCode": "4000"}
    assert profile["Attributes"] == {"segment": "b2c", "region": "north"}
    # the search indexes follow: the cleared email no longer finds the profile
    searched(client, domain, "_email", "ana@example.com", {profile_id})
    client.update_profile(DomainName=domain, ProfileId=profile_id, EmailAddress="", Address={"Address1": ""})
    searched(client, domain, "_email", "ana@example.com", set())
    assert "EmailAddress" not in get_profile(client, domain, profile_id)
    assert get_profile(client, domain, profile_id)["Address"] == {"Country": "PT", "PostalCode": "4000"}
    assert error_code(client.update_profile, DomainName=domain, ProfileId="0" * 32, FirstName="x") == (
        "ResourceNotFoundException"
    )


def test_delete_profile_removes_its_objects_and_keys(client, domain):
    create_customer_object_type(client, domain)
    client.put_profile_object(DomainName=domain, ObjectTypeName="Customer", Object=customer("C1"))
    client.put_profile_object(DomainName=domain, ObjectTypeName="Customer", Object=customer("C2"))
    profile_id = search_one(client, domain, "customer_id", "C1")["ProfileId"]
    search_one(client, domain, "customer_id", "C2")
    client.add_profile_key(DomainName=domain, ProfileId=profile_id, KeyName="loyalty", Values=["L1"])
    searched(client, domain, "loyalty", "L1", {profile_id})

    assert client.delete_profile(DomainName=domain, ProfileId=profile_id)["Message"]
    wait_for_stats(client, domain, lambda stats: (stats["ProfileCount"], stats["ObjectCount"]) == (1, 1))
    for key_name, value in (("customer_id", "C1"), ("loyalty", "L1"), ("_profileId", profile_id)):
        searched(client, domain, key_name, value, set())
    assert error_code(client.delete_profile, DomainName=domain, ProfileId=profile_id) == "ResourceNotFoundException"
    # a new object with the same customer id makes a new profile
    client.put_profile_object(DomainName=domain, ObjectTypeName="Customer", Object=customer("C1"))
    assert search_one(client, domain, "customer_id", "C1")["ProfileId"] != profile_id


def test_search_with_additional_keys_and_or_and(client, domain):
    ana = client.create_profile(DomainName=domain, FirstName="Ana", LastName="Lima", EmailAddress="ana@x.io")[
        "ProfileId"
    ]
    other_ana = client.create_profile(DomainName=domain, FirstName="Ana", LastName="Lima")["ProfileId"]
    carla = client.create_profile(DomainName=domain, EmailAddress="carla@x.io")["ProfileId"]
    client.add_profile_key(DomainName=domain, ProfileId=ana, KeyName="segment", Values=["vip"])

    keys = {
        "KeyName": "_fullName",
        "Values": ["Ana Lima"],
        "AdditionalSearchKeys": [
            {"KeyName": "_email", "Values": ["ana@x.io", "carla@x.io"]},
            {"KeyName": "segment", "Values": ["vip"]},
        ],
    }
    either = eventually(  # OR is the default
        lambda: client.search_profiles(DomainName=domain, **keys)["Items"],
        lambda items: profile_ids(items) == {ana, other_ana, carla},
        "the three profiles indexed",
    )
    by_id = {item["ProfileId"]: found_by(item) for item in either}
    assert by_id[ana] == {("_fullName", ("Ana Lima",)), ("_email", ("ana@x.io",)), ("segment", ("vip",))}
    assert by_id[other_ana] == {("_fullName", ("Ana Lima",))}
    assert by_id[carla] == {("_email", ("carla@x.io",))}

    both = client.search_profiles(DomainName=domain, LogicalOperator="AND", **keys)["Items"]
    assert profile_ids(both) == {ana}
    assert {key_name for key_name, _ in found_by(both[0])} == {"_fullName", "_email", "segment"}
    explicit_or = client.search_profiles(DomainName=domain, LogicalOperator="OR", **keys)["Items"]
    assert profile_ids(explicit_or) == profile_ids(either)


def test_search_pages_with_the_default_and_a_given_page_size(pager, client, domain):
    members = set()
    for n in range(23):
        profile_id = client.create_profile(DomainName=domain, FirstName=f"P{n}")["ProfileId"]
        client.add_profile_key(DomainName=domain, ProfileId=profile_id, KeyName="club", Values=["gold"])
        members.add(profile_id)
    client.create_profile(DomainName=domain, FirstName="outsider")
    eventually(
        lambda: list(pager.iterate_items("search_profiles", DomainName=domain, KeyName="club", Values=["gold"])),
        lambda found: len(found) == len(members),
        "every member indexed",
    )

    first = client.search_profiles(DomainName=domain, KeyName="club", Values=["gold"])
    assert len(first["Items"]) == 20 and first["NextToken"]  # the documented default page size
    pages = list(
        pager.iterate_pages("search_profiles", DomainName=domain, KeyName="club", Values=["gold"], MaxResults=7)
    )
    assert all(len(page["Items"]) <= 7 for page in pages) and len(pages) >= 4
    assert profile_ids(item for page in pages for item in page["Items"]) == members
    everything = list(pager.iterate_items("search_profiles", DomainName=domain, KeyName="club", Values=["gold"]))
    assert len(everything) == 23


def test_add_and_delete_profile_keys(client, domain):
    profile_id = client.create_profile(DomainName=domain, FirstName="Ana")["ProfileId"]
    added = client.add_profile_key(DomainName=domain, ProfileId=profile_id, KeyName="loyalty", Values=["L1", "L2"])
    assert (added["KeyName"], added["Values"]) == ("loyalty", ["L1", "L2"])
    searched(client, domain, "loyalty", "L2", {profile_id})
    # a predefined key added by hand is searchable and compares like the predefined key
    client.add_profile_key(DomainName=domain, ProfileId=profile_id, KeyName="_email", Values=["Ana@Work.example"])
    searched(client, domain, "_email", "ana@work.example", {profile_id})

    assert client.delete_profile_key(DomainName=domain, ProfileId=profile_id, KeyName="loyalty", Values=["L1"])[
        "Message"
    ]
    searched(client, domain, "loyalty", "L1", set())
    assert profile_ids(search_items(client, domain, "loyalty", "L2")) == {profile_id}
    assert (
        error_code(client.delete_profile_key, DomainName=domain, ProfileId=profile_id, KeyName="loyalty", Values=["L9"])
        == "ResourceNotFoundException"
    )
    assert (
        error_code(client.add_profile_key, DomainName=domain, ProfileId="a" * 32, KeyName="loyalty", Values=["L1"])
        == "ResourceNotFoundException"
    )


def test_merge_moves_keys_and_objects_and_resolves_fields(pager, client, domain):
    create_customer_object_type(client, domain)
    for customer_id in ("C1", "C2", "C3"):
        client.put_profile_object(DomainName=domain, ObjectTypeName="Customer", Object=customer(customer_id))
    main, second, third = (search_one(client, domain, "customer_id", c)["ProfileId"] for c in ("C1", "C2", "C3"))
    client.update_profile(
        DomainName=domain,
        ProfileId=main,
        FirstName="Ana",
        LastName="Lima",
        Attributes={"tier": "gold", "region": "north"},
    )
    client.update_profile(
        DomainName=domain,
        ProfileId=second,
        FirstName="Anna",
        LastName="Lyma",
        EmailAddress="anna@example.com",
        Attributes={"tier": "silver", "source": "web"},
    )
    client.update_profile(DomainName=domain, ProfileId=third, PhoneNumber="+15550100", BirthDate="1990-01-01")
    client.add_profile_key(DomainName=domain, ProfileId=third, KeyName="loyalty", Values=["L3"])
    searched(client, domain, "loyalty", "L3", {third})

    message = client.merge_profiles(
        DomainName=domain,
        MainProfileId=main,
        ProfileIdsToBeMerged=[second, third],
        FieldSourceProfileIds={"LastName": second, "Attributes": {"tier": second}, "BirthDate": second},
    )["Message"]
    assert message

    merged = get_profile(client, domain, main)
    assert merged["FirstName"] == "Ana"  # conflict: the main profile wins
    assert merged["LastName"] == "Lyma"  # unless FieldSourceProfileIds names another source
    assert "BirthDate" not in merged  # ... even when that source has no value
    assert merged["EmailAddress"] == "anna@example.com"  # missing on main: taken from a merged profile
    assert merged["PhoneNumber"] == "+15550100"
    assert merged["Attributes"] == {"tier": "silver", "region": "north", "source": "web"}
    # keys and objects moved to the main profile
    for key_name, value in (("customer_id", "C2"), ("customer_id", "C3"), ("loyalty", "L3")):
        searched(client, domain, key_name, value, {main})
    objects = list(
        pager.iterate_items("list_profile_objects", DomainName=domain, ObjectTypeName="Customer", ProfileId=main)
    )
    assert sorted(json.loads(o["Object"])["customer_id"] for o in objects) == ["C1", "C2", "C3"]
    # the merged profiles are gone
    gone = client.batch_get_profile(DomainName=domain, ProfileIds=[second, third])
    assert gone["Profiles"] == [] and {e["ProfileId"] for e in gone["Errors"]} == {second, third}
    searched(client, domain, "_profileId", second, set())
    wait_for_stats(client, domain, lambda stats: (stats["ProfileCount"], stats["ObjectCount"]) == (1, 3))
    # a later object of a merged customer lands on the main profile
    client.put_profile_object(DomainName=domain, ObjectTypeName="Customer", Object=customer("C2", tier="bronze"))
    eventually(
        lambda: list(
            pager.iterate_items("list_profile_objects", DomainName=domain, ObjectTypeName="Customer", ProfileId=main)
        ),
        lambda objects: {"customer_id": "C2", "tier": "bronze"} in [json.loads(o["Object"]) for o in objects],
        "the new C2 object on the main profile",
    )
    wait_for_stats(client, domain, profile_count(1))
