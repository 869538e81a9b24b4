"""A small object type and objects to test against: customers keyed by ``customer_id``.

``create_customer_object_type`` defines an object type whose objects look like
``{"customer_id": "C1", "email": ..., "first_name": ..., "last_name": ..., "phone": ..., "tier": ...}``:

- ``customer_id`` is the UNIQUE key (so a re-put overwrites) and a PROFILE key named
  ``customer_id`` (so a customer always lands on the same profile); it also fills
  ``AccountNumber``, which makes the profile searchable by ``_account``;
- ``email``, ``first_name``, ``last_name``, ``phone`` fill ``EmailAddress``, ``FirstName``,
  ``LastName`` and ``PhoneNumber`` (searchable by ``_email``, ``_fullName``, ``_phone``);
- ``tier`` fills the attribute ``Attributes.tier``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from matching_support import eventually

# CreateDomain and PutProfileObjectType are 1 TPS with the AWS quotas on (both targets): a client that makes a few
# in a row retries its throttled calls, as a careful client of AWS does.
PATIENT_RETRIES: dict[str, Any] = {"retries": {"mode": "standard", "max_attempts": 10}}

CUSTOMER_KEY = "customer_id"

CUSTOMER_FIELDS: dict[str, dict[str, str]] = {
    "customer_id": {"Source": "_source.customer_id", "Target": "_profile.AccountNumber", "ContentType": "STRING"},
    "email": {"Source": "_source.email", "Target": "_profile.EmailAddress", "ContentType": "EMAIL_ADDRESS"},
    "first_name": {"Source": "_source.first_name", "Target": "_profile.FirstName", "ContentType": "NAME"},
    "last_name": {"Source": "_source.last_name", "Target": "_profile.LastName", "ContentType": "NAME"},
    "phone": {"Source": "_source.phone", "Target": "_profile.PhoneNumber", "ContentType": "PHONE_NUMBER"},
    "tier": {"Source": "_source.tier", "Target": "_profile.Attributes.tier", "ContentType": "STRING"},
}
CUSTOMER_KEYS: dict[str, list[dict[str, list[str]]]] = {
    CUSTOMER_KEY: [{"StandardIdentifiers": ["UNIQUE", "PROFILE"], "FieldNames": ["customer_id"]}]
}


def create_domain(client, name: str = "retail") -> str:
    client.create_domain(DomainName=name, DefaultExpirationDays=30)
    return name


def create_customer_object_type(
    client, domain: str, name: str = "Customer", allow_profile_creation: bool = True, **extra: Any
) -> str:
    """Define the customer object type in ``domain``; ``extra`` adds PutProfileObjectType arguments."""
    client.put_profile_object_type(
        DomainName=domain,
        ObjectTypeName=name,
        Description="customers from the CRM",
        AllowProfileCreation=allow_profile_creation,
        Fields=CUSTOMER_FIELDS,
        Keys=CUSTOMER_KEYS,
        **extra,
    )
    return name


def customer(customer_id: str, **fields: Any) -> str:
    """A customer object as the JSON string PutProfileObject takes; ``fields`` add or override values."""
    return json.dumps({"customer_id": customer_id, **fields})


def error_of(call: Callable[..., Any], **kwargs: Any) -> tuple[str, str, int]:
    """The (error code, message, HTTP status) of a call that must fail."""
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


def stats(client, domain: str) -> dict[str, int]:
    """GetDomain's Stats: ProfileCount, MeteringProfileCount, ObjectCount, TotalSize."""
    return client.get_domain(DomainName=domain)["Stats"]


def search_one(
    client, domain: str, key_name: str, value: str, done: Callable[[dict[str, Any]], bool] = lambda _: True
) -> dict[str, Any]:
    """
    The one profile SearchProfiles finds for a key value once ``done`` holds for it (fails when it keeps
    finding none or several): an object is matched shortly after it is put, so the search polls.
    """
    items = eventually(
        lambda: client.search_profiles(DomainName=domain, KeyName=key_name, Values=[value])["Items"],
        lambda found: len(found) == 1 and done(found[0]),
        f"one profile found by {key_name}",
    )
    return items[0]


class Pager:
    """A boto3 client and ``NextToken`` paging for the list operations that boto3 has no paginator for.

    The list an operation returns is read from botocore's model (its output's one list member), so
    every operation pages the same way, as a client would page it against AWS.
    """

    def __init__(self, client: Any) -> None:
        self.client = client

    def iterate_pages(self, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Each response page of ``operation`` (a boto3 method name), following ``NextToken``."""
        call = getattr(self.client, operation)
        token: str | None = None
        while True:
            page = call(**kwargs, **({"NextToken": token} if token else {}))
            page.pop("ResponseMetadata", None)
            yield page
            token = page.get("NextToken")
            if not token:
                return

    def iterate_items(self, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every item of ``operation``'s list, over all pages."""
        field = self._list_field(operation)
        for page in self.iterate_pages(operation, **kwargs):
            yield from page.get(field, [])

    def _list_field(self, operation: str) -> str:
        meta = self.client.meta
        output = meta.service_model.operation_model(meta.method_to_api_mapping[operation]).output_shape
        (field,) = (name for name, shape in output.members.items() if shape.type_name == "list")
        return field


def get_profile(client, domain: str, profile_id: str) -> dict:
    """The profile, through BatchGetProfile (fails when it does not exist)."""
    response = client.batch_get_profile(DomainName=domain, ProfileIds=[profile_id])
    assert response["Errors"] == [], response["Errors"]
    return response["Profiles"][0]


def error_code(call: Callable[..., Any], **kwargs: Any) -> str:
    return error_of(call, **kwargs)[0]


def search_items(client, domain: str, key_name: str, *values: str, **kwargs: Any) -> list[dict]:
    return client.search_profiles(DomainName=domain, KeyName=key_name, Values=list(values), **kwargs)["Items"]


def profile_ids(items: list[dict]) -> set[str]:
    return {item["ProfileId"] for item in items}
