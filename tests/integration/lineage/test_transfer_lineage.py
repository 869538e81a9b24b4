"""Every transfer, run by Airflow with the openlineage provider on, emits its inputs, outputs and row counts."""

from __future__ import annotations

import datetime as dt
import json
import os

import psycopg2
from airflow.sdk import DAG

from airflow_provider_customerprofiles.testing import run_dag, xcom
from airflow_provider_customerprofiles.transfers.identity_resolution_results_to_parquet import (
    CustomerProfilesIdentityResolutionResultsToParquetOperator,
)
from airflow_provider_customerprofiles.transfers.matches_to_parquet import CustomerProfilesMatchesToParquetOperator
from airflow_provider_customerprofiles.transfers.matches_to_sql import CustomerProfilesMatchesToSqlOperator
from airflow_provider_customerprofiles.transfers.parquet_to_customer_profiles import (
    ParquetToCustomerProfilesOperator,
)
from tests.conftest import POSTGRES_HOST, POSTGRES_PORT, s3_client
from tests.integration.ingest.support import DOMAIN, OBJECT_TYPE, create_target, write_rows
from tests.integration.lineage.conftest import MOTO_ACCOUNT, complete_event, datasets
from tests.integration.matches.test_identity_resolution_results import PAIRS, create_duplicates, run_job

START = dt.datetime(2026, 1, 1)
PROFILES_NAMESPACE = f"arn:aws:profile:us-east-1:{MOTO_ACCOUNT}"


def test_parquet_load_reads_s3_and_local_files_and_writes_the_object_type(
    airflow_db, lineage_service, openlineage_events, s3_bucket, tmp_path
):
    create_target(lineage_service.endpoint.client())
    write_rows(tmp_path / "upload.parquet", 30)
    s3_client(lineage_service.s3_url).upload_file(str(tmp_path / "upload.parquet"), s3_bucket, "orders/2026.parquet")
    write_rows(tmp_path / "local" / "part-0.parquet", 15, start=30)
    write_rows(tmp_path / "local" / "part-1.parquet", 5, start=45)
    with DAG("lineage_parquet_load", schedule=None, start_date=START) as dag:
        ParquetToCustomerProfilesOperator(
            task_id="load",
            source=[f"s3://{s3_bucket}/orders/2026.parquet", str(tmp_path / "local" / "*.parquet")],
            domain_name=DOMAIN,
            object_type_name=OBJECT_TYPE,
            dead_letter_uri=str(tmp_path / "dead"),
            checkpoint_uri=str(tmp_path / "checkpoints"),
            aws_conn_id=lineage_service.conn_id,
        )

    tis = run_dag(dag)

    assert tis["load"].state == "success"
    assert xcom(tis["load"])["objects_written"] == 50
    event = complete_event(openlineage_events(), "lineage_parquet_load", "load")
    assert datasets(event, "inputs") == [
        ("file", str(tmp_path / "local"), None),  # a glob is named by the directory it reads
        (f"s3://{s3_bucket}", "orders/2026.parquet", None),
    ]
    assert datasets(event, "outputs") == [(PROFILES_NAMESPACE, f"domains/{DOMAIN}/object-types/{OBJECT_TYPE}", 50)]


def test_match_exports_and_sql_loads_name_the_matches_the_partitions_and_the_tables(
    airflow_db, lineage_service, openlineage_events, s3_bucket, tmp_path, postgres_dsn, monkeypatch
):
    service = lineage_service
    client = service.endpoint.client()
    client.update_domain(
        DomainName=service.domain,
        Matching={"Enabled": True, "ExportingConfig": {"S3Exporting": {"S3BucketName": s3_bucket, "S3KeyName": "ir"}}},
    )
    create_duplicates(client, service.domain)
    job = run_job(service)
    warehouse = tmp_path / "warehouse.db"
    monkeypatch.setenv("AIRFLOW_CONN_LINEAGE_SQLITE", json.dumps({"conn_type": "sqlite", "host": str(warehouse)}))
    monkeypatch.setenv("AIRFLOW_CONN_LINEAGE_POSTGRES", postgres_dsn)
    pg_table = f"lineage_matches_{os.getpid()}"
    aws = {"domain_name": service.domain, "aws_conn_id": service.conn_id}
    with DAG("lineage_match_export", schedule=None, start_date=START) as dag:
        export = CustomerProfilesMatchesToParquetOperator(
            task_id="export", destination=f"s3://{s3_bucket}/matches", **aws
        )
        results = CustomerProfilesIdentityResolutionResultsToParquetOperator(
            task_id="results", job_id=job["JobId"], destination=str(tmp_path / "results"), **aws
        )
        to_sqlite = CustomerProfilesMatchesToSqlOperator(
            task_id="to_sqlite",
            source="{{ ti.xcom_pull(task_ids='export')['uri'] }}",
            table="matches",
            conn_id="lineage_sqlite",
            aws_conn_id=service.conn_id,
        )
        to_postgres = CustomerProfilesMatchesToSqlOperator(
            task_id="to_postgres",
            source="{{ ti.xcom_pull(task_ids='results')['uri'] }}",
            table=f"public.{pg_table}",
            conn_id="lineage_postgres",
        )
        export >> results >> to_sqlite >> to_postgres

    try:
        tis = run_dag(dag)
    finally:
        with psycopg2.connect(postgres_dsn) as conn, conn.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {pg_table}")

    assert {task: ti.state for task, ti in tis.items()} == dict.fromkeys(
        ["export", "results", "to_sqlite", "to_postgres"], "success"
    )
    rows = 2 * PAIRS
    exported, from_results = xcom(tis["export"])["uri"], xcom(tis["results"])["uri"]
    day = exported.rpartition("/")[2]
    assert day.startswith("match_generation_date=")
    assert from_results == f"file://{tmp_path}/results/{day}"
    events = openlineage_events()
    matches = (PROFILES_NAMESPACE, f"domains/{service.domain}/matches", None)

    export_event = complete_event(events, "lineage_match_export", "export")
    assert datasets(export_event, "inputs") == [matches]
    assert datasets(export_event, "outputs") == [(f"s3://{s3_bucket}", f"matches/{day}", rows)]

    results_event = complete_event(events, "lineage_match_export", "results")
    assert datasets(results_event, "inputs") == [matches, (f"s3://{s3_bucket}", f"ir/{job['JobId']}", None)]
    assert datasets(results_event, "outputs") == [("file", f"{tmp_path}/results/{day}", rows)]

    sqlite_event = complete_event(events, "lineage_match_export", "to_sqlite")
    assert datasets(sqlite_event, "inputs") == [(f"s3://{s3_bucket}", f"matches/{day}", None)]
    assert datasets(sqlite_event, "outputs") == [(f"sqlite://{warehouse}", "main.matches", rows)]

    postgres_event = complete_event(events, "lineage_match_export", "to_postgres")
    assert datasets(postgres_event, "inputs") == [("file", f"{tmp_path}/results/{day}", None)]
    assert datasets(postgres_event, "outputs") == [
        (f"postgres://{POSTGRES_HOST}:{POSTGRES_PORT}", f"test.public.{pg_table}", rows)
    ]


def test_an_unknown_account_leaves_only_the_customer_profiles_dataset_out(match_service, tmp_path, caplog, monkeypatch):
    """STS unreachable (a closed port): the lineage call still answers, with the other datasets."""
    from airflow.sdk.execution_time.context import OutletEventAccessors

    connection = json.loads(os.environ["AIRFLOW_CONN_CP_MATCHES"])
    connection["extra"]["service_config"]["sts"] = {"endpoint_url": "http://127.0.0.1:9"}
    monkeypatch.setenv("AIRFLOW_CONN_CP_MATCHES", json.dumps(connection))
    match_service.seed(groups=3)
    operator = CustomerProfilesMatchesToParquetOperator(
        task_id="export", domain_name=match_service.domain, destination=str(tmp_path), aws_conn_id="cp_matches"
    )
    result = operator.execute({"outlet_events": OutletEventAccessors()})

    lineage = operator.get_openlineage_facets_on_complete(None)

    assert lineage.inputs == []
    [output] = lineage.outputs
    assert (output.namespace, output.name) == ("file", result["uri"].removeprefix("file://"))
    assert output.outputFacets["outputStatistics"].rowCount == result["rows"] == 6
    assert "Customer Profiles dataset left out, the AWS account is unknown" in caplog.text
