"""
Run DAGs for real in tests and scripts: ``dag.test()`` on a DAG that need not be in a DAGs folder.

``dag.test()`` in Airflow 3 wants the DAG serialized in the metadata database, as the
DAG processor would leave it; :func:`run_dag` writes it there first. Used by this
project's tests and demo, and by users who test their own DAGs against the local
Customer Profiles service.
"""

from __future__ import annotations

import os
from typing import Any


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
