"""Domains (CreateDomain, GetDomain, UpdateDomain, DeleteDomain, ListDomains) and their tags, on either target.

Error shapes are the ones the API reference gives each operation: BadRequestException (400) for input that breaks
a documented constraint, ResourceNotFoundException (404) for what does not exist. A constraint violation may also
come back as the common ValidationError (400), so those tests accept either name.
"""

from __future__ import annotations

import asyncio

import pytest
from helpers import error_of

pytestmark = pytest.mark.parity

INVALID_INPUT = {"BadRequestException", "ValidationException", "ValidationError"}


def test_domain_lifecycle(target, client):
    created = target.create_domain("lifecycle", Tags={"team": "crm"})
    name = created["DomainName"]
    assert created["DefaultExpirationDays"] == 30
    assert created["Tags"] == {"team": "crm"}

    updated = client.update_domain(DomainName=name, DefaultExpirationDays=90)
    assert updated["DefaultExpirationDays"] == 90

    got = client.get_domain(DomainName=name)
    assert got["DefaultExpirationDays"] == 90
    assert all(got.get("Stats", {}).get(count, 0) == 0 for count in ("ProfileCount", "ObjectCount"))
    assert got["LastUpdatedAt"] >= got["CreatedAt"]

    code, _, status = error_of(client.create_domain, DomainName=name, DefaultExpirationDays=30)
    assert (code, status) == ("BadRequestException", 400)  # the name is taken

    assert client.delete_domain(DomainName=name)["Message"]
    code, _, status = error_of(client.get_domain, DomainName=name)
    assert (code, status) == ("ResourceNotFoundException", 404)


def test_an_async_client_reaches_the_target(target, domain):
    # the provider's deferrable triggers talk to Customer Profiles through aiobotocore
    from aiobotocore.session import get_session

    async def read() -> dict:
        async with get_session().create_client("customer-profiles", **target.client_kwargs) as client:
            return await client.get_domain(DomainName=domain)

    assert asyncio.run(read())["DomainName"] == domain


def test_list_domains_pages_through_next_token(target, pager):
    names = [target.create_domain(f"page{n}")["DomainName"] for n in range(5)]
    pages = list(pager.iterate_pages("list_domains", MaxResults=2))
    assert all(len(page["Items"]) <= 2 for page in pages)
    listed = [item["DomainName"] for page in pages for item in page["Items"]]
    assert len(pages) >= 3  # at least our five domains, two a page
    assert sorted(name for name in listed if name in names) == sorted(names)  # each one exactly once


@pytest.mark.parametrize(
    "arguments",
    [
        {"DomainName": "has space", "DefaultExpirationDays": 1},  # DomainName: ^[a-zA-Z0-9_-]+$
        {"DomainName": "x" * 65, "DefaultExpirationDays": 1},  # DomainName: 1..64
        {"DefaultExpirationDays": 1099},  # DefaultExpirationDays: 1..1098
    ],
    ids=["name-pattern", "name-length", "expiration-above-max"],
)
def test_invalid_create_domain_input_is_a_400(target, client, arguments):
    # (botocore itself refuses values below a minimum, so only the server-side constraints are sent)
    # a valid name under the session prefix, so that nothing is left behind should a target accept the call
    code, _, status = error_of(client.create_domain, **{"DomainName": target.domain_name("invalid"), **arguments})
    assert code in INVALID_INPUT and status == 400


def test_missing_domains_are_not_found(client, target):
    missing = target.domain_name("missing")
    for call in (client.get_domain, client.delete_domain, client.list_profile_object_types):
        code, _, status = error_of(call, DomainName=missing)
        assert (code, status) == ("ResourceNotFoundException", 404), call
    code, _, status = error_of(client.update_domain, DomainName=missing, DefaultExpirationDays=5)
    assert (code, status) == ("ResourceNotFoundException", 404)


def test_tags_add_list_remove_on_a_domain(target, client):
    name = target.create_domain("tags", Tags={"team": "crm"})["DomainName"]
    arn = target.arn(f"domains/{name}")
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "crm"}

    client.tag_resource(resourceArn=arn, tags={"env": "test", "team": "data"})
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "data", "env": "test"}
    assert client.get_domain(DomainName=name)["Tags"] == {"team": "data", "env": "test"}

    client.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "test"}
    client.untag_resource(resourceArn=arn, tagKeys=["env"])
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {}


def test_tags_on_an_object_type_are_separate_from_the_domain(target, client, domain):
    client.put_profile_object_type(
        DomainName=domain,
        ObjectTypeName="CRMContact",
        Description="contacts from the CRM",
        Fields={"id": {"Source": "_source.id", "Target": "_profile.AccountNumber"}},
        Keys={"crm_id": [{"StandardIdentifiers": ["PROFILE", "UNIQUE"], "FieldNames": ["id"]}]},
    )
    type_arn = target.arn(f"domains/{domain}/object-types/CRMContact")
    client.tag_resource(resourceArn=type_arn, tags={"source": "crm"})
    assert client.list_tags_for_resource(resourceArn=type_arn)["tags"] == {"source": "crm"}
    assert client.list_tags_for_resource(resourceArn=target.arn(f"domains/{domain}"))["tags"] == {}


def test_tags_of_a_missing_resource_are_not_found(target, client, domain):
    for resource in (f"domains/{target.domain_name('nowhere')}", f"domains/{domain}/object-types/Missing"):
        arn = target.arn(resource)
        code, _, status = error_of(client.tag_resource, resourceArn=arn, tags={"a": "b"})
        assert (code, status) == ("ResourceNotFoundException", 404), resource
        code, _, status = error_of(client.list_tags_for_resource, resourceArn=arn)
        assert (code, status) == ("ResourceNotFoundException", 404), resource


def test_at_most_fifty_tags(target, client):
    # TagResource: "You can associate as many as 50 tags with a resource."
    name = target.create_domain("fifty", Tags={f"k{i}": "v" for i in range(45)})["DomainName"]
    arn = target.arn(f"domains/{name}")
    code, _, status = error_of(client.tag_resource, resourceArn=arn, tags={f"n{i}": "v" for i in range(6)})
    assert code in INVALID_INPUT and status == 400
    assert len(client.list_tags_for_resource(resourceArn=arn)["tags"]) == 45
