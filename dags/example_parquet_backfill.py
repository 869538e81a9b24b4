"""
Historical backfill: Parquet order history -> Customer Profiles ``Order`` objects, at the API quota.

Copy and adapt:

1. ``AWS_CONN_ID``: an Airflow ``aws`` connection. To run against the local Customer
   Profiles service, give it the extra
   ``{"region_name": "us-east-1", "service_config": {"customer-profiles": {"endpoint_url": "http://127.0.0.1:PORT"}}}``
   (add ``"s3": {"endpoint_url": ...}`` for an S3-compatible store).
2. ``sources``: replace the ``generate_sample_orders`` task with your files, for example
   ``.expand(source=["s3://my-bucket/orders/2019/", "s3://my-bucket/orders/2020/"])``:
   each entry becomes one mapped task with its own checkpoint and dead letters.
3. ``ORDER_FIELDS`` / ``ORDER_KEYS`` / ``COLUMNS``: your object type and how Parquet
   columns map onto it. The object type's UNIQUE key makes re-runs idempotent.
4. ``DEAD_LETTER_URI`` / ``CHECKPOINT_URI``: on S3 for distributed workers.

The run parameters (``aws_conn_id``, ``sample_dir``, ``sample_files``, ``sample_rows``)
let you try it without editing anything.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_customerprofiles.operators.customer_profiles import (
    CustomerProfilesCreateDomainOperator,
    CustomerProfilesPutObjectTypeOperator,
)
from airflow_provider_customerprofiles.transfers.parquet_to_customer_profiles import (
    ParquetToCustomerProfilesOperator,
)

AWS_CONN_ID = "{{ params.aws_conn_id }}"
DOMAIN_NAME = "retail-backfill"
OBJECT_TYPE_NAME = "Order"
DEAD_LETTER_URI = "{{ params.sample_dir }}/dead_letters"  # e.g. "s3://my-bucket/customer-profiles/dead-letters"
CHECKPOINT_URI = "{{ params.sample_dir }}/checkpoints"  # e.g. "s3://my-bucket/customer-profiles/checkpoints"

ORDER_FIELDS = {
    "order_id": {"Source": "_source.OrderId", "Target": "_profile.Attributes.LastOrderId"},
    "email": {"Source": "_source.Email", "Target": "_profile.EmailAddress", "ContentType": "EMAIL_ADDRESS"},
    "account": {"Source": "_source.AccountNumber", "Target": "_profile.AccountNumber"},
}
ORDER_KEYS = {
    "_orderId": [{"StandardIdentifiers": ["ORDER", "UNIQUE"], "FieldNames": ["order_id"]}],
    "_account": [{"StandardIdentifiers": ["PROFILE"], "FieldNames": ["account"]}],
}
# Parquet column -> object field. Columns not listed are not sent.
COLUMNS = {
    "order_id": "OrderId",
    "customer_email": "Email",
    "customer_account": "AccountNumber",
    "ordered_at": "OrderedAt",
    "total": "Total",
    "currency": "Currency",
    "lines": "Lines",
}

with DAG(
    dag_id="example_parquet_backfill",
    description="Backfill Customer Profiles Order objects from Parquet at the account's API quota",
    doc_md=__doc__,
    schedule=None,
    start_date=dt.datetime(2024, 1, 1),
    catchup=False,
    tags=["customer-profiles", "example"],
    params={
        "aws_conn_id": Param("aws_default", type="string", description="Airflow aws connection for Customer Profiles"),
        "sample_dir": Param(
            "/tmp/customer_profiles_backfill",  # noqa: S108
            type="string",
            description="Directory for the sample Parquet files, checkpoints and dead letters",
        ),
        "sample_files": Param(3, type="integer", minimum=1, description="Sample files, one mapped load each"),
        "sample_rows": Param(200, type="integer", minimum=1, description="Orders per sample file"),
    },
) as dag:
    create_domain = CustomerProfilesCreateDomainOperator(
        task_id="create_domain",
        domain_name=DOMAIN_NAME,
        default_expiration_days=365,
        aws_conn_id=AWS_CONN_ID,
    )
    put_object_type = CustomerProfilesPutObjectTypeOperator(
        task_id="put_object_type",
        domain_name=DOMAIN_NAME,
        object_type_name=OBJECT_TYPE_NAME,
        description="Orders backfilled from the data lake",
        fields=ORDER_FIELDS,
        keys=ORDER_KEYS,
        allow_profile_creation=True,
        aws_conn_id=AWS_CONN_ID,
    )

    @task
    def generate_sample_orders(params: dict[str, Any] | None = None) -> list[str]:
        """Synthetic orders (no real people), one Parquet file per year. Replace with your own files."""
        from decimal import Decimal

        import pyarrow as pa
        import pyarrow.parquet as pq

        assert params is not None
        out = Path(params["sample_dir"]) / "orders"
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        rows = params["sample_rows"]
        for n in range(params["sample_files"]):
            year = 2020 + n
            ids = range(n * rows, (n + 1) * rows)
            table = pa.table(
                {
                    "order_id": [f"ord-{i:08d}" for i in ids],
                    "customer_email": [f"customer{i % 50}@example.com" for i in ids],
                    "customer_account": [f"acct-{i % 50:04d}" for i in ids],
                    "ordered_at": pa.array(
                        [dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(hours=i) for i in ids],
                        pa.timestamp("us", "UTC"),
                    ),
                    "total": pa.array([Decimal(i % 997) / 100 for i in ids], pa.decimal128(12, 2)),
                    "currency": pa.array(["EUR"] * rows).dictionary_encode(),
                    "lines": [[{"sku": f"sku-{i % 13}", "qty": 1 + i % 3}] for i in ids],
                    "internal_note": ["not sent"] * rows,
                }
            )
            path = out / f"orders-{year}.parquet"
            pq.write_table(table, path)
            paths.append(str(path))
        return paths

    backfill = ParquetToCustomerProfilesOperator.partial(
        task_id="backfill_orders",
        domain_name=DOMAIN_NAME,
        object_type_name=OBJECT_TYPE_NAME,
        columns=COLUMNS,
        dead_letter_uri=DEAD_LETTER_URI,
        checkpoint_uri=CHECKPOINT_URI,
        max_failed_ratio=0.01,
        aws_conn_id=AWS_CONN_ID,
        max_active_tis_per_dag=1,  # the API quota is per account: one load at a time uses all of it
        map_index_template="{{ task.source }}",  # each mapped instance is shown by its file
    ).expand(source=generate_sample_orders())

    @task
    def report(results: list[dict[str, Any]]) -> dict[str, int]:
        """One line for the whole backfill: counts only."""
        totals = {key: sum(r[key] for r in results) for key in ("rows_read", "objects_written", "dead_lettered")}
        print(f"Backfill of {len(results)} source(s): {totals}")
        return totals

    create_domain >> put_object_type >> backfill
    report(backfill.output)
