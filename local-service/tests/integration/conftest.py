"""Fixtures shared by the integration tests: a paging client of the local service, and a fresh domain."""

from __future__ import annotations

import pytest
from helpers import PATIENT_RETRIES, Pager, create_domain


@pytest.fixture
def pager(customer_profiles_emulator):
    return Pager(customer_profiles_emulator.client(**PATIENT_RETRIES))


@pytest.fixture
def client(pager):
    return pager.client


@pytest.fixture
def domain(client):
    return create_domain(client)
