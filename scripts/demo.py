"""
The main job: run the example pipelines end to end on this machine, with no AWS account.

Starts the local Customer Profiles service (with the AWS quotas on) and moto's S3
server on loopback, points Airflow's ``aws_default`` connection at them and
``customer_profiles_warehouse`` at SQLite, then runs every example DAG in ``dags/`` with
``dag.test()``: the Parquet backfill, two nights of the snapshot sync (the second sends
only the changes), an integration workflow, identity resolution with a dry-run merge,
and the nightly match export into the warehouse.
Run it with ``./dev.sh demo``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DAGS = REPO / "dags"
IR_DOMAIN = "retail"
DUPLICATE_PAIRS = 4
DISTINCT_PEOPLE = 3


def configure_airflow(home: Path) -> None:
    """A private Airflow home on SQLite; must run before Airflow is imported."""
    home.mkdir(parents=True, exist_ok=True)
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home}/airflow.db"
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")


@contextmanager
def local_services():
    """The local Customer Profiles service and moto's S3 server, both over HTTP on 127.0.0.1."""
    from moto.server import ThreadedMotoServer

    from customer_profiles_local import CustomerProfilesServer, EmulatorConfig, Knobs

    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    s3_url = "http://{}:{}".format(*moto.get_host_and_port())
    profiles = CustomerProfilesServer(
        "127.0.0.1", 0, Knobs(quotas="aws"), EmulatorConfig(s3_endpoint_url=s3_url)
    ).start_background()
    try:
        yield profiles, s3_url
    finally:
        profiles.stop()
        moto.stop()


def point_connections(profiles_url: str, s3_url: str, warehouse: Path) -> None:
    """Airflow connections, through AIRFLOW_CONN_* as Airflow reads them: AWS (both services) and SQLite."""
    from airflow_provider_customerprofiles.testing import aws_connection

    endpoints = {"customer-profiles": {"endpoint_url": profiles_url}, "s3": {"endpoint_url": s3_url}}
    os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = aws_connection(
        profiles_url, "demo", "demo", extra={"service_config": endpoints}
    )
    os.environ["AIRFLOW_CONN_CUSTOMER_PROFILES_WAREHOUSE"] = json.dumps({"conn_type": "sqlite", "host": str(warehouse)})


def prepare_identity_resolution(profiles_url: str, s3_url: str, bucket: str) -> None:
    """Play the CRM: a matching-enabled domain exporting to S3, and customers entered twice."""
    from airflow_provider_customerprofiles.hooks.customer_profiles import CustomerProfilesHook
    from airflow_provider_customerprofiles.testing import load_dag

    boto3_s3(s3_url).create_bucket(Bucket=bucket)
    client = CustomerProfilesHook(aws_conn_id="aws_default").conn
    # The example DAG's own matching settings, plus where the job writes its result files.
    matching = dict(load_dag(DAGS / "example_identity_resolution.py").get_task("configure_matching").matching)
    matching["ExportingConfig"] = {"S3Exporting": {"S3BucketName": bucket, "S3KeyName": "identity-resolution"}}
    client.create_domain(DomainName=IR_DOMAIN, DefaultExpirationDays=365, Matching=matching)
    for n in range(DUPLICATE_PAIRS):
        client.create_profile(
            DomainName=IR_DOMAIN,
            FirstName="Ann",
            LastName=f"Example{n}",
            EmailAddress=f"ann.example{n}@example.com",
            PhoneNumber=f"+1 555 010 {n:04d}",
        )
        client.create_profile(
            DomainName=IR_DOMAIN,
            FirstName="Anne",
            LastName=f"Example{n}",
            EmailAddress=f" ANN.EXAMPLE{n}@example.com ",
            PhoneNumber=f"(555) 010-{n:04d}",
        )
    for n in range(DISTINCT_PEOPLE):
        client.create_profile(
            DomainName=IR_DOMAIN, FirstName="Ann", LastName="Sample", EmailAddress=f"someone{n}@example.org"
        )


def boto3_s3(s3_url: str):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=s3_url,
        region_name="us-east-1",
        aws_access_key_id="demo",
        aws_secret_access_key="demo",  # noqa: S106
    )


def run_example(file_name: str, conf: dict, fast: dict[str, dict[str, float]] | None = None) -> dict:
    """Run one example DAG with ``dag.test()``; ``fast`` shortens polling intervals for the local service."""
    from airflow_provider_customerprofiles.testing import load_dag, run_dag, xcom

    dag = load_dag(DAGS / file_name)
    for task_id, attributes in (fast or {}).items():
        for name, value in attributes.items():
            setattr(dag.get_task(task_id), name, value)
    started = time.monotonic()
    tis = run_dag(dag, run_conf=conf)
    states = {task_id: ti.state for task_id, ti in tis.items()}
    print(f"\n== {dag.dag_id}: {time.monotonic() - started:.0f} s")
    for task_id, ti in tis.items():
        print(f"   {task_id:32s} {ti.state:8s} {summarize(xcom(ti))}")
    if set(states.values()) != {"success"}:
        raise SystemExit(f"{dag.dag_id} did not succeed: {states}")
    return {task_id: xcom(ti) for task_id, ti in tis.items()}


def summarize(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items() if not isinstance(v, dict | list))[:150]
    return "" if value is None else str(value)[:150]


def start_job_soon(profiles_url: str, delay: float = 3.0) -> threading.Timer:
    """The weekly identity-resolution job, started now: the local service's admin endpoint stands in for the week."""
    timer = threading.Timer(delay, admin_post, (profiles_url, f"domains/{IR_DOMAIN}/identity-resolution-jobs", {}))
    timer.start()
    return timer


def admin_post(profiles_url: str, path: str, body: dict) -> None:
    """POST to the local service's ``/_emulator`` admin surface, signed as a service with signing on requires."""
    from customer_profiles_local import call_admin

    call_admin(profiles_url, "POST", path, body, credentials=("demo", "demo"), timeout=10)


def run_snapshot_sync(sample_dir: Path, rows: int = 2000) -> None:
    """Two nights of the CRM export: the first sends every customer, the second only the changes."""
    nights = []
    for night in (1, 2):
        conf = {"sample_dir": str(sample_dir), "sample_rows": rows, "night": night}
        nights.append(run_example("example_snapshot_sync.py", conf)["report"])
    print()
    for night, counts in enumerate(nights, 1):
        print(
            f"snapshot sync, night {night}: {counts['rows_read']} rows read, {counts['objects_written']} objects "
            f"written, {counts['rows_unchanged']} rows unchanged (not sent)"
        )
    changed_and_added = len(range(0, rows, 100)) + rows // 200  # the sample changes 1% and adds 0.5% a night
    if nights[1]["objects_written"] != changed_and_added:
        raise SystemExit("the second night of the snapshot sync did not send exactly the changed and added rows")


def run_examples(profiles_url: str, s3_url: str, work: Path) -> None:
    bucket = "customer-profiles-demo"
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)
    admin_post(profiles_url, "settings", {"WorkflowStepSeconds": 1, "JobPhaseSeconds": 1})

    run_example(
        "example_parquet_backfill.py",
        {"sample_dir": str(work / "backfill"), "sample_files": 3, "sample_rows": 3000},
    )

    run_snapshot_sync(work / "snapshot_sync")

    run_example(
        "example_integration_workflow.py", {"domain_name": "retail-crm"}, fast={"run_workflow": {"waiter_delay": 1}}
    )

    prepare_identity_resolution(profiles_url, s3_url, bucket)
    timer = start_job_soon(profiles_url)
    try:
        ir = run_example(
            "example_identity_resolution.py",
            {"domain_name": IR_DOMAIN, "bucket": bucket, "min_confidence": 0.5},
            fast={"wait_for_identity_resolution": {"poke_interval": 1}},
        )
    finally:
        timer.join()

    warehouse = work / "warehouse.db"
    run_example(
        "example_nightly_match_export.py",
        {
            "domain_name": IR_DOMAIN,
            "job_id": ir["wait_for_identity_resolution"]["job_id"],
            "bucket": bucket,
            "table": "customer_profile_matches",
        },
        fast={"wait_for_identity_resolution": {"poke_interval": 1}},
    )
    with sqlite3.connect(warehouse) as db:
        rows, groups = db.execute("SELECT COUNT(*), COUNT(DISTINCT match_id) FROM customer_profile_matches").fetchone()
    print(
        f"\nwarehouse {warehouse}: customer_profile_matches holds {rows} rows in {groups} match groups "
        f"({DUPLICATE_PAIRS} customers were entered twice; {DISTINCT_PEOPLE} different people share a name)"
    )
    if groups != DUPLICATE_PAIRS:
        raise SystemExit("the match export did not find the duplicates it should have")


def main() -> int:
    work = Path(os.environ.get("CP_DEMO_DIR") or tempfile.mkdtemp(prefix="customer-profiles-demo-"))
    configure_airflow(work / "airflow-home")
    with local_services() as (profiles, s3_url):
        point_connections(profiles.url, s3_url, work / "warehouse.db")
        print(f"local Customer Profiles service: {profiles.url}   moto S3: {s3_url}   work dir: {work}")
        run_examples(profiles.url, s3_url, work)
    print("demo finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())
