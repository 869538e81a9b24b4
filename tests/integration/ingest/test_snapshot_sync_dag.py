"""The snapshot-sync example DAG in real DAG runs (``dag.test()``): the second night sends only the changes."""

from __future__ import annotations

import datetime as dt

from airflow_provider_customerprofiles.testing import load_dag, run_dag, xcom
from tests.eventually import eventually
from tests.integration.example_dags_support import DAGS

ROWS = 400
CHANGED, ADDED = 4, 2  # every 100th of the first night's customers, and 0.5% more


def run_night(dag, tmp_path, night: int) -> dict:
    tis = run_dag(
        dag,
        logical_date=dt.datetime(2024, 3, night, tzinfo=dt.timezone.utc),
        run_conf={"aws_conn_id": "cp_example_sync", "sample_dir": str(tmp_path), "sample_rows": ROWS, "night": night},
    )
    assert {ti.state for ti in tis.values()} == {"success"}
    return xcom(tis["report"])


def test_the_second_night_sends_only_changed_and_added_customers(
    airflow_db, customer_profiles_emulator_factory, tmp_path
):
    endpoint = customer_profiles_emulator_factory(conn_id="cp_example_sync")
    dag = load_dag(DAGS / "example_snapshot_sync.py")

    def objects_accepted() -> int:
        return endpoint.metrics()["operations"].get("BatchPutProfileObject", {}).get("objects_accepted", 0)

    first = run_night(dag, tmp_path, 1)
    assert first == {"rows_read": ROWS, "objects_written": ROWS, "rows_unchanged": 0, "dead_lettered": 0}
    sent_first = objects_accepted()
    assert sent_first == ROWS

    second = run_night(dag, tmp_path, 2)
    assert second == {
        "rows_read": ROWS + ADDED,
        "objects_written": CHANGED + ADDED,
        "rows_unchanged": ROWS - CHANGED,
        "dead_lettered": 0,
    }
    assert objects_accepted() - sent_first == CHANGED + ADDED

    client = endpoint.client()
    # night 2's value reaches the service once its object is matched
    eventually(
        lambda: client.search_profiles(DomainName="crm-sync", KeyName="_customerId", Values=["cust-00000100"])["Items"],
        lambda found: [profile.get("Attributes", {}).get("LoyaltyPoints") for profile in found] == ["1001"],
        "night 2's LoyaltyPoints on the changed customer's one profile",
    )
