"""Run the Parquet load operator in a real DAG run in a fresh process (Airflow's metrics backend is chosen
once per process, from the environment the test sets). Arguments: JSON settings; prints the task's result."""

from __future__ import annotations

import json
import sys


def main(settings: dict) -> None:
    from airflow.sdk import DAG

    from airflow_provider_customerprofiles.testing import run_dag, xcom
    from airflow_provider_customerprofiles.transfers.parquet_to_customer_profiles import (
        ParquetToCustomerProfilesOperator,
    )

    with DAG("cp_ingest_metrics", schedule=None) as dag:
        ParquetToCustomerProfilesOperator(task_id="load", **settings)
    tis = run_dag(dag)
    print(json.dumps({"state": tis["load"].state, "result": xcom(tis["load"])}))


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
