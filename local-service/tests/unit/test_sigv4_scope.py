"""SigV4Verifier's credential-scope check: a signature counts only for the service's signing name and Region."""

from __future__ import annotations

import botocore.session
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from customer_profiles_local.errors import ServiceError
from customer_profiles_local.sigv4 import SigV4Verifier

URL = "http://localhost/domains"
KEY, SECRET = "AKIDSCOPE", "scope-secret"


def signed_for(service: str, region: str) -> dict[str, str]:
    """Headers of a request correctly signed by KEY, with ``service`` and ``region`` in its credential scope."""
    request = AWSRequest(method="GET", url=URL, data=b"", headers={"Host": "localhost"})
    SigV4Auth(Credentials(KEY, SECRET), service, region).add_auth(request)
    return dict(request.headers)


def refusal(verifier: SigV4Verifier, headers: dict[str, str]) -> tuple[str, str, int | None]:
    with pytest.raises(ServiceError) as refused:
        verifier.verify("GET", URL, headers, b"")
    return refused.value.code, refused.value.message, refused.value.status


def test_the_signing_name_is_the_one_botocore_signs_customer_profiles_for():
    model = botocore.session.get_session().get_service_model("customer-profiles")
    assert SigV4Verifier(KEY, SECRET).signing_name == model.signing_name == "profile"


@pytest.mark.parametrize("service", ["customer-profiles", "execute-api", "Profile"])
def test_a_signature_scoped_to_another_service_is_refused(service):
    verifier = SigV4Verifier(KEY, SECRET, "us-east-1")
    assert refusal(verifier, signed_for(service, "us-east-1")) == (
        "InvalidSignatureException",
        "Credential should be scoped to correct service: 'profile'.",
        403,
    )


def test_a_signature_scoped_to_another_region_is_refused():
    verifier = SigV4Verifier(KEY, SECRET, "eu-west-2")
    assert refusal(verifier, signed_for("profile", "us-east-1")) == (
        "InvalidSignatureException",
        "Credential should be scoped to a valid region, not 'us-east-1'.",
        403,
    )
    assert verifier.verify("GET", URL, signed_for("profile", "eu-west-2"), b"") == KEY


def test_without_a_region_any_region_is_accepted_but_not_any_service():
    verifier = SigV4Verifier(KEY, SECRET)
    for region in ("us-east-1", "ap-southeast-2"):
        assert verifier.verify("GET", URL, signed_for("profile", region), b"") == KEY
    assert refusal(verifier, signed_for("s3", "us-east-1"))[0] == "InvalidSignatureException"


def test_the_scope_is_checked_for_temporary_credentials_too():
    verifier = SigV4Verifier(KEY, SECRET, "us-east-1")
    issued = verifier.issue_temporary(60)
    credentials = Credentials(issued["AccessKeyId"], issued["SecretAccessKey"], issued["SessionToken"])

    def signed_with_token(service: str) -> dict[str, str]:
        request = AWSRequest(method="GET", url=URL, data=b"", headers={"Host": "localhost"})
        SigV4Auth(credentials, service, "us-east-1").add_auth(request)
        return dict(request.headers)

    assert verifier.verify("GET", URL, signed_with_token("profile"), b"") == issued["AccessKeyId"]
    assert refusal(verifier, signed_with_token("sts"))[:2] == (
        "InvalidSignatureException",
        "Credential should be scoped to correct service: 'profile'.",
    )
