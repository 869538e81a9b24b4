"""The local Customer Profiles service with a matching-enabled domain, and S3 on moto, for match exports."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from airflow_provider_customerprofiles.testing import LocalServiceConnection

DOMAIN = "match-export"
GENERATED = "2026-11-21T03:15:00Z"


@dataclass
class MatchService:
    """The service, its domain, and an ``aws`` connection reaching it and moto's S3."""

    endpoint: LocalServiceConnection
    domain: str
    conn_id: str
    s3_url: str

    def seed(self, groups: int, group_size: int = 2, generated: str = GENERATED, seed: int = 1) -> int:
        """Publish a generated match run; returns its number of profile entries."""
        answer = self.endpoint.admin(
            "POST",
            f"domains/{self.domain}/matches",
            {"Generate": {"Groups": groups, "GroupSize": group_size, "Seed": seed}, "MatchGenerationDate": generated},
        )
        return answer["ProfileEntries"]


def register_connection(monkeypatch, endpoint: LocalServiceConnection, s3_url: str, conn_id: str) -> None:
    """An ``aws`` connection with per-service endpoints for Customer Profiles and S3."""
    uri = json.loads(endpoint.connection_uri())
    uri["extra"]["service_config"]["s3"] = {"endpoint_url": s3_url}
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(uri))


@pytest.fixture
def match_service(customer_profiles_emulator_factory, moto_s3_server, monkeypatch) -> MatchService:
    endpoint = customer_profiles_emulator_factory(s3_endpoint_url=moto_s3_server)
    endpoint.client().create_domain(DomainName=DOMAIN, DefaultExpirationDays=30, Matching={"Enabled": True})
    register_connection(monkeypatch, endpoint, moto_s3_server, "cp_matches")
    return MatchService(endpoint, DOMAIN, "cp_matches", moto_s3_server)


@pytest.fixture
def outlet_context():
    """The part of a task context the export operators use: the real outlet-event accessors."""
    from airflow.sdk.execution_time.context import OutletEventAccessors

    return {"outlet_events": OutletEventAccessors()}
