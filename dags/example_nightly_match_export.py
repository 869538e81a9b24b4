"""
Nightly match export: identity-resolution matches -> partitioned Parquet -> a warehouse table.

The service runs identity resolution weekly; this DAG runs nightly and is idempotent per
match generation date, so six nights out of seven the exports find their partition complete
and skip it after one API call, and the load replaces that date's rows with the same rows.

1. ``wait_for_identity_resolution`` waits for the domain's identity-resolution job
   (``job_id``, or the first job starting in the run's data interval) and returns its id
   and result location.
2. ``export_matches`` writes every GetMatches page to ``{matches_uri}/match_generation_date=YYYY-MM-DD/``.
3. ``export_job_results`` reads the job's S3 result files into the same dataset layout under
   ``{results_uri}`` (with ``job_id`` filled), when the domain exports results to S3.
4. ``load_matches`` replaces that generation date's rows in ``table`` through any common.sql
   connection (SQLite and PostgreSQL tested; PostgreSQL loads with COPY).

Copy and adapt: set the run parameters' defaults (connections, domain, URIs, table). To try it
against the local Customer Profiles service, give the ``aws`` connection the extra
``{"region_name": "us-east-1", "service_config": {"customer-profiles": {"endpoint_url": "http://127.0.0.1:PORT"},
"s3": {"endpoint_url": "http://127.0.0.1:S3PORT"}}}``.
"""

from __future__ import annotations

import datetime as dt

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
    schedule="@daily",
    start_date=dt.datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["customer-profiles", "example"],
    params={
        "aws_conn_id": Param("aws_default", type="string"),
        "sql_conn_id": Param("matches_warehouse", type="string"),
        "domain_name": Param("retail", type="string"),
        "job_id": Param("", type="string", description="empty: the job that starts in the data interval"),
        "matches_uri": Param("s3://my-bucket/customer-profiles/matches", type="string"),
        "results_uri": Param("s3://my-bucket/customer-profiles/identity-resolution-results", type="string"),
        "table": Param("customer_profile_matches", type="string"),
    },
) as dag:
    wait_for_job = CustomerProfilesIdentityResolutionJobSensor(
        task_id="wait_for_identity_resolution",
        domain_name=DOMAIN_NAME,
        job_id="{{ params.job_id }}",
        aws_conn_id=AWS_CONN_ID,
        poke_interval=600,
        timeout=dt.timedelta(days=1).total_seconds(),
    )
    export_matches = CustomerProfilesMatchesToParquetOperator(
        task_id="export_matches",
        domain_name=DOMAIN_NAME,
        destination="{{ params.matches_uri }}",
        aws_conn_id=AWS_CONN_ID,
        outlets=[MATCHES_ASSET],
    )
    export_job_results = CustomerProfilesIdentityResolutionResultsToParquetOperator(
        task_id="export_job_results",
        domain_name=DOMAIN_NAME,
        job_id="{{ ti.xcom_pull(task_ids='wait_for_identity_resolution')['job_id'] }}",
        # Empty when the job exported nothing: the operator then asks the service, and says why it cannot read.
        exporting_location="{{ ti.xcom_pull(task_ids='wait_for_identity_resolution')['exporting_location'] or '' }}",
        destination="{{ params.results_uri }}",
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

    wait_for_job >> [export_matches, export_job_results]
    export_matches >> load_matches
