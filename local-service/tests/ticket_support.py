"""Support tickets to test profile matching with: a family email shared by two profiles, and a mobile number each.

The Ticket object type has a UNIQUE ``ticket`` key, a PROFILE key ``family_email`` and a PROFILE+SECONDARY key
``mobile``; ``first`` and ``city`` fill the profile's FirstName and Address.City.
"""

from __future__ import annotations

import json

from matching_support import eventually

FIELDS = {
    "id": {"Source": "_source.id"},
    "email": {"Source": "_source.email", "Target": "_profile.EmailAddress", "ContentType": "EMAIL_ADDRESS"},
    "phone": {"Source": "_source.phone", "ContentType": "PHONE_NUMBER"},
    "first": {"Source": "_source.first", "Target": "_profile.FirstName"},
    "city": {"Source": "_source.city", "Target": "_profile.Address.City"},
}
KEYS = {
    "ticket": [{"StandardIdentifiers": ["UNIQUE"], "FieldNames": ["id"]}],
    "family_email": [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["email"]}],
    "mobile": [{"StandardIdentifiers": ["PROFILE", "SECONDARY"], "FieldNames": ["phone"]}],
}


def define(client, domain: str, allow_profile_creation: bool) -> None:
    client.put_profile_object_type(
        DomainName=domain,
        ObjectTypeName="Ticket",
        Description="tickets",
        AllowProfileCreation=allow_profile_creation,
        Fields=FIELDS,
        Keys=KEYS,
    )


def put(client, domain: str, **values) -> None:
    client.put_profile_object(DomainName=domain, ObjectTypeName="Ticket", Object=json.dumps(values))


def profile(client, domain: str, profile_id: str) -> dict:
    return client.batch_get_profile(DomainName=domain, ProfileIds=[profile_id])["Profiles"][0]


def tickets_of(client, domain: str, profile_id: str) -> list[dict]:
    return client.list_profile_objects(DomainName=domain, ObjectTypeName="Ticket", ProfileId=profile_id)["Items"]


def shared_email_profiles(client, domain: str) -> tuple[str, str]:
    """Two profiles answering to the same family email, each with its own mobile number key."""
    ids = []
    for phone in ("+15550001", "+15550002"):
        pid = client.create_profile(DomainName=domain, EmailAddress="family@example.com")["ProfileId"]
        client.add_profile_key(DomainName=domain, ProfileId=pid, KeyName="mobile", Values=[phone])
        client.add_profile_key(DomainName=domain, ProfileId=pid, KeyName="family_email", Values=["family@example.com"])
        ids.append(pid)
    eventually(
        lambda: client.search_profiles(DomainName=domain, KeyName="family_email", Values=["family@example.com"]),
        lambda found: len(found["Items"]) == 2,
        "both family profiles indexed",
    )
    return ids[0], ids[1]
