"""End to end: a real scheduler, dag-processor, triggerer and api-server with the LocalExecutor on
PostgreSQL run the example backfill DAG against the local Customer Profiles service."""

from __future__ import annotations

import re
from pathlib import Path

from tests.e2e.airflow_stack import airflow_stack
from tests.eventually import eventually

DAGS = Path(__file__).parents[2] / "dags"
FILES, ROWS = 3, 400


def test_scheduler_runs_the_backfill_dag(customer_profiles_emulator_factory, postgres_dsn, tmp_path):
    emulator = customer_profiles_emulator_factory(quotas="aws", conn_id="aws_default")
    env = {"AIRFLOW_CONN_AWS_DEFAULT": emulator.connection_uri()}

    with airflow_stack(tmp_path / "airflow-home", DAGS, env) as stack:
        state = stack.trigger_and_wait(
            "example_parquet_backfill",
            conf={"sample_dir": str(tmp_path / "lake"), "sample_files": FILES, "sample_rows": ROWS},
        )
        logs = stack.task_log_text()

    assert state == "success", logs[-5000:]
    client = emulator.client()
    eventually(
        lambda: client.get_domain(DomainName="retail-backfill")["Stats"],
        lambda stats: stats["ObjectCount"] == FILES * ROWS,
        "every object matched",
    )
    batch_puts = emulator.metrics()["operations"]["BatchPutProfileObject"]
    assert batch_puts["succeeded"] >= FILES * ROWS / 10
    # Each mapped task logged its progress in counts; no log shows a customer's email address.
    assert logs.count(f"Ingest finished: rows {ROWS}/{ROWS}") == FILES
    assert not re.search(r"customer\d+@example\.com", logs)
