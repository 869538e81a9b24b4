"""
The parity suite: the same protocol tests, run against the local service or, on a maintainer's request, AWS.

By default every test here runs against the local service (the plugin's ``customer_profiles_emulator``: AWS quotas
on, objects matched one second after the write). With ``CP_PARITY_AWS=1`` the same tests run against Amazon Connect
Customer Profiles in the Region and account of the standard credential chain: every domain is created under a
prefix unique to the session (``cp-parity-<UTC time>-<random>``) and deleted when its test ends, and any domain
left with that prefix is deleted when the session ends. See docs/local-service/parity.md.

The tests use only the public API (no ``/_emulator`` admin calls, no emulator knobs) and assert only what the AWS
documentation states; reads after a write poll, since matching is asynchronous on both targets.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import itertools
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import matching_support
import pytest
from botocore.config import Config
from helpers import PATIENT_RETRIES, Pager

PARITY_AWS = os.environ.get("CP_PARITY_AWS") == "1"
if os.environ.get("CP_PARITY_AWS", "0") not in ("0", "1", ""):
    # "true" or "yes" would otherwise run against the local service while the maintainer believes it ran on AWS
    raise pytest.UsageError("CP_PARITY_AWS must be 1 (run the parity suite against AWS) or 0/unset (local service)")
# AWS: "profile matching happens shortly afterward" the write; give it minutes, polled every few seconds
# (GetDomain is a 5 TPS operation).
AWS_MATCH_DEADLINE_SECONDS = float(os.environ.get("CP_PARITY_MATCH_TIMEOUT", "300"))
AWS_POLL_SECONDS = 2.0
DOMAIN_NAME_MAX = 64  # CreateDomain's DomainName: 1..64 characters of ^[a-zA-Z0-9_-]+$


@dataclass
class Target:
    """Where the parity tests run: how to reach it, and the domains a test created there."""

    name: str
    # boto3/aiobotocore create_client arguments: Region, plus endpoint and keys for the local service
    client_kwargs: dict[str, Any]
    account_id: str
    prefix: str
    counter: Iterator[int]
    created: list[str] = field(default_factory=list)
    client: Any = field(init=False)

    def __post_init__(self) -> None:
        self.client = boto3.client("customer-profiles", config=Config(**PATIENT_RETRIES), **self.client_kwargs)

    @property
    def region(self) -> str:
        return self.client_kwargs["region_name"]

    @property
    def pager(self) -> Pager:
        return Pager(self.client)

    def domain_name(self, label: str) -> str:
        """A domain name unique to this session: the session prefix, a sequence number and ``label``."""
        return f"{self.prefix}-{next(self.counter)}-{label}"[:DOMAIN_NAME_MAX]

    def create_domain(self, label: str = "retail", **settings: Any) -> dict[str, Any]:
        """CreateDomain under the session prefix (its answer); the domain is deleted when the test ends."""
        name = self.domain_name(label)
        created = self.client.create_domain(DomainName=name, **{"DefaultExpirationDays": 30, **settings})
        self.created.append(name)
        return created

    def arn(self, resource: str) -> str:
        """The ARN of a Customer Profiles resource (``domains/NAME...``) in this target's account and Region."""
        return f"arn:aws:profile:{self.region}:{self.account_id}:{resource}"

    def delete_created_domains(self) -> None:
        for name in self.created:
            with contextlib.suppress(self.client.exceptions.ResourceNotFoundException):  # the test deleted it
                self.client.delete_domain(DomainName=name)


def _session_prefix() -> str:
    return f"cp-parity-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"


def _aws_region() -> str:
    """The Region of the standard chain, after checking there are credentials; a clear failure otherwise."""
    session = boto3.Session()
    if session.region_name is None:
        pytest.fail("CP_PARITY_AWS=1 needs a Region: set AWS_DEFAULT_REGION or the region of your AWS_PROFILE")
    if session.get_credentials() is None:
        pytest.fail("CP_PARITY_AWS=1 needs AWS credentials from the standard chain (environment, profile, SSO...)")
    return session.region_name


@pytest.fixture(scope="session")
def parity_prefix() -> str:
    return _session_prefix()


@pytest.fixture(scope="session")
def aws_target(parity_prefix) -> Iterator[Target]:
    """AWS, reached with the standard credential chain; at the end, every domain left under the prefix is deleted."""
    region = _aws_region()
    account_id = boto3.client("sts", region_name=region).get_caller_identity()["Account"]
    target = Target("AWS", {"region_name": region}, account_id, parity_prefix, itertools.count(1))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(matching_support, "DEADLINE_SECONDS", AWS_MATCH_DEADLINE_SECONDS)
        patch.setattr(matching_support, "POLL_SECONDS", AWS_POLL_SECONDS)
        yield target
    target.created = [
        domain["DomainName"]
        for domain in target.pager.iterate_items("list_domains")
        if domain["DomainName"].startswith(parity_prefix)
    ]
    target.delete_created_domains()


@pytest.fixture
def target(request, parity_prefix) -> Iterator[Target]:
    """The target of this run; the domains the test created through it are deleted when it ends."""
    if PARITY_AWS:
        target = dataclasses.replace(request.getfixturevalue("aws_target"), created=[])
    else:
        endpoint = request.getfixturevalue("customer_profiles_emulator")
        client_kwargs = {
            "endpoint_url": endpoint.url,
            "region_name": endpoint.region_name,
            "aws_access_key_id": endpoint.access_key_id,
            "aws_secret_access_key": endpoint.secret_access_key,
        }
        account_id = endpoint.server.state.config.account_id
        target = Target("local service", client_kwargs, account_id, parity_prefix, itertools.count(1))
    yield target
    target.delete_created_domains()


@pytest.fixture
def client(target):
    return target.client


@pytest.fixture
def pager(target) -> Pager:
    return target.pager


@pytest.fixture
def domain(target) -> str:
    return target.create_domain()["DomainName"]
