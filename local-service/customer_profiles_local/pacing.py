"""How fast the local service's lifecycles run: emulator-only settings (``POST /_emulator/settings``).

AWS takes minutes to hours per workflow step or identity-resolution phase; tests and
demos need seconds, and a moved clock (``POST /_emulator/clock``) for anything longer.
"""

from __future__ import annotations

from typing import Any

from customer_profiles_local.errors import BadRequest
from customer_profiles_local.state import EmulatorState

DEFAULTS: dict[str, float] = {
    # how long each step of an integration workflow runs
    "WorkflowStepSeconds": 2.0,
    # how long each phase (PENDING, PREPROCESSING, FIND_MATCHING, MERGING) of an identity-resolution job lasts
    "JobPhaseSeconds": 1.0,
}


def pace(state: EmulatorState, name: str) -> float:
    """The current value of setting ``name`` (one of ``DEFAULTS``), in seconds."""
    return float(state.settings.get(name, DEFAULTS[name]))


def update_settings(state: EmulatorState, changes: dict[str, Any]) -> dict[str, Any]:
    """Validate and merge ``changes``; returns every setting in effect."""
    unknown = sorted(set(changes) - set(DEFAULTS))
    if unknown:
        raise BadRequest(f"Unknown setting(s) {unknown}; known settings are {sorted(DEFAULTS)}")
    for name, value in changes.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 86400:
            raise BadRequest(f"Setting {name} must be a number of seconds between 0 and 86400")
    state.settings.update({name: float(value) for name, value in changes.items()})
    return {**DEFAULTS, **state.settings}
