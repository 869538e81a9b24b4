"""End to end in a browser: the deployment of ``tests/e2e/airflow_stack.py`` with every example DAG, the local
service and moto configured as ``docker-compose.yaml`` configures them, driven through the Airflow UI in headless
Debian Chromium with Playwright: each example is triggered from its trigger form with its defaults and must end in
success in the Grid view; the backfill's task log shows a progress line; a domain extra link has its console URL.

Screenshots go to a folder under the test's tmp dir (printed): one per DAG when it succeeds, and one of the page
in view when anything fails.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml
from playwright.sync_api import Page, sync_playwright

from tests.e2e.airflow_stack import airflow_stack

REPO = Path(__file__).parents[2]
DAGS = REPO / "dags"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Triggered in this order: the identity-resolution example creates the domain and matching that the match
# export reads, so the export goes last, as the docs tell users.
EXAMPLES = (
    "example_parquet_backfill",
    "example_integration_workflow",
    "example_snapshot_sync",
    "example_identity_resolution",
    "example_nightly_match_export",
)
RUN_TIMEOUT = 600  # seconds per run, on two cores that also run other suites
POLL_MS = 5_000
CONSOLE = "https://console.aws.amazon.com/connect/customerprofiles/home?region=us-east-1#/domains/"


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yaml").read_text())


def service_arguments(s3_url: str) -> list[str]:
    """The local service's arguments in docker-compose.yaml, bound to loopback and this test's moto."""
    arguments = list(compose()["services"]["customer-profiles"]["command"])
    overrides = {"--host": "127.0.0.1", "--port": "0", "--s3-endpoint-url": s3_url}
    for flag, value in overrides.items():
        arguments[arguments.index(flag) + 1] = value
    return arguments


def aws_connection(service_url: str, s3_url: str) -> str:
    """docker-compose.yaml's ``aws_default``, with this test's endpoints."""
    connection = json.loads(compose()["x-airflow-common"]["environment"]["AIRFLOW_CONN_AWS_DEFAULT"])
    endpoints = connection["extra"]["service_config"]
    endpoints["customer-profiles"]["endpoint_url"], endpoints["s3"]["endpoint_url"] = service_url, s3_url
    return json.dumps(connection)


@contextmanager
def local_service(s3_url: str, log: Path) -> Iterator[str]:
    """``python -m customer_profiles_local`` with compose's arguments; yields its URL."""
    with log.open("w") as errors:
        process = subprocess.Popen(
            [sys.executable, "-m", "customer_profiles_local", *service_arguments(s3_url)],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            line = process.stdout.readline()
            if "listening on " not in line:
                raise RuntimeError(f"the local service did not start; see {log}")
            yield line.rsplit(" ", 1)[1].strip()
        finally:
            process.terminate()
            process.wait(timeout=20)


def wait_for_api(base_url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base_url}/api/v2/version", timeout=5):  # noqa: S310 (http on loopback)
                return
        except OSError:
            time.sleep(2)
    raise TimeoutError(f"the api-server did not answer within {timeout} s")


class AirflowUI:
    """The few UI steps a new user takes, each by what the page shows."""

    def __init__(self, page: Page, base_url: str, artifacts: Path) -> None:
        self.page, self.base_url, self.artifacts = page, base_url, artifacts

    def screenshot(self, name: str) -> Path:
        path = self.artifacts / f"{name}.png"
        self.page.screenshot(path=path, full_page=True, timeout=30_000)
        return path

    def trigger_with_defaults(self, dag_id: str) -> str:
        """Open the trigger form, keep every default, and submit it; returns the new run's id.

        The form unpauses a paused DAG, so the scheduler may also start the latest scheduled run, and under
        ``max_active_runs=1`` run it first: a user sees both, and the manual run succeed after it.
        """
        self.page.goto(f"{self.base_url}/dags/{dag_id}")
        self.page.get_by_test_id("trigger-dag-button").click()
        submit = self.page.get_by_role("dialog").get_by_test_id("trigger-dag-submit")
        assert submit.is_enabled(), f"{dag_id}: the trigger form refuses its defaults"
        submit.click()
        # The UI may render one toast twice while it animates in (both copies carry the same toast id).
        self.page.get_by_text("Dag run has been successfully triggered").first.wait_for()
        self.page.wait_for_url(re.compile(rf"/dags/{dag_id}/runs/manual__"))  # the UI opens the new run
        return unquote(urlparse(self.page.url).path.rsplit("/runs/", 1)[1])

    def wait_for_success(self, dag_id: str, run_id: str) -> None:
        """Reload the run's page until its header shows it ended, then read every task's state from the Grid
        view's tooltips."""
        state = self.page.get_by_test_id("header-card").get_by_test_id("state-badge").first
        deadline = time.monotonic() + RUN_TIMEOUT
        while True:
            self.page.goto(f"{self.base_url}/dags/{dag_id}/runs/{run_id}")
            if state.inner_text().strip().lower() in ("success", "failed"):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{dag_id} {run_id}: still {state.inner_text()} after {RUN_TIMEOUT} s")
            self.page.wait_for_timeout(POLL_MS)
        cells = self.page.locator(f"[data-testid^='grid-{run_id}-']")
        cells.first.wait_for()
        states = {}
        for cell in cells.all():
            task_id = cell.get_attribute("href").split("/tasks/")[1].split("/")[0]  # mapped: .../tasks/ID/mapped
            cell.hover()
            tooltip = self.page.get_by_role("tooltip").filter(has_text=f"Task ID: {task_id}")
            states[task_id] = re.search(r"State: (\w+)", tooltip.inner_text())[1]
            self.page.mouse.move(0, 0)  # the tooltip would cover the next cell
            tooltip.wait_for(state="hidden")
        assert states and set(states.values()) == {"Success"}, f"{dag_id} {run_id}: {states}"


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    folder = tmp_path / "browser-artifacts"
    folder.mkdir()
    print(f"browser screenshots: {folder}")
    return folder


@pytest.mark.timeout(1800)  # minutes on a quiet machine; far more when two cores also run other suites
def test_every_example_dag_succeeds_from_the_ui(moto_s3_server, tmp_path, artifacts):
    assert CHROMIUM.exists(), "Debian's chromium is missing: ./dev.sh test installs it (apt-get install chromium)"
    with local_service(moto_s3_server, tmp_path / "local-service.log") as service_url:
        env = {
            "AIRFLOW_CONN_AWS_DEFAULT": aws_connection(service_url, moto_s3_server),
            "AIRFLOW_CONN_CUSTOMER_PROFILES_WAREHOUSE": json.dumps(
                {"conn_type": "sqlite", "host": str(tmp_path / "warehouse.db")}
            ),
            # as docker-compose.yaml: the simple auth manager with everyone admin, no login
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            # tasks wait longer for a busy api-server (two cores run this whole deployment)
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
        }
        with airflow_stack(tmp_path / "airflow-home", DAGS, env) as stack, sync_playwright() as playwright:
            base_url = f"http://127.0.0.1:{stack.env['AIRFLOW__API__PORT']}"
            wait_for_api(base_url)
            for dag_id in EXAMPLES:
                stack.wait_for_dag(dag_id)
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120_000)  # pages load slowly while the deployment works on two cores
            ui = AirflowUI(page, base_url, artifacts)
            try:
                for dag_id in EXAMPLES:
                    run_id = ui.trigger_with_defaults(dag_id)
                    ui.wait_for_success(dag_id, run_id)
                    ui.screenshot(f"grid-{dag_id}")
                    if dag_id == "example_parquet_backfill":  # checked first: the other runs take minutes
                        check_backfill_log(ui, run_id)
                        check_domain_link(ui, run_id)
            except BaseException:
                print(f"failed at {page.url}; screenshot {ui.screenshot('failure')}; logs in {stack.home}")
                raise
            finally:
                browser.close()
    print("screenshots:", sorted(path.name for path in artifacts.iterdir()))


def check_backfill_log(ui: AirflowUI, run_id: str) -> None:
    """The first mapped load's log, searched in the UI for the progress line."""
    ui.page.goto(f"{ui.base_url}/dags/example_parquet_backfill/runs/{run_id}/tasks/backfill_orders/mapped/0")
    ui.page.get_by_test_id("log-search-input").fill("Ingest finished")
    progress = ui.page.get_by_text(re.compile(r"Ingest finished: rows (\d+)/\1 \(100\.0%\)")).first
    progress.wait_for()
    ui.screenshot("log-backfill_orders-0")


def check_domain_link(ui: AirflowUI, run_id: str) -> None:
    """The create_domain task's "Customer Profiles Domain" extra link opens the domain in the AWS console."""
    # The console is stubbed: the browser opens the link, and nothing leaves this machine.
    ui.page.context.route(
        re.compile(r"^https://console\.aws\.amazon\.com/"), lambda route: route.fulfill(body="console")
    )
    ui.page.goto(f"{ui.base_url}/dags/example_parquet_backfill/runs/{run_id}/tasks/create_domain/details")
    link = ui.page.get_by_role("link", name="Customer Profiles Domain")
    link.wait_for()
    ui.screenshot("extra-link-create_domain")
    with ui.page.context.expect_page() as opened:
        link.click()
    assert opened.value.url == CONSOLE + "retail-backfill"
