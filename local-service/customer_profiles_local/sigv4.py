"""Server-side SigV4 verification, with botocore's own signer recomputing the signature."""

from __future__ import annotations

import datetime as dt
import hmac
import re

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from customer_profiles_local.errors import ServiceError

_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<signed>[^,]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)
_TIMESTAMP = "%Y%m%dT%H%M%SZ"
# AWS refuses signatures whose X-Amz-Date is further than this from its clock (replay protection).
MAX_CLOCK_SKEW = dt.timedelta(minutes=15)


class SigV4Verifier:
    """Accepts only requests signed with the configured access key and secret."""

    def __init__(self, access_key_id: str, secret_access_key: str) -> None:
        self.access_key_id = access_key_id
        self.credentials = Credentials(access_key_id, secret_access_key)

    def verify(self, method: str, url: str, headers: dict[str, str], body: bytes) -> None:
        """Raise a 403 unless ``headers`` carry a valid signature over this exact request."""
        lowered = {k.lower(): v for k, v in headers.items()}
        found = _AUTH.fullmatch(lowered.get("authorization", "").strip())
        if not found:
            raise ServiceError("MissingAuthenticationTokenException", "Missing or malformed SigV4 signature", 403)
        if found["key"] != self.access_key_id:
            raise ServiceError(
                "UnrecognizedClientException", "The security token included in the request is invalid.", 403
            )
        signed = found["signed"].split(";")
        _check_signing_time(lowered.get("x-amz-date", ""), signed)
        request = AWSRequest(method=method, url=url, data=body, headers={h: lowered.get(h, "") for h in signed})
        request.context["timestamp"] = lowered.get("x-amz-date", "")
        signer = SigV4Auth(self.credentials, found["service"], found["region"])
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, found["signature"]):
            raise ServiceError(
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided.",
                403,
            )


def _check_signing_time(stamp: str, signed_headers: list[str]) -> None:
    """Refuse an unsigned, malformed or stale X-Amz-Date with AWS's codes and messages."""
    if "x-amz-date" not in signed_headers:
        raise ServiceError("IncompleteSignatureException", "X-Amz-Date must be present and signed", 403)
    try:
        signed_at = dt.datetime.strptime(stamp, _TIMESTAMP).replace(tzinfo=dt.timezone.utc)
    except ValueError:
        raise ServiceError(
            "IncompleteSignatureException", "X-Amz-Date must be in ISO-8601 basic format (YYYYMMDD'T'HHMMSS'Z')", 403
        ) from None
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    earliest, latest = (f"{t:{_TIMESTAMP}}" for t in (now - MAX_CLOCK_SKEW, now + MAX_CLOCK_SKEW))
    now_text = f"{now:{_TIMESTAMP}}"
    if signed_at < now - MAX_CLOCK_SKEW:
        message = f"Signature expired: {stamp} is now earlier than {earliest} ({now_text} - 15 min.)"
        raise ServiceError("InvalidSignatureException", message, 403)
    if signed_at > now + MAX_CLOCK_SKEW:
        message = f"Signature not yet current: {stamp} is still later than {latest} ({now_text} + 15 min.)"
        raise ServiceError("InvalidSignatureException", message, 403)
