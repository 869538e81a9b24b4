"""The operator's sync_state_uri: nightly runs send only changes; mapped instances are refused."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from airflow_provider_customerprofiles.transfers.parquet_to_customer_profiles import ParquetToCustomerProfilesOperator
from tests.integration.ingest.support import DOMAIN, OBJECT_TYPE, create_target, put_requests, write_rows


def objects_accepted(endpoint) -> int:
    return endpoint.metrics()["operations"]["BatchPutProfileObject"]["objects_accepted"]


def context(run_id: str, map_index: int = -1) -> dict:
    ti = SimpleNamespace(dag_id="nightly", task_id="sync", map_index=map_index)
    return {"ti": ti, "run_id": run_id}


def operator(tmp_path, source) -> ParquetToCustomerProfilesOperator:
    return ParquetToCustomerProfilesOperator(
        task_id="sync",
        source=str(source),
        domain_name=DOMAIN,
        object_type_name=OBJECT_TYPE,
        dead_letter_uri=str(tmp_path / "dead"),
        checkpoint_uri=str(tmp_path / "checkpoints"),
        sync_state_uri=str(tmp_path / "state"),
        aws_conn_id="cp_sync",
    )


def test_nightly_runs_send_only_the_changes(customer_profiles_emulator_factory, tmp_path):
    endpoint = customer_profiles_emulator_factory(conn_id="cp_sync")
    create_target(endpoint.client())
    first = operator(tmp_path, write_rows(tmp_path / "night-1.parquet", 40)).execute(context("night-1"))
    assert (first["objects_written"], first["rows_unchanged"]) == (40, 0)
    accepted = objects_accepted(endpoint)
    second = operator(tmp_path, write_rows(tmp_path / "night-2.parquet", 45)).execute(context("night-2"))
    assert (second["objects_written"], second["rows_unchanged"]) == (5, 40)
    assert second["sync_state_uri"] == str(tmp_path / "state")
    assert objects_accepted(endpoint) - accepted == 5


def test_a_mapped_instance_is_refused(customer_profiles_emulator_factory, tmp_path):
    endpoint = customer_profiles_emulator_factory(conn_id="cp_sync")
    create_target(endpoint.client())
    with pytest.raises(ValueError, match=r"cannot be used with \.expand\(\)"):
        operator(tmp_path, write_rows(tmp_path / "a.parquet", 5)).execute(context("night-1", map_index=0))
    assert put_requests(endpoint) == 0
