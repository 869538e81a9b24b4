"""What a user sees of the example DAGs in the UI before running them: docs, the trigger form, waiting."""

from __future__ import annotations

import pytest
import yaml

from airflow_provider_customerprofiles.testing import load_dag
from tests.integration.example_dags_support import DAGS

EXAMPLES = sorted(path.name for path in DAGS.glob("example_*.py"))
COMPOSE = yaml.safe_load((DAGS.parent / "docker-compose.yaml").read_text())


def test_there_are_examples():
    assert len(EXAMPLES) == 5


@pytest.fixture(params=EXAMPLES)
def dag(request):
    return load_dag(DAGS / request.param)


def test_every_dag_has_doc_md(dag):
    assert dag.doc_md is not None and len(dag.doc_md.strip().splitlines()) > 5, dag.dag_id


def test_every_param_has_a_description(dag):
    undescribed = [name for name, param in dag.params.items() if not param.description]
    assert undescribed == [], dag.dag_id


def test_the_trigger_form_requires_no_optional_param(dag):
    """Airflow 3.3's trigger form marks a param required when its type does not include "null",
    and disables Trigger while a required one is empty: an empty default must allow null."""
    for name, param in dag.params.items():
        if param.value in (None, ""):
            types = param.schema.get("type")
            assert isinstance(types, list) and "null" in types, f"{dag.dag_id}: {name}"


def test_sensors_wait_in_the_triggerer(dag):
    sensors = [task for task in dag.tasks if task.task_type.endswith("Sensor")]
    assert all(sensor.deferrable for sensor in sensors), dag.dag_id


def test_default_connections_are_the_ones_the_compose_file_defines(dag):
    environment = COMPOSE["services"]["airflow-scheduler"]["environment"]
    for name, param in dag.params.items():
        if name.endswith("conn_id"):
            assert f"AIRFLOW_CONN_{param.value.upper()}" in environment, f"{dag.dag_id}: {name}"


def test_the_integration_workflow_is_checked_often_enough_to_end_soon_after_it():
    dag = load_dag(DAGS / "example_integration_workflow.py")
    operator = dag.get_task("run_workflow")
    assert operator.deferrable and operator.waiter_delay <= 15
    assert operator.waiter_delay * operator.waiter_max_attempts >= 24 * 3600  # still waits a day
