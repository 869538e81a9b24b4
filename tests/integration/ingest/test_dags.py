"""The example DAG in a real DAG run (``dag.test()``): the operator mapped over several files."""

from __future__ import annotations

import json
from pathlib import Path

from airflow_provider_customerprofiles.testing import load_dag, run_dag
from tests.eventually import eventually

DAGS = Path(__file__).parents[3] / "dags"
FILES, ROWS = 3, 40


def test_example_dag_maps_the_load_over_files_against_the_local_service(
    airflow_db, customer_profiles_emulator_factory, tmp_path
):
    endpoint = customer_profiles_emulator_factory(conn_id="cp_example_backfill")
    dag = load_dag(DAGS / "example_parquet_backfill.py", "example_parquet_backfill")

    tis = run_dag(
        dag,
        run_conf={
            "aws_conn_id": "cp_example_backfill",
            "sample_dir": str(tmp_path),
            "sample_files": FILES,
            "sample_rows": ROWS,
        },
    )

    assert {ti.state for ti in tis.values()} == {"success"}
    # the UI shows each mapped load by its file, not as 0/1/2
    files = [tis[f"backfill_orders[{n}]"].rendered_map_index for n in range(FILES)]
    assert files == [str(tmp_path / "orders" / f"orders-{2020 + n}.parquet") for n in range(FILES)]
    checkpoints = sorted((tmp_path / "checkpoints").rglob("*.json"))
    assert [p.name for p in checkpoints] == [f"map_index={n}.json" for n in range(FILES)]
    for checkpoint in checkpoints:
        assert json.loads(checkpoint.read_text())["totals"] == {"accepted": ROWS, "rejected": 0}
    client = endpoint.client()

    def stored_orders() -> dict[str, list[str]]:
        """Each stored Order object's JSON, by the ProfileId of the account it was read through."""
        objects: dict[str, list[str]] = {}
        for account in range(50):
            profiles = client.search_profiles(
                DomainName="retail-backfill", KeyName="_account", Values=[f"acct-{account:04d}"]
            )["Items"]
            for profile in profiles:
                items = client.list_profile_objects(
                    DomainName="retail-backfill", ObjectTypeName="Order", ProfileId=profile["ProfileId"]
                )["Items"]
                objects[profile["ProfileId"]] = [item["Object"] for item in items]
        return objects

    def order_ids(by_profile: dict[str, list[str]]) -> list[str]:
        return sorted(json.loads(order)["OrderId"] for orders in by_profile.values() for order in orders)

    expected = [f"ord-{i:08d}" for i in range(FILES * ROWS)]
    by_profile = eventually(stored_orders, lambda found: order_ids(found) == expected, "every order stored")
    assert len(by_profile) == 50  # one profile per account
    assert all("internal_note" not in order for orders in by_profile.values() for order in orders)
