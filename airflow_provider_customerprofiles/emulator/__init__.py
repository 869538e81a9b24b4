"""A local Amazon Connect Customer Profiles service that speaks the real wire protocol."""

from __future__ import annotations

from airflow_provider_customerprofiles.emulator.server import CustomerProfilesServer, Knobs
from airflow_provider_customerprofiles.emulator.state import EmulatorConfig

__all__ = ["CustomerProfilesServer", "EmulatorConfig", "Knobs"]
