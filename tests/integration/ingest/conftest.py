"""Fixtures for the ingest integration tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_customerprofiles.ingest.loader import client_config
from tests.integration.ingest.support import create_target


@pytest.fixture
def emulator(customer_profiles_emulator_factory) -> Callable[..., Any]:
    """Start a local service with knobs; returns (endpoint, loader client) with the target created."""

    def start(**knobs: Any) -> tuple[Any, Any]:
        endpoint = customer_profiles_emulator_factory(**knobs)
        fault_rate, endpoint.server.knobs.fault_rate = endpoint.server.knobs.fault_rate, 0.0
        create_target(endpoint.client())  # set up without injected faults, then turn them on
        endpoint.server.knobs.fault_rate = fault_rate
        return endpoint, endpoint.client(**client_config(16))

    return start
