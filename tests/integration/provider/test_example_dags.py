"""The example DAGs users copy, run by Airflow (``dag.test()``) against the local service."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from airflow_provider_customerprofiles.testing import load_dag, run_dag, xcom

DAGS = Path(__file__).parents[3] / "dags"


def test_example_integration_workflow(airflow_db, emulator):
    dag = load_dag(DAGS / "example_integration_workflow.py")
    dag.get_task("run_workflow").waiter_delay = 1  # the local service runs a step in STEP_SECONDS

    tis = run_dag(dag, run_conf={"aws_conn_id": emulator.conn_id, "domain_name": "retail_wf"})

    assert {task: ti.state for task, ti in tis.items()} == {
        "create_domain": "success",
        "put_object_type": "success",
        "run_workflow": "success",
    }
    workflow = emulator.client().get_workflow(DomainName="retail_wf", WorkflowId=xcom(tis["run_workflow"]))
    assert workflow["Status"] == "COMPLETE"
    assert workflow["Metrics"]["AppflowIntegration"]["StepsCompleted"] == 6  # twelve months, two per step


def test_example_identity_resolution(airflow_db, emulator, tmp_path):
    client = emulator.client()
    client.create_domain(DomainName="retail_ir", DefaultExpirationDays=365, Matching={"Enabled": True})
    for n in range(3):  # three pairs of duplicates, by email
        for first_name in ("Ann", "Anne"):
            client.create_profile(
                DomainName="retail_ir", FirstName=first_name, LastName=f"Doe{n}", EmailAddress=f"ann{n}@example.com"
            )
    conf = {
        "aws_conn_id": emulator.conn_id,
        "domain_name": "retail_ir",
        "min_confidence": 0.5,
        "audit_dir": str(tmp_path / "audit"),
    }
    # the weekly job, started once the sensor waits (the local service starts jobs on demand)
    dag = load_dag(DAGS / "example_identity_resolution.py")
    dag.get_task("wait_for_identity_resolution").poke_interval = 1  # jobs take seconds on the local service
    timer = threading.Timer(2.0, emulator.admin, ("POST", "domains/retail_ir/identity-resolution-jobs"))
    timer.start()
    try:
        tis = run_dag(dag, run_conf=conf)
    finally:
        timer.join()

    assert {task: ti.state for task, ti in tis.items()} == {
        "configure_matching": "success",
        "wait_for_identity_resolution": "success",
        "merge_matches": "success",
    }
    assert xcom(tis["wait_for_identity_resolution"])["status"] == "COMPLETED"
    result = xcom(tis["merge_matches"])
    assert result["dry_run"] is True
    assert result["groups_considered"] == result["groups_merged"] == 3
    assert emulator.metrics()["operations"].get("MergeProfiles") is None
    audit = [json.loads(line) for line in Path(result["audit_uri"]).read_text().splitlines()]
    assert [line["outcome"] for line in audit] == ["would_merge"] * 3
