"""The Celery end-to-end test's DAG: one mapped load per Parquet file on S3, retried once.

Checkpoints and dead letters go where ``[customer_profiles] ingest_state_uri`` says (S3 in the
test), and every load shares the account's quota through the ``cp_quota`` Redis connection.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_customerprofiles.transfers.parquet_to_customer_profiles import (
    ParquetToCustomerProfilesOperator,
)

with DAG(
    dag_id="e2e_celery_backfill",
    schedule=None,
    start_date=dt.datetime(2024, 1, 1),
    catchup=False,
    params={
        "sources": Param([], type="array", description="Parquet files, one mapped load each"),
        "domain_name": Param("celery-backfill", type="string"),
        "object_type_name": Param("Backfill", type="string"),
    },
):

    @task
    def sources(params: dict[str, Any] | None = None) -> list[str]:
        assert params is not None
        return params["sources"]

    ParquetToCustomerProfilesOperator.partial(
        task_id="load",
        domain_name="{{ params.domain_name }}",
        object_type_name="{{ params.object_type_name }}",
        max_failed_ratio=0.05,
        quota_conn_id="cp_quota",
        aws_conn_id="aws_default",
        retries=1,
        retry_delay=dt.timedelta(seconds=1),
    ).expand(source=sources())
