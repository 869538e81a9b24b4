"""OpenLineage switched on for one test, with a file transport, and the services the transfers reach."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.integration.matches.conftest import match_service  # noqa: F401  (the fixture, shared)

JOB_NAMESPACE = "cp-lineage-tests"
MOTO_ACCOUNT = "123456789012"  # the account moto's STS GetCallerIdentity answers with


def _forget_openlineage_settings() -> None:
    """The openlineage provider caches each setting on first use; make it read the environment again."""
    from airflow.providers.openlineage import conf

    for setting in vars(conf).values():
        if hasattr(setting, "cache_clear"):
            setting.cache_clear()


@pytest.fixture
def openlineage_events(tmp_path) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """
    The provider's listener on, writing events to a file; yields a reader of the events so far.

    A deployment turns OpenLineage on by setting ``AIRFLOW__OPENLINEAGE__TRANSPORT`` before Airflow
    starts, and the provider's plugin then registers the listener. In a test process other tests have
    already loaded the plugins (with OpenLineage off), so this fixture registers the same listener itself
    and removes it afterwards.
    """
    from airflow.providers.openlineage.plugins.listener import OpenLineageListener, get_openlineage_listener
    from airflow.sdk.listener import get_listener_manager

    log_file = tmp_path / "openlineage.jsonl"
    transport = {"type": "file", "log_file_path": str(log_file), "append": True}

    def read() -> list[dict[str, Any]]:
        return [json.loads(line) for line in log_file.read_text().splitlines()] if log_file.exists() else []

    manager = get_listener_manager()
    assert not any(isinstance(plugin, OpenLineageListener) for plugin in manager.pm.get_plugins())
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("AIRFLOW__OPENLINEAGE__TRANSPORT", json.dumps(transport))
        environment.setenv("AIRFLOW__OPENLINEAGE__NAMESPACE", JOB_NAMESPACE)
        _forget_openlineage_settings()
        listener = get_openlineage_listener()
        manager.add_listener(listener)
        yield read
        manager.pm.unregister(listener)
    _forget_openlineage_settings()


@pytest.fixture
def lineage_service(match_service, monkeypatch):  # noqa: F811
    """The match service's connection, with STS on moto too (the Customer Profiles namespace needs the account)."""
    variable = f"AIRFLOW_CONN_{match_service.conn_id.upper()}"
    connection = json.loads(os.environ[variable])
    connection["extra"]["service_config"]["sts"] = {"endpoint_url": match_service.s3_url}
    monkeypatch.setenv(variable, json.dumps(connection))
    return match_service


def complete_event(events: list[dict[str, Any]], dag_id: str, task_id: str) -> dict[str, Any]:
    """The one COMPLETE event of a task."""
    (event,) = [e for e in events if e["eventType"] == "COMPLETE" and e["job"]["name"] == f"{dag_id}.{task_id}"]
    return event


def datasets(event: dict[str, Any], side: str) -> list[tuple[str, str, int | None]]:
    """``(namespace, name, rowCount)`` of an event's inputs or outputs, sorted."""
    found = []
    for dataset in event[side]:
        statistics = dataset.get("outputFacets", {}).get("outputStatistics")
        found.append((dataset["namespace"], dataset["name"], statistics and statistics["rowCount"]))
    return sorted(found)
