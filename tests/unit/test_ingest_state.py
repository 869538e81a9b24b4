"""Which executor runs a load's task, read from ``[core] executor`` as Airflow writes it."""

from __future__ import annotations

import pytest

from airflow_provider_customerprofiles.transfers.ingest_state import is_local_executor, task_executor_name


@pytest.mark.parametrize(
    ("setting", "task_executor", "expected"),
    [
        ("LocalExecutor", None, "LocalExecutor"),
        ("CeleryExecutor", None, "CeleryExecutor"),
        (" LocalExecutor , CeleryExecutor ", None, "LocalExecutor"),  # the first one is the default
        ("LocalExecutor,CeleryExecutor", "CeleryExecutor", "CeleryExecutor"),  # the task names another
        ("fast:LocalExecutor,remote:my.pkg.RemoteExecutor", "remote", "my.pkg.RemoteExecutor"),  # by alias
        ("fast:LocalExecutor,remote:my.pkg.RemoteExecutor", None, "LocalExecutor"),
        ("airflow.executors.local_executor.LocalExecutor", None, "airflow.executors.local_executor.LocalExecutor"),
        ("CeleryExecutor;team1=LocalExecutor", None, "CeleryExecutor"),  # team lists follow the global one
    ],
)
def test_the_tasks_executor_is_the_one_it_names_else_the_default(setting, task_executor, expected):
    assert task_executor_name(task_executor, setting) == expected


@pytest.mark.parametrize(
    ("name", "local"),
    [
        ("LocalExecutor", True),
        ("airflow.executors.local_executor.LocalExecutor", True),
        ("CeleryExecutor", False),
        ("KubernetesExecutor", False),
        ("airflow.providers.celery.executors.celery_executor.CeleryExecutor", False),
        ("my.pkg.NotLocalExecutorAtAll", False),
    ],
)
def test_only_the_local_executor_keeps_every_try_on_one_machine(name, local):
    assert is_local_executor(name) is local
