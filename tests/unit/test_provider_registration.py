"""Airflow discovers the provider through its entry point, with everything get_provider_info lists."""

from __future__ import annotations

import importlib
import subprocess
import sys

from airflow_provider_customerprofiles import DISTRIBUTION_NAME, get_provider_info


def test_providers_manager_lists_the_provider_and_its_hook():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert DISTRIBUTION_NAME in manager.providers
    hook_modules = [m for h in get_provider_info()["hooks"] for m in h["python-modules"]]
    assert "airflow_provider_customerprofiles.hooks.customer_profiles" in hook_modules


def test_every_module_and_class_the_provider_info_names_imports():
    info = get_provider_info()
    modules = [
        m
        for key in ("hooks", "operators", "sensors", "triggers", "transfers")
        for e in info.get(key, [])
        for m in e.get("python-modules", [e.get("python-module")])
        if m
    ]
    for module in modules:
        importlib.import_module(module)
    for link in info.get("extra-links", []):
        module, _, name = link.rpartition(".")
        assert hasattr(importlib.import_module(module), name), link


def test_airflow_cli_lists_the_provider():
    listed = subprocess.run(
        [sys.executable, "-m", "airflow", "providers", "list", "--output", "plain"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert DISTRIBUTION_NAME in listed
