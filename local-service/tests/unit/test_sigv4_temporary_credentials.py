"""SigV4Verifier's temporary credentials: accepted with their token until they expire, refused as AWS refuses."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from customer_profiles_local.errors import ServiceError
from customer_profiles_local.sigv4 import SigV4Verifier

URL = "http://localhost/domains"


@pytest.fixture
def verifier() -> SigV4Verifier:
    return SigV4Verifier("AKIDLONGTERM", "long-term-secret")


def signed_headers(key: str, secret: str, token: str | None = None) -> dict[str, str]:
    request = AWSRequest(method="GET", url=URL, data=b"", headers={"Host": "localhost"})
    SigV4Auth(Credentials(key, secret, token), "profile", "us-east-1").add_auth(request)
    return dict(request.headers)


def refusal(verifier: SigV4Verifier, headers: dict[str, str]) -> tuple[str, str, int | None]:
    with pytest.raises(ServiceError) as refused:
        verifier.verify("GET", URL, headers, b"")
    return refused.value.code, refused.value.message, refused.value.status


def wait_past(expiration: str) -> None:
    """Sleep until the issued ``Expiration`` is in the past (a condition, not a measured duration)."""
    expires_at = dt.datetime.fromisoformat(expiration.replace("Z", "+00:00"))
    while dt.datetime.now(dt.timezone.utc) < expires_at:
        time.sleep(0.01)


def test_issued_credentials_sign_with_their_token_and_name_their_key(verifier):
    issued = verifier.issue_temporary(60)
    assert issued["AccessKeyId"].startswith("ASIA")
    expires_at = dt.datetime.fromisoformat(issued["Expiration"].replace("Z", "+00:00"))
    assert dt.timedelta(seconds=58) < expires_at - dt.datetime.now(dt.timezone.utc) <= dt.timedelta(seconds=60)
    headers = signed_headers(issued["AccessKeyId"], issued["SecretAccessKey"], issued["SessionToken"])
    assert verifier.verify("GET", URL, headers, b"") == issued["AccessKeyId"]
    assert verifier.verify("GET", URL, signed_headers("AKIDLONGTERM", "long-term-secret"), b"") == "AKIDLONGTERM"
    assert verifier.issue_temporary(60)["AccessKeyId"] != issued["AccessKeyId"]


def test_expired_credentials_are_refused_as_aws_refuses_them(verifier):
    issued = verifier.issue_temporary(0.05)
    headers = signed_headers(issued["AccessKeyId"], issued["SecretAccessKey"], issued["SessionToken"])
    wait_past(issued["Expiration"])
    assert refusal(verifier, headers) == (
        "ExpiredTokenException",
        "The security token included in the request is expired",
        403,
    )


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda issued: (issued["AccessKeyId"], issued["SecretAccessKey"], None), id="token-missing"),
        pytest.param(lambda issued: (issued["AccessKeyId"], issued["SecretAccessKey"], "forged"), id="token-forged"),
        pytest.param(
            lambda issued: ("ASIAUNKNOWN", issued["SecretAccessKey"], issued["SessionToken"]), id="key-unknown"
        ),
        pytest.param(
            lambda issued: ("AKIDLONGTERM", "long-term-secret", issued["SessionToken"]), id="long-term-key-with-token"
        ),
    ],
)
def test_unknown_keys_and_tokens_are_unrecognized(verifier, forge):
    headers = signed_headers(*forge(verifier.issue_temporary(60)))
    assert refusal(verifier, headers) == (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        403,
    )


def test_a_wrong_secret_with_a_valid_token_is_a_bad_signature(verifier):
    issued = verifier.issue_temporary(60)
    headers = signed_headers(issued["AccessKeyId"], "not-the-secret", issued["SessionToken"])
    assert refusal(verifier, headers)[0] == "InvalidSignatureException"


@pytest.mark.parametrize("duration", [0, -1, 129_601, "60", True, None])
def test_lifetimes_outside_sts_bounds_are_bad_requests(verifier, duration):
    with pytest.raises(ServiceError) as refused:
        verifier.issue_temporary(duration)
    assert (refused.value.code, refused.value.status) == ("BadRequestException", 400)
