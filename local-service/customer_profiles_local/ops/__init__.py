"""Operation handlers, one module per area of the API; importing a module registers its handlers."""

from __future__ import annotations

import importlib

MODULES = (
    "domains",
    "tags",
    "object_types",
    "templates",
    "objects",
    "profiles",
    "integrations",
    "workflows",
    "identity_resolution",
    "admin",
)


def load_all() -> None:
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
