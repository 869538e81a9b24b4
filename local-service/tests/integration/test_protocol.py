"""The local service speaks the real wire protocol: routing, validation messages, errors and the testing knobs.

What AWS documents and the public API shows (domain lifecycle, paging, error codes) is in the parity suite.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

NO_RETRIES = {"retries": {"mode": "standard", "max_attempts": 1}}


def _raw(url: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read() or b"{}")


def test_an_empty_dead_letter_queue_url_clears_it(customer_profiles_emulator):
    # local only: on AWS the queue must exist with a policy letting Customer Profiles send to it (CreateDomain)
    client = customer_profiles_emulator.client()
    client.create_domain(
        DomainName="retail",
        DefaultExpirationDays=30,
        DeadLetterQueueUrl="https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
    )
    updated = client.update_domain(DomainName="retail", DeadLetterQueueUrl="")
    assert "DeadLetterQueueUrl" not in updated
    assert "DeadLetterQueueUrl" not in client.get_domain(DomainName="retail")


def test_matching_defaults_to_the_documented_weekly_schedule(customer_profiles_emulator):
    client = customer_profiles_emulator.client()
    created = client.create_domain(DomainName="d", DefaultExpirationDays=1, Matching={"Enabled": True})
    assert created["Matching"]["JobSchedule"] == {"DayOfTheWeek": "SATURDAY", "Time": "00:00"}


@pytest.mark.parametrize(
    ("kwargs", "field", "constraint"),
    [
        ({"DomainName": "has space", "DefaultExpirationDays": 1}, "domainName", "regular expression"),
        ({"DomainName": "x" * 65, "DefaultExpirationDays": 1}, "domainName", "less than or equal to 64"),
        (
            {"DomainName": "ok", "DefaultExpirationDays": 2000},
            "defaultExpirationDays",
            "less than or equal to 1098",
        ),
        (
            {
                "DomainName": "ok",
                "DefaultExpirationDays": 1,
                "Matching": {"Enabled": True, "JobSchedule": {"DayOfTheWeek": "FUNDAY", "Time": "10:00"}},
            },
            "matching.jobSchedule.dayOfTheWeek",
            "enum value set",
        ),
        (
            {
                "DomainName": "ok",
                "DefaultExpirationDays": 1,
                "Matching": {"Enabled": True, "JobSchedule": {"DayOfTheWeek": "MONDAY", "Time": "25:00"}},
            },
            "matching.jobSchedule.time",
            "regular expression",
        ),
    ],
)
def test_server_side_validation_names_the_field(customer_profiles_emulator, kwargs, field, constraint):
    client = customer_profiles_emulator.client()
    with pytest.raises(client.exceptions.BadRequestException) as caught:
        client.create_domain(**kwargs)
    message = caught.value.response["Error"]["Message"]
    assert f"at '{field}'" in message
    assert constraint in message


def test_validation_messages_never_echo_string_values(customer_profiles_emulator):
    client = customer_profiles_emulator.client()
    secret = "jane.doe@example.com"
    with pytest.raises(client.exceptions.BadRequestException) as caught:
        client.create_domain(DomainName=secret, DefaultExpirationDays=1)
    assert secret not in str(caught.value)


def test_required_fields_missing_on_the_wire_are_named(customer_profiles_emulator):
    # botocore checks required fields itself, so send the raw request a buggy client would send.
    status, headers, body = _raw(customer_profiles_emulator.url, "POST", "/domains/raw", {})
    assert status == 400
    assert headers["x-amzn-ErrorType"].startswith("BadRequestException")
    assert "'defaultExpirationDays'" in body["Message"] and "must not be null" in body["Message"]


def test_unknown_routes_and_methods(customer_profiles_emulator):
    status, headers, _ = _raw(customer_profiles_emulator.url, "GET", "/no/such/thing")
    assert status == 404 and headers["x-amzn-ErrorType"].startswith("ResourceNotFoundException")
    status, _, _ = _raw(customer_profiles_emulator.url, "PATCH", "/domains/x")
    assert status == 405


def test_throttling_is_a_throttling_exception_in_boto3(customer_profiles_emulator_factory):
    endpoint = customer_profiles_emulator_factory(quotas="aws")
    client = endpoint.client(**NO_RETRIES)
    client.create_domain(DomainName="first", DefaultExpirationDays=1)
    with pytest.raises(client.exceptions.ThrottlingException):
        for i in range(5):  # CreateDomain is 1 TPS: the bucket holds one request
            client.create_domain(DomainName=f"burst{i}", DefaultExpirationDays=1)
    counts = endpoint.metrics()["operations"]["CreateDomain"]
    assert counts["throttled"] >= 1
    assert counts["succeeded"] == counts["requests"] - counts["throttled"]


def test_quota_off_admits_bursts(customer_profiles_emulator_factory):
    client = customer_profiles_emulator_factory(quotas="off").client(**NO_RETRIES)
    for i in range(20):
        client.create_domain(DomainName=f"d{i}", DefaultExpirationDays=1)
    assert len(client.list_domains(MaxResults=100)["Items"]) == 20


def test_injected_faults_surface_as_500_or_connection_errors(customer_profiles_emulator_factory):
    # about dropped connections: quotas off, so no CreateDomain (1 TPS) is throttled before its fault
    endpoint = customer_profiles_emulator_factory(quotas="off", fault_rate=1.0)
    client = endpoint.client(**NO_RETRIES)
    seen = set()
    for _ in range(30):
        try:
            client.list_domains()
        except client.exceptions.InternalServerException:
            seen.add("500")
        except (botocore.exceptions.ConnectionClosedError, botocore.exceptions.EndpointConnectionError):
            seen.add("dropped")
    assert seen == {"500", "dropped"}
    counts = endpoint.metrics()["operations"]["ListDomains"]
    # urllib3 may re-send once on a dropped keep-alive connection, so the server can see more than 30.
    assert counts["faults"] + counts["dropped"] == counts["requests"] >= 30


def test_dropped_connections_happen_after_the_write(customer_profiles_emulator_factory):
    # about dropped connections: quotas off, so no CreateDomain (1 TPS) is throttled before its fault
    endpoint = customer_profiles_emulator_factory(quotas="off", fault_rate=1.0)
    client = endpoint.client(**NO_RETRIES)
    for i in range(30):
        with contextlib.suppress(
            client.exceptions.InternalServerException,
            client.exceptions.BadRequestException,  # a silent re-send found the domain already made
            botocore.exceptions.ConnectionClosedError,
        ):
            client.create_domain(DomainName=f"d{i}", DefaultExpirationDays=1)
    counts = endpoint.metrics()["operations"]["CreateDomain"]
    # Every CreateDomain that did its work was then dropped: the client never learnt that it happened.
    assert len(endpoint.server.state.domains) == counts["succeeded"] == counts["dropped"] > 0


def test_latency_is_added_to_every_response(customer_profiles_emulator_factory):
    client = customer_profiles_emulator_factory(latency_ms=200).client()
    started = time.monotonic()
    client.list_domains()
    assert time.monotonic() - started >= 0.2


def test_sigv4_signatures_are_verified(customer_profiles_emulator_factory):
    endpoint = customer_profiles_emulator_factory(verify_signatures=True, access_key_id="AKIDEXAMPLE")
    assert endpoint.client().list_domains()["Items"] == []

    def client_with(key: str, secret: str):
        return boto3.client(
            "customer-profiles",
            endpoint_url=endpoint.url,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            config=Config(**NO_RETRIES),
        )

    for key, secret, code in [
        ("AKIDEXAMPLE", "wrong-secret", "InvalidSignatureException"),
        ("SOMEONE-ELSE", endpoint.secret_access_key, "UnrecognizedClientException"),
    ]:
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            client_with(key, secret).list_domains()
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert caught.value.response["Error"]["Code"] == code
    status, _, _ = _raw(endpoint.url, "GET", "/domains")
    assert status == 403


def test_sigv4_accepts_percent_encoded_paths(customer_profiles_emulator_factory):
    endpoint = customer_profiles_emulator_factory(verify_signatures=True)
    client = endpoint.client()
    client.create_domain(DomainName="signed", DefaultExpirationDays=1, Tags={"team": "crm"})
    arn = "arn:aws:profile:us-east-1:123456789012:domains/signed"
    # resourceArn travels percent-encoded in the path ('/' as %2F): the signature must still verify.
    assert client.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "crm"}


def test_metrics_and_reset(customer_profiles_emulator):
    client = customer_profiles_emulator.client()
    client.create_domain(DomainName="d", DefaultExpirationDays=1)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_domain(DomainName="missing")
    metrics = customer_profiles_emulator.metrics()
    assert metrics["operations"]["CreateDomain"] == {"requests": 1, "succeeded": 1}
    assert metrics["operations"]["GetDomain"] == {"requests": 1, "errors": 1}
    assert customer_profiles_emulator.admin("POST", "reset") == {"reset": True}
    assert customer_profiles_emulator.metrics()["operations"] == {}
    assert client.list_domains()["Items"] == []


def test_console_script_serves_boto3(tmp_path):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "customer_profiles_local",
            "--port",
            "0",
            "--quotas",
            "aws",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        assert "listening on http://127.0.0.1:" in line
        url = line.rsplit(" ", 1)[-1].strip()
        client = boto3.client(
            "customer-profiles",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="y",
        )
        client.create_domain(DomainName="cli", DefaultExpirationDays=1)
        assert client.get_domain(DomainName="cli")["DomainName"] == "cli"
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_quotas_are_on_by_default_as_in_aws(customer_profiles_emulator):
    from customer_profiles_local.cli import build_parser
    from customer_profiles_local.quotas import AWS_DEFAULT_TPS

    assert build_parser().parse_args([]).quotas == "aws"
    # the service's own buckets, read directly: a burst of calls proves nothing on a slow machine
    buckets = customer_profiles_emulator.server.quotas.buckets
    assert {operation: bucket.rate for operation, bucket in buckets.items()} == AWS_DEFAULT_TPS
    assert buckets["CreateDomain"].rate == 1
