"""A local Amazon Connect Customer Profiles service that speaks the real wire protocol."""

from __future__ import annotations

from customer_profiles_local.admin_client import call_admin
from customer_profiles_local.connections import ConnectionLimits
from customer_profiles_local.server import CustomerProfilesServer, Knobs
from customer_profiles_local.state import EmulatorConfig

__version__ = "0.1.0"

__all__ = ["ConnectionLimits", "CustomerProfilesServer", "EmulatorConfig", "Knobs", "call_admin"]
