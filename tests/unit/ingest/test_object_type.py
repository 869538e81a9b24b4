"""Reading the unique key and key attributes from an object type, and the column preflight."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from airflow_provider_customerprofiles.ingest import object_type
from airflow_provider_customerprofiles.ingest.object_type import (
    ObjectTypeKeys,
    PreflightError,
    check_columns,
    describe_target,
    keys_from_object_type,
)

ORDERS = {
    "Fields": {
        "order_id": {"Source": "_source.OrderId", "Target": "_order.OrderId"},
        "acct": {"Source": "_source.account.number", "Target": "_profile.AccountNumber"},
        "mail": {"Source": "_source.Email", "Target": "_profile.EmailAddress"},
        "macro": {"Source": "{{_source.First}} {{_source.Last}}", "Target": "_profile.FirstName"},
    },
    "Keys": {
        "_orderId": [{"StandardIdentifiers": ["ORDER", "UNIQUE"], "FieldNames": ["order_id"]}],
        "_account": [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["acct"]}],
        "fullName": [{"StandardIdentifiers": ["LOOKUP_ONLY"], "FieldNames": ["macro"]}],
    },
}


def test_unique_key_and_attributes_come_from_keys_and_field_sources():
    keys = keys_from_object_type(ORDERS)
    assert keys.unique_key == ("OrderId",)
    assert keys.key_attributes == {"OrderId", "account"}


def test_no_unique_key():
    keys = keys_from_object_type({"Fields": ORDERS["Fields"], "Keys": {"_account": ORDERS["Keys"]["_account"]}})
    assert keys.unique_key is None


def test_keys_read_only_the_source_fields_they_name():
    keys = keys_from_object_type(
        {
            "Fields": {"macro": ORDERS["Fields"]["macro"], "mail": ORDERS["Fields"]["mail"]},
            "Keys": {
                "_email": [{"FieldNames": ["macro", "mail"]}],  # a macro field before a _source one
                "_orderId": [{"StandardIdentifiers": ["UNIQUE"], "FieldNames": ["undeclared"]}],
                "_noFields": [{"StandardIdentifiers": ["UNIQUE"]}],
            },
        }
    )
    assert keys == ObjectTypeKeys(None, frozenset({"Email"}))


@pytest.mark.parametrize("missing", ["Fields", "Keys"])
def test_an_object_type_without_fields_or_keys_has_no_key_attributes(missing):
    partial = {name: section for name, section in ORDERS.items() if name != missing}
    assert keys_from_object_type(partial) == ObjectTypeKeys(None, frozenset())


def test_missing_key_columns_are_named_with_the_file():
    keys = ObjectTypeKeys(("OrderId",), frozenset({"OrderId", "account"}))
    with pytest.raises(PreflightError, match=r"f\.parquet does not provide the attribute\(s\) \['account'\]"):
        check_columns(["OrderId", "Email"], None, keys, "f.parquet")


def test_renamed_columns_cover_keys():
    keys = ObjectTypeKeys(("OrderId",), frozenset({"OrderId"}))
    check_columns(["order_id"], {"order_id": "OrderId"}, keys, "f.parquet")
    with pytest.raises(PreflightError, match=r"OrderId"):
        check_columns(["order_id"], {"order_id": "Order"}, keys, "f.parquet")


def test_selected_columns_must_exist():
    keys = ObjectTypeKeys(None, frozenset())
    with pytest.raises(PreflightError, match=r"f\.parquet has no column\(s\) \['nope'\]"):
        check_columns(["a"], {"a": "a", "nope": "n"}, keys, "f.parquet")


def test_describe_target_reads_the_keys_of_the_object_type(customer_profiles_emulator):
    client = customer_profiles_emulator.client()
    client.create_domain(DomainName="shop", DefaultExpirationDays=30)
    client.put_profile_object_type(
        DomainName="shop",
        ObjectTypeName="Accounts",
        Description="accounts",
        Fields={"acct": ORDERS["Fields"]["acct"], "mail": ORDERS["Fields"]["mail"]},
        Keys={
            "_account": [{"StandardIdentifiers": ["PROFILE", "UNIQUE"], "FieldNames": ["acct"]}],
            "_email": [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["mail"]}],
        },
    )

    assert describe_target(client, "shop", "Accounts") == ObjectTypeKeys(
        ("account", "number"), frozenset({"account", "Email"})
    )
    with pytest.raises(PreflightError, match=r"^Object type 'Refunds' does not exist in domain 'shop'$"):
        describe_target(client, "shop", "Refunds")
    with pytest.raises(PreflightError, match=r"^Domain 'nowhere' does not exist$"):
        describe_target(client, "nowhere", "Orders")


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


class FlakyTarget:
    """A client whose reads fail with the given errors, one per call, before answering."""

    def __init__(self, *domain_errors: Exception, object_type_errors: tuple[Exception, ...] = ()) -> None:
        self.errors = {"get_domain": list(domain_errors), "get_profile_object_type": list(object_type_errors)}
        self.calls: list[dict] = []

    def _answer(self, read: str, answer: dict, **kwargs) -> dict:
        self.calls.append(kwargs)
        if self.errors[read]:
            raise self.errors[read].pop(0)
        return answer

    def get_domain(self, **kwargs) -> dict:
        return self._answer("get_domain", {}, **kwargs)

    def get_profile_object_type(self, **kwargs) -> dict:
        return self._answer("get_profile_object_type", ORDERS, **kwargs)


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The backoff sleeps, each the longest its jitter allows; a jitter that does not start at zero fails."""
    slept: list[float] = []

    def full_jitter_at_its_top(low: float, high: float) -> float:
        assert low == 0
        return high

    monkeypatch.setattr(object_type.random, "uniform", full_jitter_at_its_top)
    monkeypatch.setattr(object_type.time, "sleep", slept.append)
    return slept


def test_throttled_server_and_connection_errors_are_retried_with_growing_backoff(sleeps):
    client = FlakyTarget(
        client_error("ThrottlingException", 400),
        client_error("InternalServerException", 500),
        EndpointConnectionError(endpoint_url="http://service"),
    )

    assert describe_target(client, "shop", "Orders").unique_key == ("OrderId",)
    assert sleeps == pytest.approx([0.2, 0.4, 0.8])
    assert client.calls == [{"DomainName": "shop"}] * 4 + [{"DomainName": "shop", "ObjectTypeName": "Orders"}]


@pytest.mark.parametrize(
    "error", [client_error("InternalServerException", 500), EndpointConnectionError(endpoint_url="http://service")]
)
def test_the_sixth_failure_is_raised(sleeps, error):
    client = FlakyTarget(*[error] * 6)

    with pytest.raises(type(error)):
        describe_target(client, "shop", "Orders")
    assert len(client.calls) == 6
    assert sleeps == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2])


@pytest.mark.parametrize("read", ["domain", "object type"])
def test_other_client_errors_are_raised_at_once(sleeps, read):
    error = client_error("AccessDeniedException", 403)
    client = FlakyTarget(error) if read == "domain" else FlakyTarget(object_type_errors=(error,))

    with pytest.raises(ClientError, match="AccessDeniedException"):
        describe_target(client, "shop", "Orders")
    assert sleeps == []
