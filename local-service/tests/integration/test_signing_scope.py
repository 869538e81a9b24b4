"""With signatures on, boto3 clients signing for another service or Region get AWS's 403 InvalidSignatureException."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config
from helpers import error_of

NO_RETRIES = Config(retries={"mode": "standard", "max_attempts": 1})


def _client(endpoint, region_name: str):
    return boto3.client(
        "customer-profiles",
        endpoint_url=endpoint.url,
        region_name=region_name,
        aws_access_key_id=endpoint.access_key_id,
        aws_secret_access_key=endpoint.secret_access_key,
        config=NO_RETRIES,
    )


def _signing_for(service: str):
    """A before-sign hook that scopes the signature to ``service`` instead of the model's signing name."""

    def scope(request, **_):
        request.context.setdefault("signing", {})["signing_name"] = service

    return scope


@pytest.fixture
def signing_endpoint(customer_profiles_emulator_factory):
    return customer_profiles_emulator_factory(verify_signatures=True)


def test_a_client_signing_for_another_service_is_refused(signing_endpoint):
    client = _client(signing_endpoint, signing_endpoint.region_name)
    client.meta.events.register("before-sign.customer-profiles", _signing_for("execute-api"))
    assert error_of(client.list_domains) == (
        "InvalidSignatureException",
        "Credential should be scoped to correct service: 'profile'.",
        403,
    )
    assert signing_endpoint.metrics()["signatures"]["refused"] == {"InvalidSignatureException": 1}


def test_a_client_signing_for_another_region_is_refused(signing_endpoint):
    assert signing_endpoint.server.state.config.region == "us-east-1"
    assert error_of(_client(signing_endpoint, "eu-west-1").list_domains) == (
        "InvalidSignatureException",
        "Credential should be scoped to a valid region, not 'eu-west-1'.",
        403,
    )


def test_a_client_signing_for_the_service_and_its_region_is_served(signing_endpoint):
    client = _client(signing_endpoint, "us-east-1")
    client.meta.events.register("before-sign.customer-profiles", _signing_for("profile"))
    assert client.list_domains()["Items"] == []


def test_without_signature_checks_any_scope_is_served(customer_profiles_emulator):
    client = _client(customer_profiles_emulator, "eu-west-1")
    client.meta.events.register("before-sign.customer-profiles", _signing_for("execute-api"))
    assert client.list_domains()["Items"] == []
