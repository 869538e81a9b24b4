"""Server-side SigV4 verification, with botocore's own signer recomputing the signature.

A signature counts only if its credential scope names the service's signing name and, when the verifier has
one, its Region: AWS refuses a request signed for another service or Region. Besides its one long-term key, the
verifier issues temporary credentials (key, secret, session token, expiration), as STS does, so clients can be
tested past their credentials' expiry.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
import threading
from dataclasses import dataclass

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from customer_profiles_local.errors import BadRequest, ServiceError
from customer_profiles_local.model import service_model

_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,"
    r"\s*SignedHeaders=(?P<signed>[^,]+),\s*Signature=(?P<signature>[0-9a-f]{64})"
)
_TIMESTAMP = "%Y%m%dT%H%M%SZ"
# AWS refuses signatures whose X-Amz-Date is further than this from its clock (replay protection).
MAX_CLOCK_SKEW = dt.timedelta(minutes=15)
# GetSessionToken's longest lifetime; the shortest is not bounded here, so tests can see credentials expire.
MAX_TEMPORARY_SECONDS = 129_600
TEMPORARY_KEY_PREFIX = "ASIA"  # as AWS marks temporary access key ids


@dataclass(frozen=True)
class _Temporary:
    credentials: Credentials
    session_token: str
    expires_at: dt.datetime


class SigV4Verifier:
    """Accepts only requests signed with the configured key, or with unexpired temporary credentials it issued.

    ``region``: the only Region a signature may be scoped to; None accepts any.
    """

    def __init__(self, access_key_id: str, secret_access_key: str, region: str | None = None) -> None:
        self.access_key_id = access_key_id
        self.credentials = Credentials(access_key_id, secret_access_key)
        self.region = region
        self.signing_name = service_model().signing_name
        self._temporary: dict[str, _Temporary] = {}
        self._lock = threading.Lock()

    def issue_temporary(self, duration_seconds: float) -> dict[str, str]:
        """New credentials valid for ``duration_seconds`` of real time, in STS's ``Credentials`` shape."""
        if isinstance(duration_seconds, bool) or not isinstance(duration_seconds, int | float):
            raise BadRequest("DurationSeconds must be a number of seconds")
        if not 0 < duration_seconds <= MAX_TEMPORARY_SECONDS:
            raise BadRequest(f"DurationSeconds must be more than 0 and at most {MAX_TEMPORARY_SECONDS}")
        key = TEMPORARY_KEY_PREFIX + secrets.token_hex(8).upper()
        issued = _Temporary(
            Credentials(key, secrets.token_urlsafe(30)),
            secrets.token_urlsafe(96),
            dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=duration_seconds),
        )
        with self._lock:
            self._temporary[key] = issued
        return {
            "AccessKeyId": key,
            "SecretAccessKey": issued.credentials.secret_key,
            "SessionToken": issued.session_token,
            "Expiration": issued.expires_at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }

    def verify(self, method: str, url: str, headers: dict[str, str], body: bytes) -> str:
        """Raise a 403 unless ``headers`` carry a valid signature over this exact request; returns the signer's key."""
        lowered = {k.lower(): v for k, v in headers.items()}
        found = _AUTH.fullmatch(lowered.get("authorization", "").strip())
        if not found:
            raise ServiceError("MissingAuthenticationTokenException", "Missing or malformed SigV4 signature", 403)
        self._check_scope(found["service"], found["region"])
        credentials = self._credentials_of(found["key"], lowered.get("x-amz-security-token"))
        signed = found["signed"].split(";")
        _check_signing_time(lowered.get("x-amz-date", ""), signed)
        request = AWSRequest(method=method, url=url, data=body, headers={h: lowered.get(h, "") for h in signed})
        request.context["timestamp"] = lowered.get("x-amz-date", "")
        signer = SigV4Auth(credentials, found["service"], found["region"])
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if not hmac.compare_digest(expected, found["signature"]):
            raise ServiceError(
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided.",
                403,
            )
        return found["key"]

    def _check_scope(self, service: str, region: str) -> None:
        """AWS's 403s for a credential scope naming another service or Region (IAM guide, "Troubleshoot signed
        requests for AWS APIs": "Credential should be scoped to a valid Region, not region-code")."""
        if service != self.signing_name:
            message = f"Credential should be scoped to correct service: '{self.signing_name}'."
            raise ServiceError("InvalidSignatureException", message, 403)
        if self.region is not None and region != self.region:
            message = f"Credential should be scoped to a valid region, not '{region}'."
            raise ServiceError("InvalidSignatureException", message, 403)

    def _credentials_of(self, access_key_id: str, session_token: str | None) -> Credentials:
        """The secret that signs for this key and token; AWS's 403s for unknown or expired ones."""
        if access_key_id == self.access_key_id and session_token is None:
            return self.credentials
        with self._lock:
            issued = self._temporary.get(access_key_id)
        if (
            issued is None
            or session_token is None
            or not hmac.compare_digest(issued.session_token.encode(), session_token.encode())
        ):
            raise ServiceError(
                "UnrecognizedClientException", "The security token included in the request is invalid.", 403
            )
        if dt.datetime.now(dt.timezone.utc) >= issued.expires_at:
            raise ServiceError("ExpiredTokenException", "The security token included in the request is expired", 403)
        return issued.credentials


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
