"""Shared fixtures: Airflow on a throwaway SQLite home, moto's S3 server, and the PostgreSQL check.

The local Customer Profiles service fixtures (``customer_profiles_emulator`` and
``customer_profiles_emulator_factory``) come from the ``customer-profiles-local`` distribution's
pytest plugin; here they also get an Airflow ``aws`` connection that reaches the service.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from airflow_provider_customerprofiles.testing import DEFAULT_CONN_ID, LocalServiceConnection

# Airflow reads its configuration at import time: point it at a private home first.
_AIRFLOW_HOME = Path(os.environ.get("CP_TEST_AIRFLOW_HOME") or tempfile.mkdtemp(prefix="cp-airflow-home-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{_AIRFLOW_HOME}/airflow.db")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(Path(__file__).parents[1] / "dags"))
# botocore must never find real credentials or config on a developer's machine.
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated Airflow metadata database (SQLite), for ``dag.test()``."""
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        check=True,
        capture_output=True,
        env=os.environ.copy(),
    )
    return _AIRFLOW_HOME


@pytest.fixture
def customer_profiles_emulator_factory(customer_profiles_emulator_factory, monkeypatch):
    """The local service's factory; each service started is also the Airflow connection ``conn_id``."""

    def start(conn_id: str = DEFAULT_CONN_ID, **knobs) -> LocalServiceConnection:
        service = LocalServiceConnection(customer_profiles_emulator_factory(**knobs), conn_id)
        monkeypatch.setenv(service.env_var, service.connection_uri())
        return service

    return start


@pytest.fixture(scope="session")
def moto_s3_server():
    """moto's S3 in server mode: a real HTTP endpoint on loopback. Yields its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(moto_s3_server, request) -> str:
    """A new, empty bucket on the moto S3 server; returns its name."""

    name = "cp-test-" + request.node.name.lower().replace("_", "-")[:40].strip("-[]") + "-" + os.urandom(3).hex()
    name = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in name)
    s3_client(moto_s3_server).create_bucket(Bucket=name)
    return name


def s3_client(endpoint_url: str):
    """A boto3 S3 client for the moto server (tests only)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """The PostgreSQL server on this machine; fails (never skips) when it is not reachable."""
    try:
        with socket.create_connection((POSTGRES_HOST, POSTGRES_PORT), timeout=3):
            pass
    except OSError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable on {POSTGRES_HOST}:{POSTGRES_PORT} ({exc}). These tests need it: "
            "start it (for example `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`).",
            pytrace=False,
        )
    return f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/test"


# Hypothesis: "default" keeps ./dev.sh test bounded and repeatable (derandomize: the same examples every run,
# print_blob: a failure prints the @reproduce_failure line); "thorough" (--hypothesis-profile=thorough) searches far
# more, with fresh randomness each run. Tests that cost more per example scale their count from the loaded profile.
settings.register_profile(
    "default",
    max_examples=40,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "thorough",
    max_examples=1000,
    derandomize=False,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("default")
