"""
Nightly snapshot sync: a full CRM export every night, but only the customers that changed are sent.

The CRM exports its whole customer table to Parquet every night; usually about 1% of the
rows changed. With ``sync_state_uri`` the load compares the snapshot with what the service
last accepted and sends only rows whose key is new or whose object changed; the rest are
counted as ``rows_unchanged`` (``rows_read = objects_written + dead_lettered + rows_unchanged``).
The state keeps a keyed hash of each key and a fingerprint of each object, never a key or
a value in clear.

Copy and adapt:

1. ``AWS_CONN_ID``: an Airflow ``aws`` connection. To run against the local Customer
   Profiles service, give it the extra
   ``{"region_name": "us-east-1", "service_config": {"customer-profiles": {"endpoint_url": "http://127.0.0.1:PORT"}}}``.
2. ``source``: replace the ``export_crm_snapshot`` task with the night's export, for example
   ``source="s3://my-lake/crm/customers/{{ ds }}/"``. Give the whole snapshot as one source
   (a prefix or a list): the sync cannot be used with ``.expand()``.
3. ``SYNC_STATE_URI``: one state per domain and object type, on S3 for distributed workers
   (e.g. ``"s3://my-lake/customer-profiles/sync-state/crm/Customer"``). Changing ``COLUMNS``
   makes the next run send every row once.

Try it without editing anything: trigger with ``night`` 1, then with ``night`` 2; the second
run sends only the 1% changed and 0.5% added customers.
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
DOMAIN_NAME = "crm-sync"
OBJECT_TYPE_NAME = "Customer"
SYNC_STATE_URI = "{{ params.sample_dir }}/sync_state/crm-sync/Customer"
DEAD_LETTER_URI = "{{ params.sample_dir }}/dead_letters"
CHECKPOINT_URI = "{{ params.sample_dir }}/checkpoints"
CHANGED_EVERY = 100  # the sample changes every 100th customer each night (1%)
ADDED_PER = 200  # and adds 0.5% new customers

CUSTOMER_FIELDS = {
    "customer_id": {"Source": "_source.CustomerId", "Target": "_profile.AccountNumber"},
    "email": {"Source": "_source.Email", "Target": "_profile.EmailAddress", "ContentType": "EMAIL_ADDRESS"},
    "points": {"Source": "_source.LoyaltyPoints", "Target": "_profile.Attributes.LoyaltyPoints"},
}
CUSTOMER_KEYS = {"_customerId": [{"StandardIdentifiers": ["PROFILE", "UNIQUE"], "FieldNames": ["customer_id"]}]}
# Parquet column -> object field. Columns not listed are neither sent nor compared.
COLUMNS = {"customer_id": "CustomerId", "email": "Email", "loyalty_points": "LoyaltyPoints", "tier": "Tier"}

with DAG(
    dag_id="example_snapshot_sync",
    description="Send only the customers that changed since the last nightly CRM snapshot",
    doc_md=__doc__,
    schedule="@daily",
    start_date=dt.datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,  # one run at a time per sync state: a second one would be refused
    tags=["customer-profiles", "example"],
    params={
        "aws_conn_id": Param("aws_default", type="string", description="Airflow aws connection for Customer Profiles"),
        "sample_dir": Param(
            "/tmp/customer_profiles_snapshot_sync",  # noqa: S108
            type="string",
            description="Directory for the sample snapshots, the sync state, checkpoints and dead letters",
        ),
        "sample_rows": Param(2000, type="integer", minimum=1, description="Customers in the first night's snapshot"),
        "night": Param(
            1,
            type="integer",
            minimum=1,
            description="Which night's sample snapshot to export: each night after the first changes 1% of the "
            "customers and adds 0.5% new ones",
        ),
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
        description="Customers from the CRM's nightly export",
        fields=CUSTOMER_FIELDS,
        keys=CUSTOMER_KEYS,
        allow_profile_creation=True,
        aws_conn_id=AWS_CONN_ID,
    )

    @task
    def export_crm_snapshot(params: dict[str, Any] | None = None) -> str:
        """Synthetic CRM customers (no real people) as the given night exports them. Replace with your export."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.parquet as pq

        assert params is not None
        night, first = params["night"], params["sample_rows"]
        ids = np.arange(first + (night - 1) * (first // ADDED_PER))
        points = ids * 10 + np.where(ids % CHANGED_EVERY == 0, night - 1, 0)
        table = pa.table(
            {
                "customer_id": [f"cust-{i:08d}" for i in ids],
                "email": [f"customer{i}@example.com" for i in ids],
                "loyalty_points": pa.array(points, pa.int64()),
                "tier": pa.array([("bronze", "silver", "gold")[i % 3] for i in ids]).dictionary_encode(),
            }
        )
        path = Path(params["sample_dir"]) / "crm" / f"night-{night}" / "customers.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
        return str(path)

    sync = ParquetToCustomerProfilesOperator(
        task_id="sync_customers",
        source=export_crm_snapshot(),
        domain_name=DOMAIN_NAME,
        object_type_name=OBJECT_TYPE_NAME,
        columns=COLUMNS,
        sync_state_uri=SYNC_STATE_URI,
        dead_letter_uri=DEAD_LETTER_URI,
        checkpoint_uri=CHECKPOINT_URI,
        max_failed_ratio=0.01,
        aws_conn_id=AWS_CONN_ID,
    )

    @task
    def report(result: dict[str, Any]) -> dict[str, int]:
        """One line per night: counts only."""
        counts = {key: result[key] for key in ("rows_read", "objects_written", "rows_unchanged", "dead_lettered")}
        print(f"Snapshot sync: {counts}")
        return counts

    create_domain >> put_object_type >> sync
    report(sync.output)
