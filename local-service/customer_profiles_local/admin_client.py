"""Calls to the local service's ``/_emulator/...`` admin surface, SigV4-signed when credentials are given.

A service started with ``--access-key-id/--secret-access-key`` verifies admin calls exactly as it verifies
API calls: same credentials, scoped to the service's signing name (``profile``) and its ``--region``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.request import Request, urlopen

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SIGNING_NAME = "profile"


def call_admin(
    url: str,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    credentials: tuple[str, str] | None = None,
    region_name: str = "us-east-1",
    timeout: float = 30.0,
) -> dict[str, Any]:
    """Call ``{url}/_emulator/{path}`` and return its JSON answer; ``credentials`` is (access key id, secret).

    Raises ``urllib.error.HTTPError`` for an error status, as ``urlopen`` does.
    """
    request = AWSRequest(
        method=method,
        url=f"{url.rstrip('/')}/_emulator/{path.lstrip('/')}",
        data=json.dumps(body or {}).encode() if method != "GET" else b"",
        headers={"Content-Type": "application/json"},
    )
    if credentials:
        SigV4Auth(Credentials(*credentials), SIGNING_NAME, region_name).add_auth(request)
    prepared = Request(request.url, data=request.data or None, headers=dict(request.headers), method=method)  # noqa: S310
    with urlopen(prepared, timeout=timeout) as response:  # noqa: S310 (the caller's own local service)
        return json.loads(response.read())
