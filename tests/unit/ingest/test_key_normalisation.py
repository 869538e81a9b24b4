"""grouping_key must put together every pair of values the service may treat as one key."""

from __future__ import annotations

import pytest

from airflow_provider_customerprofiles.ingest.keys import grouping_key
from customer_profiles_local.profile_index import normalise
from tests.plain_ids import plain_id


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("K-1", "K-1 "),
        (" K-1", "K-1"),
        ("A@x.com", "a@x.com"),
        ("Straße", "STRASSE"),
        ("\uff4b\uff11", "k1"),  # full-width forms: NFKC
        ("Ann  Lee", "ann lee"),
        ("+1 (555) 010-0000", "15550100000"),
        ("+15551234567", "(555)-123-4567"),  # AWS's own example of one phone number
    ],
    ids=plain_id,
)
def test_values_the_service_may_equate_group_together(first, second):
    assert grouping_key(first) == grouping_key(second)


@pytest.mark.parametrize("content_type", ["STRING", "EMAIL_ADDRESS", "PHONE_NUMBER", "NAME"])
def test_at_least_as_broad_as_the_local_service(content_type):
    values = ["K-1", "K-1 ", " k-1", "A@x.com", "a@X.COM ", "+1 555 0100", "15550100", "Ann  Lee", "ann lee"]
    values += ["+1 (555) 010-0199", "555.010.0199", "15550100199"]
    for a in values:
        for b in values:
            if normalise(content_type, a) == normalise(content_type, b):
                assert grouping_key(a) == grouping_key(b), (content_type, a, b)


def test_distinct_keys_stay_apart():
    assert grouping_key("K-1") != grouping_key("K-2")
    assert grouping_key("a@x.com") != grouping_key("b@x.com")
