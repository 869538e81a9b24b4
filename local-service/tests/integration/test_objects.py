"""PutProfileObject and BatchPutProfileObject where AWS documents too little for the parity suite.

What objects do to profiles, as AWS documents it, is in parity/test_parity_objects.py.
"""

from __future__ import annotations

import json
import threading

from helpers import (
    CUSTOMER_FIELDS,
    CUSTOMER_KEYS,
    create_customer_object_type,
    customer,
    error_of,
    search_one,
    stats,
)
from matching_support import eventually, matched

SECRET_EMAIL = "ana.secret@example.com"


def put(client, domain, obj, type_name="Customer"):
    return client.put_profile_object(DomainName=domain, ObjectTypeName=type_name, Object=obj)["ProfileObjectUniqueKey"]


def test_the_unique_key_is_an_opaque_digest_not_the_key_value(client, domain):
    # local design (no customer data in what the service hands back); AWS documents only the length
    create_customer_object_type(client, domain)
    assert "C1" not in put(client, domain, customer("C1"))


def test_an_object_filter_on_a_key_the_type_lacks_is_refused_naming_it(client, domain):
    create_customer_object_type(client, domain)
    put(client, domain, customer("C1"))
    profile_id = search_one(client, domain, "customer_id", "C1")["ProfileId"]
    code, message, _ = error_of(
        client.list_profile_objects,
        DomainName=domain,
        ObjectTypeName="Customer",
        ProfileId=profile_id,
        ObjectFilter={"KeyName": "no_such_key", "Values": ["x"]},
    )
    assert code == "BadRequestException" and "ObjectFilter.KeyName" in message


def test_without_profile_creation_an_unmatched_object_goes_to_the_dead_letter_queue(
    customer_profiles_emulator, client, domain
):
    create_customer_object_type(client, domain, allow_profile_creation=False)
    unique_key = put(client, domain, customer("C1", email="a@example.com"))

    def dead_letters() -> int:
        stats(client, domain)  # any read of the domain lets due objects be matched
        return customer_profiles_emulator.server.state.domains[domain].dead_letter_objects

    assert unique_key
    eventually(dead_letters, lambda count: count == 1, "the unmatched object dead-lettered")
    assert stats(client, domain)["ObjectCount"] == 0
    assert stats(client, domain)["ProfileCount"] == 0

    # once a profile carries the key, the same object joins it
    profile_id = client.create_profile(DomainName=domain, FirstName="Ana")["ProfileId"]
    client.add_profile_key(DomainName=domain, ProfileId=profile_id, KeyName="customer_id", Values=["C1"])
    assert put(client, domain, customer("C1", email="a@example.com")) == unique_key
    matched(client, domain, 1)
    profile = client.batch_get_profile(DomainName=domain, ProfileIds=[profile_id])["Profiles"][0]
    assert (profile["FirstName"], profile["EmailAddress"]) == ("Ana", "a@example.com")
    assert customer_profiles_emulator.server.state.domains[domain].dead_letter_objects == 1


def test_bad_objects_are_refused_without_echoing_values(client, domain):
    create_customer_object_type(client, domain)
    cases = {
        json.dumps({"email": SECRET_EMAIL}): ("customer_id", "_source.customer_id"),
        "not json " + SECRET_EMAIL: ("not valid JSON",),
        json.dumps([SECRET_EMAIL]): ("must be a JSON object",),
        '{"customer_id": "C1", "score": NaN}': ("NaN",),
        customer("C1", tier="x" * 300): ("tier", "255"),
    }
    for obj, expected in cases.items():
        code, message, status = error_of(
            client.put_profile_object, DomainName=domain, ObjectTypeName="Customer", Object=obj
        )
        assert (code, status) == ("BadRequestException", 400)
        for part in expected:
            assert part in message
        assert SECRET_EMAIL not in message and "xxxx" not in message
    assert stats(client, domain)["ObjectCount"] == 0
    assert stats(client, domain)["ProfileCount"] == 0


def test_batch_put_reports_each_item_under_http_200(client, domain):
    create_customer_object_type(client, domain)
    response = client.batch_put_profile_object(
        DomainName=domain,
        ObjectTypeName="Customer",
        Items=[
            {"Id": "row-1", "Object": customer("C1", email="a@example.com")},
            {"Id": "row-2", "Object": "{not json"},
            {"Id": "row-3", "Object": json.dumps({"email": SECRET_EMAIL})},
            {"Id": "row-4", "Object": customer("C2")},
            {"Id": "row-5", "Object": customer("C1", email="b@example.com")},
        ],
    )

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    successful = {item["Id"]: item["ProfileObjectUniqueKey"] for item in response["Successful"]}
    assert set(successful) == {"row-1", "row-4", "row-5"}
    assert successful["row-1"] == successful["row-5"]  # same unique key: row-5 overwrote row-1
    failed = {item["Id"]: item for item in response["Failed"]}
    assert set(failed) == {"row-2", "row-3"}
    assert {item["Code"] for item in failed.values()} == {400}
    assert "not valid JSON" in failed["row-2"]["Message"]
    assert "customer_id" in failed["row-3"]["Message"] and SECRET_EMAIL not in failed["row-3"]["Message"]
    matched(client, domain, 2)
    assert search_one(client, domain, "_account", "C1")["EmailAddress"] == "b@example.com"


def test_batch_put_refuses_duplicate_ids_and_oversized_objects_for_the_whole_call(client, domain):
    create_customer_object_type(client, domain)
    code, message, _ = error_of(
        client.batch_put_profile_object,
        DomainName=domain,
        ObjectTypeName="Customer",
        Items=[{"Id": "same", "Object": customer("C1")}, {"Id": "same", "Object": customer("C2")}],
    )
    assert code == "BadRequestException" and "same" in message
    # the model caps every item's Object at 256,000 characters: validation refuses the whole call
    oversized = customer("C3", notes="y" * 256_000)
    code, message, _ = error_of(
        client.batch_put_profile_object,
        DomainName=domain,
        ObjectTypeName="Customer",
        Items=[{"Id": "ok", "Object": customer("C4")}, {"Id": "big", "Object": oversized}],
    )
    assert code == "BadRequestException" and "items.2.member.object" in message and "256000" in message
    code, message, _ = error_of(
        client.put_profile_object, DomainName=domain, ObjectTypeName="Customer", Object=oversized
    )
    assert code == "BadRequestException" and "object" in message
    assert stats(client, domain)["ObjectCount"] == 0


def test_an_object_type_without_unique_key_identifies_objects_by_content(client, domain):
    client.put_profile_object_type(
        DomainName=domain,
        ObjectTypeName="Event",
        Description="events",
        AllowProfileCreation=True,
        Fields=CUSTOMER_FIELDS,
        Keys={"customer_id": [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["customer_id"]}]},
    )
    first = put(client, domain, '{"customer_id": "C1", "kind": "click"}', "Event")
    again = put(client, domain, '{"kind":"click","customer_id":"C1"}', "Event")  # same content, other layout
    other = put(client, domain, '{"customer_id": "C1", "kind": "view"}', "Event")
    assert first == again != other
    assert matched(client, domain, 2)["ProfileCount"] == 1


def test_concurrent_puts_give_exact_counts(customer_profiles_emulator, client, domain):
    create_customer_object_type(client, domain)
    threads, per_thread, stride = 8, 200, 100  # thread t puts customers t*100 .. t*100+199: they overlap
    errors: list[BaseException] = []

    def work(t: int) -> None:
        own_client = customer_profiles_emulator.client()
        try:
            for n in range(t * stride, t * stride + per_thread):
                own_client.put_profile_object(
                    DomainName=domain, ObjectTypeName="Customer", Object=customer(f"C{n}", tier=f"t{t}")
                )
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert errors == []
    distinct = (threads - 1) * stride + per_thread
    assert matched(client, domain, distinct)["ProfileCount"] == distinct
    metrics = customer_profiles_emulator.metrics()["operations"]["PutProfileObject"]
    assert metrics["succeeded"] == threads * per_thread


def test_the_customer_helper_type_round_trips(client, domain):
    create_customer_object_type(client, domain)
    got = client.get_profile_object_type(DomainName=domain, ObjectTypeName="Customer")
    assert got["Fields"] == CUSTOMER_FIELDS and got["Keys"] == CUSTOMER_KEYS
