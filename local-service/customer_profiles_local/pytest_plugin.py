"""
pytest fixtures that run the local Customer Profiles service in-process.

Installed as a pytest plugin (entry point ``pytest11``), so any test suite that
installs this provider can use them:

- ``customer_profiles_emulator``: a running service with empty state, and an
  Airflow ``aws`` connection (``conn_id``) that points at it.
- ``customer_profiles_emulator_factory``: start more services with other knobs
  (quotas, latency, faults, SigV4, connection limits); they stop when the test ends.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from airflow_provider_customerprofiles.emulator.admin_client import call_admin
from airflow_provider_customerprofiles.emulator.connections import ConnectionLimits
from airflow_provider_customerprofiles.emulator.server import CustomerProfilesServer, Knobs
from airflow_provider_customerprofiles.emulator.state import EmulatorConfig

DEFAULT_CONN_ID = "customer_profiles_local"


@dataclass
class EmulatorEndpoint:
    """A running local service: its URL, the Airflow connection id that reaches it, and its admin surface."""

    server: CustomerProfilesServer
    conn_id: str
    access_key_id: str
    secret_access_key: str
    region_name: str = "us-east-1"

    @property
    def url(self) -> str:
        return self.server.url

    def connection_uri(self, extra: dict[str, Any] | None = None) -> str:
        """The connection as JSON, ready for an ``AIRFLOW_CONN_<ID>`` variable."""
        return json.dumps(
            {
                "conn_type": "aws",
                "login": self.access_key_id,
                "password": self.secret_access_key,
                "extra": {
                    "region_name": self.region_name,
                    "service_config": {"customer-profiles": {"endpoint_url": self.url}},
                    **(extra or {}),
                },
            }
        )

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
def customer_profiles_emulator_factory(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., EmulatorEndpoint]]:
    """Start a local service with the given knobs; registers its connection as ``conn_id``."""
    started: list[CustomerProfilesServer] = []

    def start(
        conn_id: str = DEFAULT_CONN_ID,
        quotas: str = "off",
        latency_ms: float = 0.0,
        fault_rate: float = 0.0,
        access_key_id: str = "testing",
        secret_access_key: str = "testing",  # noqa: S107
        verify_signatures: bool = False,
        s3_endpoint_url: str | None = None,
        limits: ConnectionLimits | None = None,
    ) -> EmulatorEndpoint:
        knobs = Knobs(
            quotas,
            latency_ms,
            fault_rate,
            access_key_id if verify_signatures else None,
            secret_access_key if verify_signatures else None,
        )
        server = _start(knobs, EmulatorConfig(s3_endpoint_url=s3_endpoint_url), limits)
        started.append(server)
        endpoint = EmulatorEndpoint(server, conn_id, access_key_id, secret_access_key)
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", endpoint.connection_uri())
        return endpoint

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def customer_profiles_emulator(customer_profiles_emulator_factory) -> EmulatorEndpoint:
    """A fresh local Customer Profiles service, reachable through the ``customer_profiles_local`` connection."""
    return customer_profiles_emulator_factory()
