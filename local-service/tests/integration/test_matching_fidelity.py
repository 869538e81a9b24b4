"""Profile matching where the test needs the local service's knobs: matching after the write (the service clock),
and objects that cannot be attached sent to the domain's dead-letter queue on SQS (moto's server).

Ambiguous keys and manually entered fields, which need only the public API, are in parity/test_parity_matching.py.
"""

from __future__ import annotations

import json

import boto3
import pytest
from helpers import create_domain
from matching_support import eventually
from ticket_support import define, put, shared_email_profiles


@pytest.fixture
def service(customer_profiles_emulator_factory):
    return customer_profiles_emulator_factory(quotas="off", matching_delay_ms=300)


def test_an_object_is_searchable_only_after_the_matching_delay(service):
    client = service.client()
    domain = create_domain(client)
    define(client, domain, allow_profile_creation=True)
    put(client, domain, id="T1", email="new@example.com")
    # the write is accepted at once, the match comes later (clock moved by hand: no wall-time assertion)
    assert client.search_profiles(DomainName=domain, KeyName="_email", Values=["new@example.com"])["Items"] == []
    service.admin("POST", "clock", {"AdvanceSeconds": 1})
    found = client.search_profiles(DomainName=domain, KeyName="_email", Values=["new@example.com"])["Items"]
    assert len(found) == 1


@pytest.fixture
def sqs(moto_s3_server):
    # moto's server answers every service on one endpoint; its SQS stands in for the account's
    return boto3.client(
        "sqs",
        endpoint_url=moto_s3_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.mark.parametrize(
    ("shared_email", "code", "key_named"),
    [(False, "NO_MATCHING_PROFILE", None), (True, "AMBIGUOUS_PROFILE_MATCH", "family_email")],
)
def test_objects_that_cannot_be_attached_are_sent_to_the_dead_letter_queue(
    customer_profiles_emulator_factory, moto_s3_server, sqs, shared_email, code, key_named
):
    service = customer_profiles_emulator_factory(quotas="off", matching_delay_ms=300, sqs_endpoint_url=moto_s3_server)
    queue_url = sqs.create_queue(QueueName=f"cp-dlq-{code.lower().replace('_', '-')}")["QueueUrl"]
    client = service.client()
    domain = "retail"
    client.create_domain(DomainName=domain, DefaultExpirationDays=30, DeadLetterQueueUrl=queue_url)
    define(client, domain, allow_profile_creation=False)
    if shared_email:
        shared_email_profiles(client, domain)
    obj = json.dumps({"id": "T9", "email": "family@example.com"})
    key = client.put_profile_object(DomainName=domain, ObjectTypeName="Ticket", Object=obj)["ProfileObjectUniqueKey"]

    def receive():
        client.get_domain(DomainName=domain)  # any read of the domain lets due objects be matched
        return sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0).get("Messages", [])

    messages = eventually(receive, bool, "a dead-letter message")
    body = json.loads(messages[0]["Body"])
    assert body["DomainName"] == domain and body["ObjectTypeName"] == "Ticket"
    assert body["ProfileObjectUniqueKey"] == key and body["Object"] == obj
    assert body["ErrorCode"] == code
    assert "family@example.com" not in body["Message"]
    if key_named:
        assert key_named in body["Message"]
    assert client.get_domain(DomainName=domain)["Stats"]["ObjectCount"] == 0
