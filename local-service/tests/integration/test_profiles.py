"""Profiles where the local service goes beyond what AWS documents: key normalisation, merge refusals, the
exact shape of BatchGetProfile's answer and the update time. The documented rest is in parity/."""

from __future__ import annotations

from helpers import error_code, get_profile, profile_ids, search_items, stats


def test_batch_get_returns_only_the_fields_set_and_a_404_per_missing_id(client, domain):
    profile_id = client.create_profile(DomainName=domain, FirstName="Ana", Attributes={"tier": "gold"})["ProfileId"]
    missing = "f" * 32
    response = client.batch_get_profile(DomainName=domain, ProfileIds=[profile_id, missing])
    assert response["Profiles"] == [{"ProfileId": profile_id, "FirstName": "Ana", "Attributes": {"tier": "gold"}}]
    assert response["Errors"] == [{"Code": "404", "Message": "Profile not found", "ProfileId": missing}]


def test_update_moves_the_profile_update_time(customer_profiles_emulator, client, domain):
    state = customer_profiles_emulator.server.state
    profile_id = client.create_profile(DomainName=domain, FirstName="Ana")["ProfileId"]
    created_at = state.domains[domain].profile_updated_at[profile_id]
    state.clock.advance(30)
    client.update_profile(DomainName=domain, ProfileId=profile_id, LastName="Lima")
    assert state.domains[domain].profile_updated_at[profile_id] > created_at


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

    assert profile_ids(search_items(client, domain, "_profileId", ana)) == {ana}
    assert profile_ids(search_items(client, domain, "_account", "ACC-1")) == {ana}
    assert profile_ids(search_items(client, domain, "_email", "ana.lima@example.COM")) == {ana}  # case-insensitive
    assert profile_ids(search_items(client, domain, "_email", "bob@corp.example")) == {bob}  # BusinessEmailAddress
    assert profile_ids(search_items(client, domain, "_phone", "+15550100199")) == {ana}  # formatting does not matter
    assert profile_ids(search_items(client, domain, "_phone", "+1 555 010 0200", "+1 555 010 0300")) == {bob}
    assert profile_ids(search_items(client, domain, "_fullName", "ana lima")) == {ana}
    assert profile_ids(search_items(client, domain, "_fullName", "ANA  MARIA LIMA")) == {ana}
    assert profile_ids(search_items(client, domain, "_fullName", "Bob Lima", "Ana Lima")) == {ana, bob}
    assert search_items(client, domain, "_fullName", "Lima") == []
    assert search_items(client, domain, "_email", "nobody@example.com") == []
    assert search_items(client, domain, "no_such_key", "x") == []
    found = search_items(client, domain, "_phone", "+15550100200", "+15550100300")[0]
    assert found["FoundByItems"] == [{"KeyName": "_phone", "Values": ["+15550100200", "+15550100300"]}]
    assert found["FirstName"] == "Bob"


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
    assert get_profile(client, domain, other)["FirstName"] == "B"
