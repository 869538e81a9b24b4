"""A local Amazon Connect Customer Profiles service that speaks the real wire protocol."""

from __future__ import annotations

from airflow_provider_customerprofiles.emulator.admin_client import call_admin
from airflow_provider_customerprofiles.emulator.connections import ConnectionLimits
from airflow_provider_customerprofiles.emulator.server import CustomerProfilesServer, Knobs
from airflow_provider_customerprofiles.emulator.state import EmulatorConfig

__all__ = ["ConnectionLimits", "CustomerProfilesServer", "EmulatorConfig", "Knobs", "call_admin"]
