"""parse_request refuses a query-string or header value of the wrong type naming the member, never the value.

Customer Profiles' model has no typed header today, so the header path is exercised with a small model of the same
shape botocore builds from service-2.json files.
"""

from __future__ import annotations

import pytest
from botocore.model import ServiceModel

from customer_profiles_local.errors import BadRequest
from customer_profiles_local.model import parse_request

MARKER = "pii-marker@example.com"

_MODEL = ServiceModel(
    {
        "metadata": {"protocol": "rest-json", "apiVersion": "2020-08-15", "endpointPrefix": "profile"},
        "operations": {
            "ListThings": {
                "name": "ListThings",
                "http": {"method": "GET", "requestUri": "/things"},
                "input": {"shape": "ListThingsRequest"},
            }
        },
        "shapes": {
            "ListThingsRequest": {
                "type": "structure",
                "members": {
                    "MaxResults": {"shape": "Count", "location": "querystring", "locationName": "max-results"},
                    "Weight": {"shape": "Weight", "location": "header", "locationName": "x-thing-weight"},
                },
            },
            "Count": {"type": "integer"},
            "Weight": {"type": "double"},
        },
    },
    "things",
)
_OPERATION = _MODEL.operation_model("ListThings")


def test_typed_values_are_converted():
    params = parse_request(_OPERATION, {}, "max-results=7", {"X-Thing-Weight": "2.5"}, b"")
    assert params == {"MaxResults": 7, "Weight": 2.5}


@pytest.mark.parametrize(
    ("query", "headers", "member", "type_name"),
    [
        (f"max-results={MARKER}", {}, "maxResults", "integer"),
        ("", {"X-Thing-Weight": MARKER}, "weight", "double"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused_naming_the_member(query, headers, member, type_name):
    with pytest.raises(BadRequest) as refused:
        parse_request(_OPERATION, {}, query, headers, b"")
    message = refused.value.message
    assert f"at '{member}' failed to satisfy constraint: Member must be of type {type_name}" in message
    assert "pii-marker" not in message
    # nothing chained to the 400 repeats the value either (a logged traceback would show it)
    assert refused.value.__cause__ is None and refused.value.__context__ is None
