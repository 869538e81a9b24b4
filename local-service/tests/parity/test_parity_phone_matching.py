"""PHONE_NUMBER values are found in any format, as the admin guide documents.

"Object type mapping definition details in Amazon Connect Customer Profiles", field definition, ContentType
(paraphrased): a PHONE_NUMBER value is processed so that agents can search for it in any format; the page's
example is that "+15551234567" matches "(555)-123-4567".
https://docs.aws.amazon.com/connect/latest/adminguide/object-type-mapping-definition-details.html
"""

from __future__ import annotations

import pytest
from helpers import search_one
from matching_support import matched
from ticket_support import define, put

pytestmark = pytest.mark.parity


def test_a_phone_number_key_is_found_written_with_or_without_its_country_code(client, domain):
    define(client, domain, allow_profile_creation=True)  # the "mobile" key reads a PHONE_NUMBER field
    put(client, domain, id="T1", phone="+15551234567")
    put(client, domain, id="T2", phone="(555)-987-6543")
    matched(client, domain, 2)

    first = search_one(client, domain, "mobile", "(555)-123-4567")["ProfileId"]
    assert search_one(client, domain, "mobile", "+15551234567")["ProfileId"] == first
    second = search_one(client, domain, "mobile", "+15559876543")["ProfileId"]
    assert search_one(client, domain, "mobile", "(555)-987-6543")["ProfileId"] == second != first
