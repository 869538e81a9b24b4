"""
Where a load keeps its state (checkpoints, dead letters), and the refusal to keep it on one worker's disk.

A retry may run on another machine under a distributed executor (Celery, Kubernetes ...):
state on the first worker's local disk would be invisible there, so the retry would start
over and the first try's dead letters would be stranded. The base location comes from the
provider's ``[customer_profiles] ingest_state_uri`` setting (see ``get_provider_info()``).
"""

from __future__ import annotations

from collections.abc import Mapping

from airflow.configuration import AIRFLOW_HOME
from airflow.providers.common.compat.sdk import conf

from airflow_provider_customerprofiles.storage import is_s3

SECTION = "customer_profiles"
LOCAL_DEFAULT_BASE = f"{AIRFLOW_HOME}/customer_profiles_ingest"
LOCAL_EXECUTOR = "LocalExecutor"


def state_base_uri() -> str:
    """``[customer_profiles] ingest_state_uri``, or ``$AIRFLOW_HOME/customer_profiles_ingest`` when unset."""
    return conf.get(SECTION, "ingest_state_uri", fallback="") or LOCAL_DEFAULT_BASE


def task_executor_name(task_executor: str | None, executor_setting: str) -> str:
    """The executor that runs the task: the one it names (by alias or name), else the default (first) one.

    ``executor_setting`` is ``[core] executor``: ``CeleryExecutor``, a list such as
    ``LocalExecutor,CeleryExecutor``, ``alias:module.path.Executor`` entries, and team lists after ``;``.
    """
    entries = [entry.strip() for entry in executor_setting.split(";")[0].strip("=").split(",") if entry.strip()]
    targets = {}  # alias or name -> core name or module path
    for entry in entries:
        alias, _, target = entry.rpartition(":")
        targets[target] = targets[alias or target] = target
    if task_executor:
        return targets.get(task_executor, task_executor)
    return entries[0].rpartition(":")[2] if entries else LOCAL_EXECUTOR


def is_local_executor(name: str) -> bool:
    """Whether every try of a task runs on one machine: the LocalExecutor, by core name or module path."""
    return name.rsplit(".", 1)[-1] == LOCAL_EXECUTOR


def check_state_is_shared(locations: Mapping[str, str], task_executor: str | None) -> None:
    """Refuse local-disk state under a distributed executor, naming what to set.

    ``locations`` maps an argument name (``checkpoint_uri`` ...) to the URI it resolved to. A local
    path on storage that every worker mounts (NFS, EFS) is allowed with
    ``[customer_profiles] local_state_is_shared = True``.
    """
    executor = task_executor_name(task_executor, conf.get("core", "executor", fallback=LOCAL_EXECUTOR))
    if is_local_executor(executor) or conf.getboolean(SECTION, "local_state_is_shared", fallback=False):
        return
    on_local_disk = [f"{argument} ({uri})" for argument, uri in locations.items() if not is_s3(uri)]
    if on_local_disk:
        raise ValueError(
            f"{' and '.join(on_local_disk)} would be on this worker's local disk, but tasks run on {executor}: "
            "a retry on another worker would start over and strand the dead letters. Set "
            f"[{SECTION}] ingest_state_uri (AIRFLOW__CUSTOMER_PROFILES__INGEST_STATE_URI) to an s3:// URI, or pass "
            f"s3:// URIs as the operator's checkpoint_uri and dead_letter_uri; if the path is on storage every "
            f"worker mounts, set [{SECTION}] local_state_is_shared = True."
        )
