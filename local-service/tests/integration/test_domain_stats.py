"""GetDomain's Stats.MeteringProfileCount follows the DomainStats reference: one more profile per 100 objects."""

from __future__ import annotations

import pytest
from helpers import PATIENT_RETRIES, create_customer_object_type, create_domain, customer
from matching_support import wait_for_stats

ORDER_FIELDS = {
    "order_id": {"Source": "_source.order_id"},
    "customer_id": {"Source": "_source.customer_id"},
}
ORDER_KEYS = {
    "order_id": [{"StandardIdentifiers": ["UNIQUE"], "FieldNames": ["order_id"]}],
    "customer_id": [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["customer_id"]}],
}


@pytest.mark.parametrize(("orders", "metered"), [(99, 1), (100, 2), (200, 3), (300, 4)])
def test_a_profile_is_metered_once_more_per_hundred_objects_beyond_the_first_hundred(
    customer_profiles_emulator, orders, metered
):
    # one customer object plus ``orders`` order objects: 100 objects is one profile, 101 is two, 201 is three
    client = customer_profiles_emulator.client(**PATIENT_RETRIES)
    domain = create_domain(client)
    create_customer_object_type(client, domain)
    client.put_profile_object_type(
        DomainName=domain, ObjectTypeName="Order", Description="orders", Fields=ORDER_FIELDS, Keys=ORDER_KEYS
    )
    client.put_profile_object(DomainName=domain, ObjectTypeName="Customer", Object=customer("C1"))
    wait_for_stats(client, domain, lambda stats: stats["ProfileCount"] == 1)
    for start in range(0, orders, 10):
        items = [
            {"Id": str(n), "Object": f'{{"order_id": "O{n}", "customer_id": "C1"}}'}
            for n in range(start, min(start + 10, orders))
        ]
        assert not client.batch_put_profile_object(DomainName=domain, ObjectTypeName="Order", Items=items)["Failed"]
    stats = wait_for_stats(client, domain, lambda stats: stats["ObjectCount"] == orders + 1)
    assert stats["ProfileCount"] == 1
    assert stats["MeteringProfileCount"] == metered
