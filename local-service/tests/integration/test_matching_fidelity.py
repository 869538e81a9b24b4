"""Profile matching as AWS documents it: ambiguous keys, manually entered fields, matching after the write,
and objects that cannot be attached sent to the domain's dead-letter queue on SQS (moto's server)."""

from __future__ import annotations

import json

import boto3
import pytest
from helpers import create_domain
from matching_support import eventually, matched

FIELDS = {
    "id": {"Source": "_source.id"},
    "email": {"Source": "_source.email", "Target": "_profile.EmailAddress", "ContentType": "EMAIL_ADDRESS"},
    "phone": {"Source": "_source.phone", "ContentType": "PHONE_NUMBER"},
    "first": {"Source": "_source.first", "Target": "_profile.FirstName"},
    "city": {"Source": "_source.city", "Target": "_profile.Address.City"},
}
KEYS = {
    "ticket": [{"StandardIdentifiers": ["UNIQUE"], "FieldNames": ["id"]}],
    "family_email": [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["email"]}],
    "mobile": [{"StandardIdentifiers": ["PROFILE", "SECONDARY"], "FieldNames": ["phone"]}],
}


def define(client, domain: str, allow_profile_creation: bool) -> None:
    client.put_profile_object_type(
        DomainName=domain,
        ObjectTypeName="Ticket",
        Description="tickets",
        AllowProfileCreation=allow_profile_creation,
        Fields=FIELDS,
        Keys=KEYS,
    )


def put(client, domain: str, **values) -> None:
    client.put_profile_object(DomainName=domain, ObjectTypeName="Ticket", Object=json.dumps(values))


def profile(client, domain: str, profile_id: str) -> dict:
    return client.batch_get_profile(DomainName=domain, ProfileIds=[profile_id])["Profiles"][0]


def shared_email_profiles(client, domain: str) -> tuple[str, str]:
    """Two profiles answering to the same family email, each with its own mobile number key."""
    ids = []
    for phone in ("+15550001", "+15550002"):
        pid = client.create_profile(DomainName=domain, EmailAddress="family@example.com")["ProfileId"]
        client.add_profile_key(DomainName=domain, ProfileId=pid, KeyName="mobile", Values=[phone])
        client.add_profile_key(DomainName=domain, ProfileId=pid, KeyName="family_email", Values=["family@example.com"])
        ids.append(pid)
    return ids[0], ids[1]


@pytest.fixture
def service(customer_profiles_emulator_factory):
    return customer_profiles_emulator_factory(quotas="off", matching_delay_ms=300)


def test_an_ambiguous_profile_key_is_discarded_and_the_secondary_key_decides(service):
    client = service.client()
    domain = create_domain(client)
    define(client, domain, allow_profile_creation=False)
    _, second = shared_email_profiles(client, domain)
    put(client, domain, id="T1", email="family@example.com", phone="+1 555 0002")
    matched(client, domain, 1)
    objects = client.list_profile_objects(DomainName=domain, ObjectTypeName="Ticket", ProfileId=second)["Items"]
    assert len(objects) == 1


def test_nothing_matching_exactly_one_profile_creates_an_inferred_profile_when_allowed(service):
    client = service.client()
    domain = create_domain(client)
    define(client, domain, allow_profile_creation=True)
    first, second = shared_email_profiles(client, domain)
    put(client, domain, id="T1", email="family@example.com")
    stats = matched(client, domain, 1)
    assert stats["ProfileCount"] == 3  # neither family member got the object
    for pid in (first, second):
        assert not client.list_profile_objects(DomainName=domain, ObjectTypeName="Ticket", ProfileId=pid)["Items"]


def test_manually_entered_fields_are_never_overwritten_but_empty_ones_are_filled(service):
    client = service.client()
    domain = create_domain(client)
    define(client, domain, allow_profile_creation=False)
    pid = client.create_profile(DomainName=domain, FirstName="John", EmailAddress="john@example.com")["ProfileId"]
    client.add_profile_key(DomainName=domain, ProfileId=pid, KeyName="family_email", Values=["john@example.com"])
    client.update_profile(DomainName=domain, ProfileId=pid, Address={"City": "Lisbon"})
    put(client, domain, id="T1", email="john@example.com", first="Jonathan", city="Porto")
    matched(client, domain, 1)
    got = profile(client, domain, pid)
    assert got["FirstName"] == "John"
    assert got["Address"]["City"] == "Lisbon"
    # a field cleared by hand is empty again, so ingestion may fill it
    client.update_profile(DomainName=domain, ProfileId=pid, FirstName="")
    put(client, domain, id="T2", email="john@example.com", first="Jonathan")
    matched(client, domain, 2)
    assert profile(client, domain, pid)["FirstName"] == "Jonathan"


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
