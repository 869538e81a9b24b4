"""Temporary credentials from ``POST /_emulator/temporary-credentials``, used by a plain boto3 client over HTTP."""

from __future__ import annotations

import datetime as dt
import time
import urllib.error

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

NO_RETRIES = Config(retries={"mode": "standard", "max_attempts": 1})


def client_with(endpoint, credentials: dict[str, str]):
    return boto3.client(
        "customer-profiles",
        endpoint_url=endpoint.url,
        region_name=endpoint.region_name,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        config=NO_RETRIES,
    )


def refused(call) -> tuple[int, str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call()
    response = caught.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def test_temporary_credentials_work_until_they_expire_and_are_counted_per_key(customer_profiles_emulator_factory):
    endpoint = customer_profiles_emulator_factory(verify_signatures=True)
    # 5 s: long enough to build two boto3 clients and make a call on a busy machine (1 s was not).
    short = endpoint.admin("POST", "temporary-credentials", {"DurationSeconds": 5})["Credentials"]
    long = endpoint.admin("POST", "temporary-credentials", {"DurationSeconds": 3600})["Credentials"]
    assert set(short) == {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}

    short_client, long_client = client_with(endpoint, short), client_with(endpoint, long)
    short_client.create_domain(DomainName="temporary", DefaultExpirationDays=1)
    assert [d["DomainName"] for d in long_client.list_domains()["Items"]] == ["temporary"]
    expires_at = dt.datetime.fromisoformat(short["Expiration"].replace("Z", "+00:00"))
    while dt.datetime.now(dt.timezone.utc) < expires_at:
        time.sleep(0.05)

    assert refused(short_client.list_domains) == (
        403,
        "ExpiredTokenException",
        "The security token included in the request is expired",
    )
    long_client.list_domains()  # the other generation still works
    forged = client_with(endpoint, {**long, "SessionToken": "forged"})
    assert refused(forged.list_domains)[:2] == (403, "UnrecognizedClientException")

    signatures = endpoint.metrics()["signatures"]
    assert signatures["accepted_by_key"][short["AccessKeyId"]] == 1
    assert signatures["accepted_by_key"][long["AccessKeyId"]] == 2
    assert signatures["refused"] == {"ExpiredTokenException": 1, "UnrecognizedClientException": 1}
    assert short["SecretAccessKey"] not in str(endpoint.metrics())


def test_temporary_credentials_need_a_service_that_verifies_signatures(customer_profiles_emulator):
    with pytest.raises(urllib.error.HTTPError) as caught:
        customer_profiles_emulator.admin("POST", "temporary-credentials", {"DurationSeconds": 60})
    assert caught.value.code == 400
    assert caught.value.headers["x-amzn-ErrorType"].startswith("BadRequestException")
