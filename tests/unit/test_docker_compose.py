"""docker-compose.yaml is for users (no Docker engine here): check it with a real compose parser.

``docker compose config`` (the plugin) or Debian's ``docker-compose`` validates the file against
the Compose specification and prints it resolved (anchors merged, variables substituted); the
tests read that output, so they check what Compose would run, not only what YAML parses.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).parents[2]
AIRFLOW_SERVICES = ["airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"]
ONE_SHOT_SERVICES = ["airflow-init"]  # exits once done; the others wait for its successful completion


def compose_command() -> list[str]:
    """The compose CLI: the ``docker compose`` plugin if present, else ``docker-compose``."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    if standalone := shutil.which("docker-compose"):
        return [standalone]
    raise AssertionError(
        "No compose CLI found to validate docker-compose.yaml: install Debian's docker-compose "
        "(apt-get install docker-compose; ./dev.sh test does it) or the docker compose plugin"
    )


@pytest.fixture(scope="module")
def compose() -> dict:
    result = subprocess.run(
        [*compose_command(), "--project-directory", str(REPO), "-f", str(REPO / "docker-compose.yaml"), "config"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin"},  # no AIRFLOW_UID or AIRFLOW_PROJ_DIR: the defaults
    )
    assert result.returncode == 0, f"compose refused docker-compose.yaml: {result.stderr}"
    return yaml.safe_load(result.stdout)


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def test_airflow_runs_every_airflow_3_component_on_one_image_built_from_the_dockerfile(services):
    builds = {json.dumps(services[name]["build"], sort_keys=True) for name in AIRFLOW_SERVICES + ONE_SHOT_SERVICES}
    assert len(builds) == 1
    assert services["airflow-scheduler"]["build"]["dockerfile"] == "Dockerfile"
    commands = {
        " ".join(services[name]["command"])
        if isinstance(services[name]["command"], list)
        else services[name]["command"]
        for name in AIRFLOW_SERVICES
    }
    assert commands == {"api-server", "scheduler", "dag-processor", "triggerer"}


def test_the_dockerfile_installs_the_provider_with_the_constraints_on_the_pinned_airflow():
    dockerfile = (REPO / "Dockerfile").read_text()
    pinned = next(
        line.split("==")[1]
        for line in (REPO / "constraints.txt").read_text().splitlines()
        if line.startswith("apache-airflow==")
    )
    assert f"ARG AIRFLOW_IMAGE=apache/airflow:{pinned}-python3.11" in dockerfile
    assert "pip install --no-cache-dir --constraint /opt/provider/constraints.txt /opt/provider" in dockerfile


def test_nothing_is_installed_at_container_start(services):
    for name, service in services.items():
        assert "_PIP_ADDITIONAL_REQUIREMENTS" not in service.get("environment", {}), name
        assert "pip install" not in json.dumps(service.get("command", "")), name


def test_every_long_running_service_has_a_healthcheck_and_dependants_wait_for_it(services):
    for name, service in services.items():
        if name not in ONE_SHOT_SERVICES:
            assert service.get("healthcheck", {}).get("test"), name
        for dependency, condition in service.get("depends_on", {}).items():
            expected = "service_completed_successfully" if dependency in ONE_SHOT_SERVICES else "service_healthy"
            assert condition["condition"] == expected, f"{name} -> {dependency}"


def test_the_local_service_runs_from_its_own_slim_image_with_aws_quotas(services):
    service = services["customer-profiles"]
    assert service["build"]["dockerfile"] == "Dockerfile.local-service"
    dockerfile = (REPO / "Dockerfile.local-service").read_text()
    assert "FROM python:3.11-slim" in dockerfile
    installs = [line for line in dockerfile.splitlines() if "pip install" in line]
    assert installs and not any("airflow" in line for line in installs)  # no Airflow in the service's image
    assert any("./local-service" in line for line in installs)  # its own distribution, from the repository
    assert 'ENTRYPOINT ["customer-profiles-local"]' in dockerfile
    command = " ".join(service["command"])
    assert "--quotas aws" in command and "--port 4566" in command and "--host 0.0.0.0" in command
    assert "/_emulator/metrics" in " ".join(service["healthcheck"]["test"])


def test_airflow_runs_as_the_host_user_with_the_official_mounts(services):
    for name in AIRFLOW_SERVICES:
        service = services[name]
        assert service["user"] == "50000:0", name  # ${AIRFLOW_UID:-50000}
        targets = {
            volume.split(":")[1] if isinstance(volume, str) else volume["target"] for volume in service["volumes"]
        }
        assert {"/opt/airflow/dags", "/opt/airflow/logs", "/opt/airflow/config", "/opt/airflow/plugins"} <= targets


def test_the_aws_connection_points_at_services_that_exist(services):
    env = services["airflow-scheduler"]["environment"]
    extra = json.loads(env["AIRFLOW_CONN_AWS_DEFAULT"])["extra"]
    for service, url in [(k, v["endpoint_url"]) for k, v in extra["service_config"].items()]:
        host, port = url.removeprefix("http://").split(":")
        assert host in services, service
        published = [
            str(p.get("target")) if isinstance(p, dict) else p.rsplit(":", 1)[-1].removesuffix("/tcp")
            for p in services[host].get("ports", [])
        ]
        assert port in published, service


def test_local_services_are_published_on_loopback_only(services):
    for name, service in services.items():
        for port in service.get("ports", []):
            host_ip = port.get("host_ip") if isinstance(port, dict) else port.split(":")[0]
            assert host_ip == "127.0.0.1", name
