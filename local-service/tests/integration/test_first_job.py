"""The first identity-resolution job after matching is turned on (AWS: "within 24 hours" of enabling).

Started the way a deployment starts the service: the CLI (``--first-job-delay-seconds``) for the knob
itself, and ``EmulatorConfig`` for the lifecycle, driven by the service clock.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import boto3
import pytest
from helpers import PATIENT_RETRIES
from lifecycle_support import advance, create_domain

from customer_profiles_local.pytest_plugin import ServiceEndpoint
from customer_profiles_local.server import CustomerProfilesServer
from customer_profiles_local.state import EmulatorConfig

DELAY = 30.0
PHASE = 1.0
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
# The weekly run three days away, so it never falls inside the minutes these tests cover.
_FAR = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)
MATCHING = {"Enabled": True, "JobSchedule": {"DayOfTheWeek": DAYS[_FAR.weekday()], "Time": "12:00"}}


def start_service(first_job_delay_seconds: float | None) -> ServiceEndpoint:
    config = EmulatorConfig(first_job_delay_seconds=first_job_delay_seconds)
    server = CustomerProfilesServer("127.0.0.1", 0, config=config).start_background()
    endpoint = ServiceEndpoint(server, "testing", "testing")
    endpoint.admin("POST", "settings", {"JobPhaseSeconds": PHASE})
    return endpoint


@pytest.fixture
def service():
    endpoint = start_service(DELAY)
    yield endpoint
    endpoint.server.stop()


def jobs(client, domain: str = "retail") -> list[dict]:
    listed = client.list_identity_resolution_jobs(DomainName=domain)["IdentityResolutionJobsList"]
    return sorted(listed, key=lambda job: job["JobStartTime"])


def enabled_at(client, domain: str = "retail") -> dt.datetime:
    return client.get_domain(DomainName=domain)["LastUpdatedAt"]


def test_first_job_starts_the_delay_after_matching_is_enabled_then_the_weekly_one(service):
    client = service.client(**PATIENT_RETRIES)  # UpdateDomain: 1 TPS, called back to back
    create_domain(client, "retail", Matching=MATCHING)
    created = enabled_at(client)

    first, weekly = jobs(client)
    assert first["Status"] == weekly["Status"] == "PENDING"
    assert first["JobStartTime"] == created + dt.timedelta(seconds=DELAY)
    assert weekly["JobStartTime"] - created > dt.timedelta(days=2)

    advance(service, DELAY + 3 * PHASE)
    first_now, weekly_now = jobs(client)
    assert (first_now["JobId"], first_now["Status"]) == (first["JobId"], "COMPLETED")
    assert (weekly_now["JobId"], weekly_now["Status"]) == (weekly["JobId"], "PENDING")
    assert client.get_matches(DomainName="retail")["MatchGenerationDate"] >= first["JobStartTime"]


def test_enabling_matching_on_an_existing_domain_schedules_one_first_job(service):
    client = service.client(**PATIENT_RETRIES)  # UpdateDomain: 1 TPS, called back to back
    create_domain(client, "retail")
    assert jobs(client) == []
    advance(service, 60)

    client.update_domain(DomainName="retail", Matching=MATCHING)
    turned_on = enabled_at(client)
    first = jobs(client)[0]
    assert first["JobStartTime"] == turned_on + dt.timedelta(seconds=DELAY)

    # Later updates with matching still on (an idempotent set-up task) add no further first job.
    advance(service, DELAY + 3 * PHASE)
    client.update_domain(DomainName="retail", Matching=MATCHING, DefaultExpirationDays=90)
    advance(service, DELAY + 3 * PHASE)
    assert [job["JobId"] for job in jobs(client)][:1] == [first["JobId"]]
    assert len(jobs(client)) == 2  # the first job and the weekly one


def test_disabling_matching_before_the_first_job_starts_deletes_it_and_re_enabling_schedules_another(service):
    client = service.client(**PATIENT_RETRIES)  # UpdateDomain: 1 TPS, called back to back
    create_domain(client, "retail", Matching=MATCHING)
    [first, _weekly] = jobs(client)

    client.update_domain(DomainName="retail", Matching={"Enabled": False})
    assert jobs(client) == []

    advance(service, 10)
    client.update_domain(DomainName="retail", Matching=MATCHING)
    again, _weekly = jobs(client)
    assert again["JobId"] != first["JobId"]
    assert again["JobStartTime"] == enabled_at(client) + dt.timedelta(seconds=DELAY)


def test_without_the_knob_only_the_weekly_job_is_scheduled():
    endpoint = start_service(None)
    try:
        client = endpoint.client(**PATIENT_RETRIES)
        create_domain(client, "retail", Matching=MATCHING)
        [weekly] = jobs(client)
        assert weekly["JobStartTime"] - enabled_at(client) > dt.timedelta(days=2)
    finally:
        endpoint.server.stop()


def run_cli(*args: str) -> tuple[subprocess.Popen, str]:
    """Start ``python -m customer_profiles_local`` on a free port; returns the process and its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "customer_profiles_local", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    line = process.stdout.readline()
    assert "listening on " in line, process.stderr.read() if process.poll() is not None else line
    return process, line.rsplit(" ", 1)[1].strip()


@pytest.mark.parametrize(("args", "delay"), [(["--first-job-delay-seconds", "45"], 45.0), ([], 24 * 3600.0)])
def test_the_cli_knob_and_its_default_of_24_hours(args, delay):
    process, url = run_cli(*args)
    try:
        client = boto3.client(
            "customer-profiles",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        create_domain(client, "retail", Matching=MATCHING)
        first = jobs(client)[0]
        assert first["JobStartTime"] == enabled_at(client) + dt.timedelta(seconds=delay)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_cli_refuses_a_negative_delay():
    done = subprocess.run(
        [sys.executable, "-m", "customer_profiles_local", "--port", "0", "--first-job-delay-seconds", "-1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert "--first-job-delay-seconds" in done.stderr
