"""
Run DAGs for real in tests and scripts: ``dag.test()`` on a DAG that need not be in a DAGs folder.

``dag.test()`` in Airflow 3 wants the DAG serialized in the metadata database, as the
DAG processor would leave it; :func:`run_dag` writes it there first. Used by this
project's tests and demo, and by users who test their own DAGs against the local
Customer Profiles service (the ``customer-profiles-local`` distribution, whose pytest
fixtures start it). Nothing here is loaded unless a test imports it, and nothing here
imports the local service: :class:`LocalServiceConnection` takes any running endpoint.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Protocol

DEFAULT_CONN_ID = "customer_profiles_local"


def aws_connection(
    endpoint_url: str,
    access_key_id: str = "testing",
    secret_access_key: str = "testing",  # noqa: S107 (the local service's test credentials)
    region_name: str = "us-east-1",
    extra: dict[str, Any] | None = None,
) -> str:
    """
    An Airflow ``aws`` connection whose Customer Profiles client reaches ``endpoint_url``.

    Returned as JSON, ready for an ``AIRFLOW_CONN_<ID>`` variable. ``extra`` is merged into
    the connection's extra; a ``service_config`` there replaces the default one, so give the
    ``customer-profiles`` endpoint again when adding others (for example ``s3`` on moto).
    """
    return json.dumps(
        {
            "conn_type": "aws",
            "login": access_key_id,
            "password": secret_access_key,
            "extra": {
                "region_name": region_name,
                "service_config": {"customer-profiles": {"endpoint_url": endpoint_url}},
                **(extra or {}),
            },
        }
    )


class LocalServiceEndpoint(Protocol):
    """What :class:`LocalServiceConnection` needs of a running local service (its fixtures' endpoints)."""

    url: str
    access_key_id: str
    secret_access_key: str
    region_name: str


@dataclass
class LocalServiceConnection:
    """A running local service and the Airflow connection id that reaches it (``AIRFLOW_CONN_<ID>``)."""

    endpoint: LocalServiceEndpoint
    conn_id: str = DEFAULT_CONN_ID

    @property
    def env_var(self) -> str:
        """The environment variable Airflow reads this connection from."""
        return f"AIRFLOW_CONN_{self.conn_id.upper()}"

    def connection_uri(self, extra: dict[str, Any] | None = None) -> str:
        """The connection as JSON (see :func:`aws_connection`), with the endpoint's credentials."""
        endpoint = self.endpoint
        return aws_connection(
            endpoint.url, endpoint.access_key_id, endpoint.secret_access_key, endpoint.region_name, extra
        )

    def __getattr__(self, name: str) -> Any:
        """Everything else is the endpoint's: ``url``, ``client()``, ``admin()``, ``metrics()``, ``server``."""
        if name.startswith("__") or name == "endpoint":
            raise AttributeError(name)
        return getattr(self.endpoint, name)


def run_dag(dag: Any, **test_kwargs: Any) -> dict[str, Any]:
    """
    Run ``dag`` with ``dag.test(**test_kwargs)`` (triggers run inline); returns its task instances.

    Keys are task ids; a mapped task's instances are keyed ``task_id[map_index]``.
    """
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

    DagBundlesManager().sync_bundles_to_db()
    bag = DagBag(dag_folder=os.devnull)
    bag.bag_dag(dag)
    sync_bag_to_db(bag, "dags-folder", None)
    run = dag.test(**test_kwargs)
    return {
        ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]": ti
        for ti in sorted(run.get_task_instances(), key=lambda ti: (ti.task_id, ti.map_index))
    }


def xcom(ti: Any, key: str = "return_value") -> Any:
    """The XCom value a finished task instance pushed under ``key``."""
    from airflow import settings
    from airflow.models.xcom import XComModel

    query = XComModel.get_many(
        run_id=ti.run_id, key=key, dag_ids=ti.dag_id, task_ids=ti.task_id, map_indexes=ti.map_index
    )
    with settings.Session() as session:
        row = session.scalars(query).first()
        return None if row is None else XComModel.deserialize_value(row)


def load_dag(path: str | os.PathLike[str], dag_id: str | None = None) -> Any:
    """Parse one DAG file and return its DAG (the only one, or ``dag_id``); import errors raise."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(path))
    if bag.import_errors:
        raise ValueError(f"{path} did not import: {bag.import_errors}")
    if dag_id is None:
        (dag,) = bag.dags.values()
        return dag
    return bag.get_dag(dag_id)
