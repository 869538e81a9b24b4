"""PutProfileObjectType and friends: the documented rules on Keys and Fields, not-found errors and paging.

Pages the rules come from:
- PutProfileObjectType reference: Fields names 1..64 of ``^[a-zA-Z0-9_.-]+$``, Keys names 1..64 of ``^[a-zA-Z0-9_-]+$``;
- ObjectTypeKey reference: "Each ProfileObject can have only 1 UNIQUE key", FieldNames ``^[a-zA-Z0-9_-]+$``;
- ObjectTypeField reference: ContentType is one of STRING, NUMBER, PHONE_NUMBER, EMAIL_ADDRESS, NAME;
- admin guide, "Standard identifiers for setting attributes on the key": not UNIQUE and LOOKUP_ONLY together;
  PROFILE with LOOKUP_ONLY only beside a PROFILE key without NEW_ONLY or LOOKUP_ONLY (``_profileId`` excepted);
- admin guide, "Object type mapping definition details": the only supported target object is ``_profile``.
"""

from __future__ import annotations

import pytest
from helpers import error_of

pytestmark = pytest.mark.parity

INVALID_INPUT = {"BadRequestException", "ValidationException", "ValidationError"}
FIELDS = {name: {"Source": f"_source.{name}"} for name in ("id", "email", "cookie")}


def key(*identifiers: str, field: str = "id") -> list[dict]:
    return [{"StandardIdentifiers": list(identifiers), "FieldNames": [field]}]


@pytest.mark.parametrize(
    ("fields", "keys"),
    [
        (FIELDS, {"a": key("UNIQUE"), "b": key("UNIQUE", field="email")}),
        (FIELDS, {"a": key("UNIQUE", "LOOKUP_ONLY")}),
        (FIELDS, {"u": key("UNIQUE"), "c": key("PROFILE", "LOOKUP_ONLY", field="cookie")}),
        (
            FIELDS,
            {
                "u": key("UNIQUE"),
                "c": key("PROFILE", "LOOKUP_ONLY", field="cookie"),
                "e": key("PROFILE", "NEW_ONLY", field="email"),
            },
        ),
        ({"has space": {"Source": "_source.id"}}, {"k": key("UNIQUE", field="has space")}),
        ({"f" * 65: {"Source": "_source.id"}}, {"k": key("UNIQUE", field="f" * 65)}),
        (FIELDS, {"bad.key": key("UNIQUE")}),
        ({"a.b": {"Source": "_source.id"}}, {"k": key("UNIQUE", field="a.b")}),  # FieldNames: no dots
        ({"id": {"Source": "_source.id", "ContentType": "DATE"}}, {"k": key("UNIQUE")}),
        ({"id": {"Source": "_source.id", "Target": "profile.AccountNumber"}}, {"k": key("UNIQUE")}),
    ],
    ids=[
        "second-unique-key",
        "unique-and-lookup-only",
        "profile-lookup-only-alone",
        "profile-lookup-only-beside-new-only",
        "field-name-pattern",
        "field-name-length",
        "key-name-pattern",
        "key-field-name-pattern",
        "content-type-enum",
        "target-outside-profile",
    ],
)
def test_definitions_breaking_a_documented_rule_are_refused(client, domain, fields, keys):
    code, _, status = error_of(
        client.put_profile_object_type,
        DomainName=domain,
        ObjectTypeName="T",
        Description="d",
        Fields=fields,
        Keys=keys,
    )
    assert code in INVALID_INPUT and status == 400
    assert client.list_profile_object_types(DomainName=domain)["Items"] == []


def test_what_the_docs_allow_is_accepted(client, domain):
    fields = {**FIELDS, "phone": {"Source": "_source.phone", "ContentType": "PHONE_NUMBER"}}
    keys = {
        "u": key("UNIQUE"),
        "c": key("PROFILE", "LOOKUP_ONLY", field="cookie"),
        "e": key("PROFILE", field="email"),
        "p": key("PROFILE", "SECONDARY", field="phone"),
    }
    created = client.put_profile_object_type(
        DomainName=domain, ObjectTypeName="Visit", Description="visits", Fields=fields, Keys=keys
    )
    assert created["Keys"] == keys
    got = client.get_profile_object_type(DomainName=domain, ObjectTypeName="Visit")
    assert (got["Fields"], got["Keys"]) == (fields, keys)


def test_list_pages_through_every_type(pager, client, domain):
    names = {"Gamma", "Alpha", "Delta", "Beta", "Epsilon"}
    for name in names:
        client.put_profile_object_type(
            DomainName=domain,
            ObjectTypeName=name,
            Description=name.lower(),
            Fields={"id": {"Source": "_source.id"}},
            Keys={name: key("UNIQUE")},
        )
    pages = list(pager.iterate_pages("list_profile_object_types", DomainName=domain, MaxResults=2))
    assert all(len(page["Items"]) <= 2 for page in pages) and len(pages) >= 3
    items = [item for page in pages for item in page["Items"]]
    assert sorted(item["ObjectTypeName"] for item in items) == sorted(names)
    assert {item["ObjectTypeName"]: item["Description"] for item in items}["Alpha"] == "alpha"


def test_missing_domain_and_type_are_not_found(target, client, domain):
    missing_domain = target.domain_name("missing")
    for call, arguments in (
        (client.get_profile_object_type, {"DomainName": domain, "ObjectTypeName": "Nope"}),
        (client.delete_profile_object_type, {"DomainName": domain, "ObjectTypeName": "Nope"}),
        (client.get_profile_object_type, {"DomainName": missing_domain, "ObjectTypeName": "Nope"}),
        (client.list_profile_object_types, {"DomainName": missing_domain}),
        (
            client.put_profile_object_type,
            {
                "DomainName": missing_domain,
                "ObjectTypeName": "T",
                "Description": "d",
                "Fields": FIELDS,
                "Keys": {"k": key("UNIQUE")},
            },
        ),
    ):
        code, _, status = error_of(call, **arguments)
        assert (code, status) == ("ResourceNotFoundException", 404), arguments


def test_an_unknown_template_is_not_found(client):
    code, _, status = error_of(client.get_profile_object_type_template, TemplateId="Nope-nothing")
    assert (code, status) == ("ResourceNotFoundException", 404)
