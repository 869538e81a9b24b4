"""
Nightly match export: identity-resolution matches -> partitioned Parquet -> a warehouse table.

The service runs identity resolution weekly; this DAG runs nightly and is idempotent per
match generation date, so six nights out of seven the exports find their partition complete
and skip it after one API call, and the load replaces that date's rows with the same rows.
The domain and its result-file export are set up by ``example_identity_resolution``.

1. ``create_bucket``: the S3 bucket of the Parquet datasets, created when missing.
2. ``wait_for_identity_resolution`` waits in the triggerer (deferrable, no worker slot held) for
   the domain's identity-resolution job (``job_id``, or when empty the first job starting in the
   day before the run's end) and returns its id and result location.
3. ``export_matches`` writes every GetMatches page to ``s3://{bucket}/matches/match_generation_date=YYYY-MM-DD/``,
   logging progress while it runs and a summary (groups, rows, group sizes, confidence) at the end.
4. ``export_job_results`` reads the job's S3 result files into the same dataset layout under
   ``s3://{bucket}/identity-resolution-results/`` (with ``job_id`` filled).
5. ``load_matches`` replaces that generation date's rows in ``table`` (created when missing)
   through any common.sql connection (SQLite and PostgreSQL tested; PostgreSQL loads with COPY).

Copy and adapt: set the run parameters' defaults (connections, domain, bucket, table). To try it
against the local Customer Profiles service, give the ``aws`` connection the extra
``{"region_name": "us-east-1", "service_config": {"customer-profiles": {"endpoint_url": "http://127.0.0.1:PORT"},
"s3": {"endpoint_url": "http://127.0.0.1:S3PORT"}}}``.
"""

from __future__ import annotations

import datetime as dt

from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator
from airflow.sdk import DAG, AssetAlias, Param

from airflow_provider_customerprofiles.sensors.customer_profiles import CustomerProfilesIdentityResolutionJobSensor
from airflow_provider_customerprofiles.transfers.identity_resolution_results_to_parquet import (
    CustomerProfilesIdentityResolutionResultsToParquetOperator,
)
from airflow_provider_customerprofiles.transfers.matches_to_parquet import CustomerProfilesMatchesToParquetOperator
from airflow_provider_customerprofiles.transfers.matches_to_sql import CustomerProfilesMatchesToSqlOperator

AWS_CONN_ID = "{{ params.aws_conn_id }}"
DOMAIN_NAME = "{{ params.domain_name }}"
# The destinations are templated, so the asset events go through an alias (resolved to the URI at run time).
MATCHES_ASSET = AssetAlias("customer-profiles-matches")
RESULTS_ASSET = AssetAlias("customer-profiles-identity-resolution-results")

with DAG(
    dag_id="example_nightly_match_export",
    description="Export identity-resolution matches to partitioned Parquet and load them into a SQL table",
    doc_md=__doc__,
    schedule="@daily",
    start_date=dt.datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["customer-profiles", "example"],
    params={
        "aws_conn_id": Param(
            "aws_default", type="string", description="Airflow aws connection for Customer Profiles and S3"
        ),
        "sql_conn_id": Param(
            "customer_profiles_warehouse",
            type="string",
            description="Airflow connection of the warehouse (any common.sql database: PostgreSQL, SQLite, ...)",
        ),
        "domain_name": Param("retail", type="string", description="Customer Profiles domain with matching enabled"),
        "job_id": Param(
            None,
            type=["null", "string"],
            description="Identity-resolution job to export; empty: the first job of the day before the run's end",
        ),
        "bucket": Param(
            "customer-profiles-examples",
            type="string",
            description="S3 bucket of the Parquet match datasets; created when missing",
        ),
        "table": Param("customer_profile_matches", type="string", description="Warehouse table, created when missing"),
    },
) as dag:
    create_bucket = S3CreateBucketOperator(
        task_id="create_bucket", bucket_name="{{ params.bucket }}", aws_conn_id=AWS_CONN_ID
    )
    wait_for_job = CustomerProfilesIdentityResolutionJobSensor(
        task_id="wait_for_identity_resolution",
        domain_name=DOMAIN_NAME,
        job_id="{{ params.job_id or '' }}",  # '' (not "None") when no job is given
        # The day before the run's end: a run triggered from the UI has a zero-length interval at the
        # moment of the click, which would otherwise wait for next week's job.
        started_after="{{ (data_interval_end - macros.timedelta(days=1)).isoformat() }}",
        deferrable=True,
        poke_interval=600,
        max_retries=24 * 6,  # a day of checks, one every ten minutes
        aws_conn_id=AWS_CONN_ID,
    )
    export_matches = CustomerProfilesMatchesToParquetOperator(
        task_id="export_matches",
        domain_name=DOMAIN_NAME,
        destination="s3://{{ params.bucket }}/matches",
        aws_conn_id=AWS_CONN_ID,
        outlets=[MATCHES_ASSET],
    )
    export_job_results = CustomerProfilesIdentityResolutionResultsToParquetOperator(
        task_id="export_job_results",
        domain_name=DOMAIN_NAME,
        job_id="{{ ti.xcom_pull(task_ids='wait_for_identity_resolution')['job_id'] }}",
        # Empty when the job exported nothing: the operator then asks the service, and says why it cannot read.
        exporting_location="{{ ti.xcom_pull(task_ids='wait_for_identity_resolution')['exporting_location'] or '' }}",
        destination="s3://{{ params.bucket }}/identity-resolution-results",
        aws_conn_id=AWS_CONN_ID,
        outlets=[RESULTS_ASSET],
    )
    load_matches = CustomerProfilesMatchesToSqlOperator(
        task_id="load_matches",
        source="{{ ti.xcom_pull(task_ids='export_matches')['uri'] }}",
        table="{{ params.table }}",
        conn_id="{{ params.sql_conn_id }}",
        aws_conn_id=AWS_CONN_ID,
    )

    create_bucket >> wait_for_job >> [export_matches, export_job_results]
    export_matches >> load_matches
