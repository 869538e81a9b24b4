"""The provider wheel on its own: no pytest plugin, no console script, no local-service code.

Installing the provider into a production Airflow image must not load anything into pytest or put
commands on PATH; the local service is its own distribution (local-service/). The wheel is built
for real (pip wheel, hatchling through build isolation) and read as installers read it.
"""

from __future__ import annotations

import configparser
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(REPO)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, f"pip wheel failed (hatchling comes from PyPI): {build.stderr[-2000:]}"
    (path,) = out.glob("airflow_provider_customerprofiles-*.whl")
    with zipfile.ZipFile(path) as archive:
        yield archive


def _dist_info(wheel: zipfile.ZipFile, name: str) -> str:
    (member,) = [n for n in wheel.namelist() if n.endswith(f".dist-info/{name}")]
    return wheel.read(member).decode()


def test_the_wheel_registers_only_the_airflow_provider_entry_point(wheel):
    entry_points = configparser.ConfigParser()
    entry_points.read_string(_dist_info(wheel, "entry_points.txt"))
    assert entry_points.sections() == ["apache_airflow_provider"]  # no pytest11, no console_scripts
    assert dict(entry_points["apache_airflow_provider"]) == {
        "provider_info": "airflow_provider_customerprofiles:get_provider_info"
    }


def test_the_wheel_holds_no_local_service_code(wheel):
    names = wheel.namelist()
    assert "airflow_provider_customerprofiles/__init__.py" in names
    local_service = [n for n in names if "customer_profiles_local" in n or "emulator" in n or "pytest_plugin" in n]
    assert local_service == []


def test_the_local_service_is_required_only_by_the_test_extra(wheel):
    requirements = [
        Requirement(line.removeprefix("Requires-Dist: "))
        for line in _dist_info(wheel, "METADATA").splitlines()
        if line.startswith("Requires-Dist: ")
    ]
    (local,) = [r for r in requirements if r.name == "customer-profiles-local"]
    assert local.marker is not None
    assert local.marker.evaluate({"extra": "test"}) and not local.marker.evaluate({"extra": ""})
