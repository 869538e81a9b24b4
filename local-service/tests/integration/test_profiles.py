"""CreateProfile, UpdateProfile, DeleteProfile, SearchProfiles, MergeProfiles, BatchGetProfile and profile keys."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError
from helpers import (
    create_customer_object_type,
    customer,
    search_one,
    stats,
)
from matching_support import matched


def get(client, domain, profile_id) -> dict:
    """The profile, through BatchGetProfile (fails when it does not exist)."""
    response = client.batch_get_profile(DomainName=domain, ProfileIds=[profile_id])
    assert response["Errors"] == [], response["Errors"]
    return response["Profiles"][0]


def error_code(call, **kwargs) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return caught.value.response["Error"]["Code"]


def search(client, domain, key_name, *values, **kwargs) -> list[dict]:
    return client.search_profiles(DomainName=domain, KeyName=key_name, Values=list(values), **kwargs)["Items"]


def ids(items) -> set[str]:
    return {item["ProfileId"] for item in items}


def test_create_and_batch_get(client, domain):
    profile_id = client.create_profile(
        DomainName=domain,
        FirstName="Ana",
        Gender="FEMALE",
        Address={"City": "Porto", "Country": "PT"},
        Attributes={"tier": "gold"},
    )["ProfileId"]
    assert len(profile_id) == 32 and int(profile_id, 16) >= 0
    missing = "f" * 32
    response = client.batch_get_profile(DomainName=domain, ProfileIds=[profile_id, missing])
    assert response["Profiles"] == [
        {
            "ProfileId": profile_id,
            "FirstName": "Ana",
            "Gender": "FEMALE",
            "Address": {"City": "Porto", "Country": "PT"},
            "Attributes": {"tier": "gold"},
        }
    ]
    assert response["Errors"] == [{"Code": "404", "Message": "Profile not found", "ProfileId": missing}]
    assert stats(client, domain)["ProfileCount"] == 1


def test_update_clears_empty_strings_and_keeps_omitted_fields(customer_profiles_emulator, client, domain):
    state = customer_profiles_emulator.server.state
    profile_id = client.create_profile(
        DomainName=domain,
        FirstName="Ana",
        LastName="Lima",
        EmailAddress="ana@example.com",
        Address={"Address1": "1 Rua", "City": "Porto", "Country": "PT"},
        Attributes={"tier": "gold", "segment": "b2c"},
    )["ProfileId"]
    created_at = state.domains[domain].profile_updated_at[profile_id]
    state.clock.advance(30)

    client.update_profile(
        DomainName=domain,
        ProfileId=profile_id,
        LastName="",
        BusinessName="Lima Lda",
        Address={"City": "", "PostalCode": "4000"},
        Attributes={"tier": "", "region": "north"},
    )
    assert get(client, domain, profile_id) == {
        "ProfileId": profile_id,
        "FirstName": "Ana",
        "EmailAddress": "ana@example.com",
        "BusinessName": "Lima Lda",
        "Address": {"Address1": "1 Rua", "Country": "PT", "PostalCode": "4000"},
        "Attributes": {"segment": "b2c", "region": "north"},
    }
    assert state.domains[domain].profile_updated_at[profile_id] > created_at
    # the search indexes follow: the cleared email no longer finds the profile
    client.update_profile(DomainName=domain, ProfileId=profile_id, EmailAddress="", Address={"Address1": ""})
    assert search(client, domain, "_email", "ana@example.com") == []
    assert "EmailAddress" not in get(client, domain, profile_id)
    assert get(client, domain, profile_id)["Address"] == {"Country": "PT", "PostalCode": "4000"}
    assert error_code(client.update_profile, DomainName=domain, ProfileId="0" * 32, FirstName="x") == (
        "ResourceNotFoundException"
    )


def test_delete_profile_removes_its_objects_and_keys(pager, client, domain):
    create_customer_object_type(client, domain)
    client.put_profile_object(DomainName=domain, ObjectTypeName="Customer", Object=customer("C1"))
    client.put_profile_object(DomainName=domain, ObjectTypeName="Customer", Object=customer("C2"))
    profile_id = search_one(client, domain, "customer_id", "C1")["ProfileId"]
    client.add_profile_key(DomainName=domain, ProfileId=profile_id, KeyName="loyalty", Values=["L1"])
    matched(client, domain, 2)

    assert client.delete_profile(DomainName=domain, ProfileId=profile_id)["Message"]
    assert stats(client, domain)["ObjectCount"] == 1
    assert stats(client, domain)["ProfileCount"] == 1
    assert search(client, domain, "customer_id", "C1") == []
    assert search(client, domain, "loyalty", "L1") == []
    assert search(client, domain, "_profileId", profile_id) == []
    assert error_code(client.delete_profile, DomainName=domain, ProfileId=profile_id) == "ResourceNotFoundException"
    # a new object with the same customer id makes a new profile
    client.put_profile_object(DomainName=domain, ObjectTypeName="Customer", Object=customer("C1"))
    assert search_one(client, domain, "customer_id", "C1")["ProfileId"] != profile_id


def test_search_by_each_predefined_key(client, domain):
    ana = client.create_profile(
        DomainName=domain,
        AccountNumber="ACC-1",
        FirstName="Ana",
        MiddleName="Maria",
        LastName="Lima",
        PersonalEmailAddress="Ana.Lima@Example.com",
        MobilePhoneNumber="+1 (555) 010-0199",
    )["ProfileId"]
    bob = client.create_profile(
        DomainName=domain,
        FirstName="Bob",
        LastName="Lima",
        BusinessEmailAddress="bob@corp.example",
        HomePhoneNumber="+15550100200",
        PhoneNumber="+15550100300",
    )["ProfileId"]
    client.create_profile(DomainName=domain, FirstName="Carla", EmailAddress="carla@example.com")

    assert ids(search(client, domain, "_profileId", ana)) == {ana}
    assert ids(search(client, domain, "_account", "ACC-1")) == {ana}
    assert ids(search(client, domain, "_email", "ana.lima@example.COM")) == {ana}  # case-insensitive
    assert ids(search(client, domain, "_email", "bob@corp.example")) == {bob}  # BusinessEmailAddress
    assert ids(search(client, domain, "_phone", "+15550100199")) == {ana}  # formatting does not matter
    assert ids(search(client, domain, "_phone", "+1 555 010 0200", "+1 555 010 0300")) == {bob}
    assert ids(search(client, domain, "_fullName", "ana lima")) == {ana}
    assert ids(search(client, domain, "_fullName", "ANA  MARIA LIMA")) == {ana}
    assert ids(search(client, domain, "_fullName", "Bob Lima", "Ana Lima")) == {ana, bob}
    assert search(client, domain, "_fullName", "Lima") == []
    assert search(client, domain, "_email", "nobody@example.com") == []
    assert search(client, domain, "no_such_key", "x") == []
    found = search(client, domain, "_phone", "+15550100200", "+15550100300")[0]
    assert found["FoundByItems"] == [{"KeyName": "_phone", "Values": ["+15550100200", "+15550100300"]}]
    assert found["FirstName"] == "Bob"


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
    either = client.search_profiles(DomainName=domain, **keys)["Items"]  # OR is the default
    assert ids(either) == {ana, other_ana, carla}
    by_id = {item["ProfileId"]: item["FoundByItems"] for item in either}
    assert by_id[ana] == [
        {"KeyName": "_fullName", "Values": ["Ana Lima"]},
        {"KeyName": "_email", "Values": ["ana@x.io"]},
        {"KeyName": "segment", "Values": ["vip"]},
    ]
    assert by_id[other_ana] == [{"KeyName": "_fullName", "Values": ["Ana Lima"]}]
    assert by_id[carla] == [{"KeyName": "_email", "Values": ["carla@x.io"]}]

    both = client.search_profiles(DomainName=domain, LogicalOperator="AND", **keys)["Items"]
    assert ids(both) == {ana}
    assert [item["KeyName"] for item in both[0]["FoundByItems"]] == ["_fullName", "_email", "segment"]
    explicit_or = client.search_profiles(DomainName=domain, LogicalOperator="OR", **keys)["Items"]
    assert ids(explicit_or) == ids(either)


def test_search_pages_with_the_default_and_a_given_page_size(pager, client, domain):
    members = set()
    for n in range(23):
        profile_id = client.create_profile(DomainName=domain, FirstName=f"P{n}")["ProfileId"]
        client.add_profile_key(DomainName=domain, ProfileId=profile_id, KeyName="club", Values=["gold"])
        members.add(profile_id)
    client.create_profile(DomainName=domain, FirstName="outsider")

    first = client.search_profiles(DomainName=domain, KeyName="club", Values=["gold"])
    assert len(first["Items"]) == 20 and first["NextToken"]  # the documented default page size
    pages = list(
        pager.iterate_pages("search_profiles", DomainName=domain, KeyName="club", Values=["gold"], MaxResults=7)
    )
    assert [len(page["Items"]) for page in pages] == [7, 7, 7, 2]
    assert ids(item for page in pages for item in page["Items"]) == members
    everything = list(pager.iterate_items("search_profiles", DomainName=domain, KeyName="club", Values=["gold"]))
    assert len(everything) == 23


def test_add_and_delete_profile_keys(client, domain):
    profile_id = client.create_profile(DomainName=domain, FirstName="Ana")["ProfileId"]
    added = client.add_profile_key(DomainName=domain, ProfileId=profile_id, KeyName="loyalty", Values=["L1", "L2"])
    assert (added["KeyName"], added["Values"]) == ("loyalty", ["L1", "L2"])
    assert ids(search(client, domain, "loyalty", "L2")) == {profile_id}
    # a predefined key added by hand is searchable and compares like the predefined key
    client.add_profile_key(DomainName=domain, ProfileId=profile_id, KeyName="_email", Values=["Ana@Work.example"])
    assert ids(search(client, domain, "_email", "ana@work.example")) == {profile_id}

    assert client.delete_profile_key(DomainName=domain, ProfileId=profile_id, KeyName="loyalty", Values=["L1"])[
        "Message"
    ]
    assert search(client, domain, "loyalty", "L1") == []
    assert ids(search(client, domain, "loyalty", "L2")) == {profile_id}
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

    message = client.merge_profiles(
        DomainName=domain,
        MainProfileId=main,
        ProfileIdsToBeMerged=[second, third],
        FieldSourceProfileIds={"LastName": second, "Attributes": {"tier": second}, "BirthDate": second},
    )["Message"]
    assert message

    merged = get(client, domain, main)
    assert merged["FirstName"] == "Ana"  # conflict: the main profile wins
    assert merged["LastName"] == "Lyma"  # unless FieldSourceProfileIds names another source
    assert "BirthDate" not in merged  # ... even when that source has no value
    assert merged["EmailAddress"] == "anna@example.com"  # missing on main: taken from a merged profile
    assert merged["PhoneNumber"] == "+15550100"
    assert merged["Attributes"] == {"tier": "silver", "region": "north", "source": "web"}
    # keys and objects moved to the main profile
    for key_name, value in (("customer_id", "C2"), ("customer_id", "C3"), ("loyalty", "L3")):
        assert ids(search(client, domain, key_name, value)) == {main}
    objects = list(
        pager.iterate_items("list_profile_objects", DomainName=domain, ObjectTypeName="Customer", ProfileId=main)
    )
    assert sorted(json.loads(o["Object"])["customer_id"] for o in objects) == ["C1", "C2", "C3"]
    # the merged profiles are gone
    gone = client.batch_get_profile(DomainName=domain, ProfileIds=[second, third])
    assert gone["Profiles"] == [] and {e["ProfileId"] for e in gone["Errors"]} == {second, third}
    assert search(client, domain, "_profileId", second) == []
    assert stats(client, domain)["ProfileCount"] == 1 and stats(client, domain)["ObjectCount"] == 3
    # a later object of a merged customer lands on the main profile
    client.put_profile_object(DomainName=domain, ObjectTypeName="Customer", Object=customer("C2", tier="bronze"))
    assert stats(client, domain)["ProfileCount"] == 1


def test_merge_refuses_unknown_and_inconsistent_ids(client, domain):
    main = client.create_profile(DomainName=domain, FirstName="A")["ProfileId"]
    other = client.create_profile(DomainName=domain, FirstName="B")["ProfileId"]
    stranger = client.create_profile(DomainName=domain, FirstName="C")["ProfileId"]
    unknown = "e" * 32
    merge = client.merge_profiles
    assert error_code(merge, DomainName=domain, MainProfileId=unknown, ProfileIdsToBeMerged=[other]) == (
        "ResourceNotFoundException"
    )
    assert error_code(merge, DomainName=domain, MainProfileId=main, ProfileIdsToBeMerged=[other, unknown]) == (
        "ResourceNotFoundException"
    )
    assert error_code(merge, DomainName=domain, MainProfileId=main, ProfileIdsToBeMerged=[main]) == (
        "BadRequestException"
    )
    assert (
        error_code(
            merge,
            DomainName=domain,
            MainProfileId=main,
            ProfileIdsToBeMerged=[other],
            FieldSourceProfileIds={"FirstName": stranger},
        )
        == "BadRequestException"
    )
    # nothing changed
    assert stats(client, domain)["ProfileCount"] == 3
    assert get(client, domain, other)["FirstName"] == "B"
