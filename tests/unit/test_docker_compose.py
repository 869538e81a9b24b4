"""docker-compose.yaml is for users (no Docker engine here): check it by parsing it."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

COMPOSE = yaml.safe_load((Path(__file__).parents[2] / "docker-compose.yaml").read_text())
SERVICES = COMPOSE["services"]
AIRFLOW_SERVICES = [
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
]


def test_airflow_runs_every_airflow_3_component_on_one_image():
    images = {SERVICES[name]["image"] for name in AIRFLOW_SERVICES}
    assert len(images) == 1 and next(iter(images)).startswith("apache/airflow:3.")
    commands = {SERVICES[name]["command"] for name in AIRFLOW_SERVICES if name != "airflow-init"}
    assert commands == {"api-server", "scheduler", "dag-processor", "triggerer"}


def test_the_aws_connection_points_at_services_that_exist():
    env = SERVICES["airflow-scheduler"]["environment"]
    extra = json.loads(env["AIRFLOW_CONN_AWS_DEFAULT"])["extra"]
    for service, url in [(k, v["endpoint_url"]) for k, v in extra["service_config"].items()]:
        host, port = url.removeprefix("http://").split(":")
        assert host in SERVICES, service
        published = [p.rsplit(":", 1)[-1] for p in SERVICES[host].get("ports", [])]
        assert port in published or port in " ".join(map(str, SERVICES[host].get("command", []))), service


def test_local_services_are_published_on_loopback_only():
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), name


def test_the_emulator_runs_this_provider_with_aws_quotas():
    command = " ".join(SERVICES["customer-profiles"]["command"])
    assert "python -m airflow_provider_customerprofiles.emulator" in command
    assert "--quotas aws" in command and "--port 4566" in command


def test_dags_and_provider_are_mounted():
    volumes = SERVICES["airflow-scheduler"]["volumes"]
    assert "./dags:/opt/airflow/dags" in volumes
    assert any(v.startswith("./:/opt/provider") for v in volumes)
