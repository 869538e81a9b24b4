"""The merge operator's audit location is checked before any merge, through a real DAG run (issue 12)."""

from __future__ import annotations

import datetime as dt

from airflow.sdk import DAG

from airflow_provider_customerprofiles.operators.customer_profiles import CustomerProfilesMergeMatchesOperator
from airflow_provider_customerprofiles.testing import run_dag


def test_missing_audit_bucket_fails_the_task_before_any_merge(
    airflow_db, matched_domain, moto_s3_server, monkeypatch, caplog, capsys
):
    endpoints = {
        "customer-profiles": {"endpoint_url": matched_domain.emulator.url},
        "s3": {"endpoint_url": moto_s3_server},
    }
    monkeypatch.setenv(
        "AIRFLOW_CONN_CP_MERGE_AUDIT", matched_domain.emulator.connection_uri({"service_config": endpoints})
    )
    uri = "s3://my-bucket/identity-resolution/merges.jsonl"  # the example DAG's default, which nothing creates
    with DAG("merge_missing_bucket", schedule=None, start_date=dt.datetime(2026, 1, 1), catchup=False) as dag:
        CustomerProfilesMergeMatchesOperator(
            task_id="merge",
            domain_name=matched_domain.name,
            min_confidence=0.9,
            audit_uri=uri,
            dry_run=False,
            aws_conn_id="cp_merge_audit",
            **matched_domain.preview_settings,
        )

    tis = run_dag(dag)

    assert tis["merge"].state == "failed"
    assert matched_domain.merge_calls() is None
    assert matched_domain.existing() == set(matched_domain.ids.values())
    captured = capsys.readouterr()
    log = caplog.text + captured.out + captured.err
    assert f"The audit location {uri} (audit_uri) is not writable, so nothing was merged: NoSuchBucket" in log
