"""Templated flags and lists of the Parquet load, rendered by a real DAG run, mean what they say."""

from __future__ import annotations

import datetime as dt

import pytest
from airflow.sdk import DAG

from airflow_provider_customerprofiles.testing import run_dag
from airflow_provider_customerprofiles.transfers.parquet_to_customer_profiles import (
    ParquetToCustomerProfilesOperator,
)
from tests.integration.ingest.support import DOMAIN, OBJECT_TYPE, all_accounts, by_rid, create_target, stored_objects
from tests.integration.ingest.support import write_rows as write_parquet

ROWS = 20


def load_dag(dag_id: str, conn_id: str, tmp_path, params: dict) -> DAG:
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2026, 1, 1), catchup=False, params=params) as dag:
        ParquetToCustomerProfilesOperator(
            task_id="load",
            source=str(tmp_path / "rows.parquet"),
            domain_name=DOMAIN,
            object_type_name=OBJECT_TYPE,
            columns="{{ params.columns }}",
            use_batch_api="{{ params.batch }}",
            keep_nulls="{{ params.keep_nulls }}",
            max_workers="{{ params.workers }}",
            dead_letter_uri=str(tmp_path / "dead"),
            checkpoint_uri=str(tmp_path / "checkpoints"),
            aws_conn_id=conn_id,
        )
    return dag


@pytest.mark.parametrize(
    ("batch", "keep_nulls", "operation", "other_operation"),
    [
        ("False", "False", "PutProfileObject", "BatchPutProfileObject"),
        ("true", "1", "BatchPutProfileObject", "PutProfileObject"),
    ],
)
def test_rendered_flags_and_columns_behave_as_rendered(
    airflow_db, customer_profiles_emulator_factory, tmp_path, batch, keep_nulls, operation, other_operation
):
    endpoint = customer_profiles_emulator_factory(conn_id="cp_templated_load")
    create_target(endpoint.client())
    write_parquet(tmp_path / "rows.parquet", ROWS, note=[None if i % 2 else "kept" for i in range(ROWS)])
    params = {"batch": batch, "keep_nulls": keep_nulls, "columns": ["rid", "acct", "note"], "workers": "2"}

    tis = run_dag(load_dag(f"templated_load_{operation}", endpoint.conn_id, tmp_path, params))

    assert tis["load"].state == "success"
    operations = endpoint.metrics()["operations"]
    assert operations[operation]["succeeded"] == (ROWS if operation == "PutProfileObject" else ROWS // 10)
    assert other_operation not in operations
    stored = by_rid(stored_objects(endpoint, all_accounts()))
    assert len(stored) == ROWS
    assert all(set(obj) <= {"rid", "acct", "note"} for obj in stored.values()), "columns must select, not split"
    null_rows = [stored[f"r{i:06d}"] for i in range(1, ROWS, 2)]
    if keep_nulls == "1":
        assert all(obj["note"] is None for obj in null_rows)
    else:
        assert all("note" not in obj for obj in null_rows)


def test_a_rendered_typo_in_a_flag_fails_before_any_row_is_sent(
    airflow_db, customer_profiles_emulator_factory, tmp_path, capsys, caplog
):
    endpoint = customer_profiles_emulator_factory(conn_id="cp_templated_typo")
    create_target(endpoint.client())
    write_parquet(tmp_path / "rows.parquet", ROWS)
    params = {"batch": "ture", "keep_nulls": "False", "columns": ["rid", "acct"], "workers": "2"}

    tis = run_dag(load_dag("templated_load_typo", endpoint.conn_id, tmp_path, params))

    assert tis["load"].state == "failed"
    log = caplog.text + capsys.readouterr().out
    assert "use_batch_api of ParquetToCustomerProfilesOperator must be true or false" in log
    operations = endpoint.metrics()["operations"]
    assert "PutProfileObject" not in operations
    assert "BatchPutProfileObject" not in operations
