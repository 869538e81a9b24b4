"""
The main job: run the example pipelines end to end on this machine, with no AWS account.

Starts the local Customer Profiles service and moto's S3 server on loopback, points
Airflow's ``aws_default`` connection at them, then runs a short tour through the hook.
Run it with ``./dev.sh demo``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


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

    from airflow_provider_customerprofiles.emulator import CustomerProfilesServer, EmulatorConfig, Knobs

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
    os.environ["AIRFLOW_CONN_AWS_DEFAULT"] = json.dumps(
        {
            "conn_type": "aws",
            "login": "demo",
            "password": "demo",
            "extra": {
                "region_name": "us-east-1",
                "service_config": {
                    "customer-profiles": {"endpoint_url": profiles_url},
                    "s3": {"endpoint_url": s3_url},
                },
            },
        }
    )
    os.environ["AIRFLOW_CONN_CUSTOMER_PROFILES_WAREHOUSE"] = f"sqlite:///{warehouse}"


def hook_tour() -> None:
    """Create a domain and an object type, put objects, and search the profiles they built."""
    from airflow_provider_customerprofiles.hooks.customer_profiles import CustomerProfilesHook

    client = CustomerProfilesHook(aws_conn_id="aws_default").conn
    domain = "demo-hook-tour"
    client.create_domain(DomainName=domain, DefaultExpirationDays=30)
    client.put_profile_object_type(
        DomainName=domain,
        ObjectTypeName="Customer",
        Description="CRM customers",
        AllowProfileCreation=True,
        Fields={
            "customer_id": {"Source": "_source.customer_id", "Target": "_profile.AccountNumber"},
            "email": {
                "Source": "_source.email",
                "Target": "_profile.EmailAddress",
                "ContentType": "EMAIL_ADDRESS",
            },
            "first_name": {
                "Source": "_source.first_name",
                "Target": "_profile.FirstName",
                "ContentType": "NAME",
            },
        },
        Keys={
            "_customerId": [{"StandardIdentifiers": ["UNIQUE", "PROFILE"], "FieldNames": ["customer_id"]}],
        },
    )
    rows = [{"customer_id": f"C{i:03d}", "email": f"person{i}@example.com", "first_name": "Demo"} for i in range(25)]
    for start in range(0, len(rows), 10):
        batch = rows[start : start + 10]
        answer = client.batch_put_profile_object(
            DomainName=domain,
            ObjectTypeName="Customer",
            Items=[{"Id": f"row{start + i}", "Object": json.dumps(row)} for i, row in enumerate(batch)],
        )
        if answer.get("Failed"):
            raise SystemExit(f"{len(answer['Failed'])} objects failed in batch starting at row {start}")
    found = client.search_profiles(DomainName=domain, KeyName="_customerId", Values=["C007"])["Items"]
    stats = client.get_domain(DomainName=domain)["Stats"]
    print(
        f"hook tour: put {len(rows)} objects; domain has {stats['ProfileCount']} profiles, "
        f"{stats['ObjectCount']} objects; search by _customerId found {len(found)} profile(s)"
    )
    if stats["ProfileCount"] != len(rows) or len(found) != 1:
        raise SystemExit("hook tour: the local service did not build the expected profiles")


def main() -> int:
    work = Path(os.environ.get("CP_DEMO_DIR") or tempfile.mkdtemp(prefix="customer-profiles-demo-"))
    configure_airflow(work / "airflow-home")
    with local_services() as (profiles, s3_url):
        point_connections(profiles.url, s3_url, work / "warehouse.db")
        print(f"local Customer Profiles service: {profiles.url}   moto S3: {s3_url}   work dir: {work}")
        hook_tour()
    print("demo finished")
    return 0


if __name__ == "__main__":
    sys.exit(main())
