"""The table from operation name (as in the botocore model) to the function that serves it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from customer_profiles_local.state import EmulatorState

Handler = Callable[[EmulatorState, dict[str, Any]], dict[str, Any] | None]
AdminHandler = Callable[..., tuple[int, dict[str, Any]]]

HANDLERS: dict[str, Handler] = {}
ADMIN_ROUTES: list[tuple[str, re.Pattern[str], AdminHandler]] = []


def operation(name: str) -> Callable[[Handler], Handler]:
    """Register ``fn(state, params) -> result`` as the handler of the model operation ``name``."""

    def register(fn: Handler) -> Handler:
        if name in HANDLERS:
            raise RuntimeError(f"{name} is registered twice")
        HANDLERS[name] = fn
        return fn

    return register


def admin_route(method: str, path_regex: str) -> Callable[[AdminHandler], AdminHandler]:
    """Register ``fn(state, body, **path_groups) -> (status, json)`` under ``/_emulator/...``."""

    def register(fn: AdminHandler) -> AdminHandler:
        ADMIN_ROUTES.append((method, re.compile(f"^/_emulator{path_regex}$"), fn))
        return fn

    return register
