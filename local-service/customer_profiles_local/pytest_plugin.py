"""
pytest fixtures that run the local Customer Profiles service in-process.

Installed as a pytest plugin (entry point ``pytest11``) with this distribution, so any
test suite that installs ``customer-profiles-local`` can use them:

- ``customer_profiles_emulator``: a running service with empty state, the AWS quotas on and objects
  matched (searchable) one second after they are put, as the CLI does.
- ``customer_profiles_emulator_factory``: start more services with other knobs
  (``quotas="off"``, ``matching_delay_ms``, latency, faults, SigV4, connection limits); they stop when
  the test ends.

Both return a :class:`ServiceEndpoint`: the URL and credentials, plain boto3 clients and
the admin surface. The service knows nothing of Airflow; the provider's ``testing``
module turns an endpoint into an Airflow connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from customer_profiles_local.admin_client import call_admin
from customer_profiles_local.connections import ConnectionLimits
from customer_profiles_local.server import CustomerProfilesServer, Knobs
from customer_profiles_local.state import DEFAULT_MATCHING_DELAY_SECONDS, EmulatorConfig


@dataclass
class ServiceEndpoint:
    """A running local service: its URL, the credentials that reach it, and its admin surface."""

    server: CustomerProfilesServer
    access_key_id: str
    secret_access_key: str
    region_name: str = "us-east-1"

    @property
    def url(self) -> str:
        return self.server.url

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call an ``/_emulator/...`` endpoint, signed with this endpoint's credentials, and return its JSON answer."""
        credentials = (self.access_key_id, self.secret_access_key)
        return call_admin(self.url, method, path, body, credentials, self.region_name)

    def metrics(self) -> dict[str, Any]:
        return self.admin("GET", "metrics")

    def client(self, **config: Any):
        """A plain boto3 client for this service (no Airflow involved)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "customer-profiles",
            endpoint_url=self.url,
            region_name=self.region_name,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            config=Config(**{"retries": {"mode": "standard", "max_attempts": 3}, **config}),
        )


def _start(knobs: Knobs, config: EmulatorConfig | None, limits: ConnectionLimits | None) -> CustomerProfilesServer:
    return CustomerProfilesServer("127.0.0.1", 0, knobs, config, limits).start_background()


@pytest.fixture
def customer_profiles_emulator_factory() -> Iterator[Callable[..., ServiceEndpoint]]:
    """Start a local service with the given knobs; every service started stops when the test ends."""
    started: list[CustomerProfilesServer] = []

    def start(
        quotas: str = "aws",
        latency_ms: float = 0.0,
        fault_rate: float = 0.0,
        access_key_id: str = "testing",
        secret_access_key: str = "testing",  # noqa: S107
        verify_signatures: bool = False,
        s3_endpoint_url: str | None = None,
        limits: ConnectionLimits | None = None,
        matching_delay_ms: float = DEFAULT_MATCHING_DELAY_SECONDS * 1000,
        sqs_endpoint_url: str | None = None,
    ) -> ServiceEndpoint:
        knobs = Knobs(
            quotas,
            latency_ms,
            fault_rate,
            access_key_id if verify_signatures else None,
            secret_access_key if verify_signatures else None,
        )
        config = EmulatorConfig(
            s3_endpoint_url=s3_endpoint_url,
            sqs_endpoint_url=sqs_endpoint_url,
            matching_delay_seconds=matching_delay_ms / 1000,
        )
        server = _start(knobs, config, limits)
        started.append(server)
        return ServiceEndpoint(server, access_key_id, secret_access_key)

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def customer_profiles_emulator(customer_profiles_emulator_factory) -> ServiceEndpoint:
    """A fresh local Customer Profiles service with empty state and the AWS quotas on."""
    return customer_profiles_emulator_factory()
