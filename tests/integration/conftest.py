"""Fixtures for the provider's operators, sensors and triggers against the local service over HTTP."""

from __future__ import annotations

import uuid

import pytest

from airflow_provider_customerprofiles.hooks.customer_profiles import CustomerProfilesHook
from tests.integration.provider_support import CUSTOMER_TYPE, PHASE_SECONDS, STEP_SECONDS


@pytest.fixture
def emulator(customer_profiles_emulator):
    """The local service with lifecycles paced for tests."""
    customer_profiles_emulator.admin(
        "POST", "settings", {"WorkflowStepSeconds": STEP_SECONDS, "JobPhaseSeconds": PHASE_SECONDS}
    )
    return customer_profiles_emulator


@pytest.fixture
def hook(emulator) -> CustomerProfilesHook:
    return CustomerProfilesHook(aws_conn_id=emulator.conn_id)


@pytest.fixture
def domain(emulator) -> str:
    """A domain with identity resolution enabled and a ``Customer`` object type."""
    name = "d_" + uuid.uuid4().hex[:12]
    client = emulator.client()
    client.create_domain(DomainName=name, DefaultExpirationDays=30, Matching={"Enabled": True})
    client.put_profile_object_type(DomainName=name, ObjectTypeName="Customer", **CUSTOMER_TYPE)
    return name


@pytest.fixture
def task_log(caplog, capsys):
    """Everything logged so far: Python logging plus what task loggers wrote to stdout (structlog)."""
    written: list[str] = []

    def read() -> str:
        captured = capsys.readouterr()
        written.append(captured.out + captured.err)
        return caplog.text + "".join(written)

    return read
