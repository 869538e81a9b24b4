"""Reading the unique key and key attributes from an object type, and the column preflight."""

from __future__ import annotations

import pytest

from airflow_provider_customerprofiles.ingest.object_type import (
    ObjectTypeKeys,
    PreflightError,
    check_columns,
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
